"""SPEC §16.5: a password reset never bypasses the second factor.

Found by an attacker's pass: the ``code`` second factor skipped the address
that served as the first factor only when that first factor was a code.
After a reset the first factor is a password — but a password set through
a reset code is worth exactly that code. So whoever read one inbox (or held
one phone: a SIM swap) reset the password, signed in with it, and was sent
the second-step code at that same address. The address a reset code set the
password through is now the first factor's address for that password
(``User.password_reset_via``): the code factor goes elsewhere, or is not
offered, until a sign-in with that password passes another factor or the
password is set again."""

from __future__ import annotations

import pytest

from accounts.tests.helpers import assert_error, assert_ok, last_code_for
from conftest import STRONG_PASSWORD, CommitAPIClient, CommitClient

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
NEW = "Another-Horse-77-Staple!"


def _codes_on(user, address: dict) -> None:
    owner = CommitAPIClient()
    body = {**address, "password": STRONG_PASSWORD}
    session = assert_ok(owner.post(f"{API}/login", body, format="json"))
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    assert_ok(owner.post(f"{API}/mfa/code", format="json"))


def _reset(client, address: dict, destination: str) -> None:
    assert_ok(client.post(f"{API}/password/forgot", address, format="json"))
    body = {**address, "otp": last_code_for(destination), "new_password": NEW}
    assert_ok(client.post(f"{API}/password/reset", body, format="json"))


def _second_step(client, address: dict) -> dict:
    body = {**address, "password": NEW}
    return assert_error(client.post(f"{API}/login", body, format="json"), 401, "mfa_required")[
        "data"
    ]


def _code_asked(client, step: dict):
    """Ask the second step for a code (``/auth/mfa/challenge``, method code)."""
    body = {"mfa_token": step["mfa_token"], "method": "code"}
    return client.post(f"{API}/mfa/challenge", body, format="json")


def test_one_inbox_does_not_reset_and_pass_the_code_factor(user, api_client):
    address = {"email": user.email}
    _codes_on(user, address)
    _reset(api_client, address, user.email)
    step = _second_step(api_client, address)
    # The inbox was the first factor: no code to it is a second one.
    assert "code" not in step["methods"]
    assert "recovery_code" in step["methods"]
    refused = _code_asked(api_client, step)
    assert refused.status_code == 400, refused.content


def test_one_phone_does_not_reset_and_pass_the_code_factor(make_user, api_client, sms_outbox):
    victim = make_user(email="vic@example.com", phone="+14155550123")
    _codes_on(victim, {"email": victim.email})
    address = {"phone": victim.phone}
    _reset(api_client, address, victim.phone)
    step = _second_step(api_client, address)
    assert "code" in step["methods"]  # the other address can still be the second factor
    sms_outbox.clear()
    sent = assert_ok(_code_asked(api_client, step))
    assert sent["channel"] == "email"
    assert not sms_outbox, "a second-step code went to the phone that reset the password"


def test_after_another_factor_the_address_serves_as_second_factor_again(
    make_user, api_client, sms_outbox
):
    # The owner reset their own password and passed the second step with the
    # other address: the password is theirs, the phone is a second factor again.
    owner = make_user(email="own@example.com", phone="+14155550124")
    _codes_on(owner, {"email": owner.email})
    _reset(api_client, {"phone": owner.phone}, owner.phone)
    step = _second_step(api_client, {"phone": owner.phone})
    assert_ok(_code_asked(api_client, step))
    assert_ok(
        api_client.post(
            f"{API}/mfa/verify",
            {"mfa_token": step["mfa_token"], "method": "code", "code": last_code_for(owner.email)},
            format="json",
        )
    )
    owner.refresh_from_db()
    assert owner.password_reset_via == ""
    step = _second_step(CommitAPIClient(), {"email": owner.email})
    sent = assert_ok(_code_asked(api_client, step))
    assert sent["channel"] == "sms"


def test_a_password_change_ends_the_mark(user, api_client):
    _codes_on(user, {"email": user.email})
    user.password_reset_via = user.email
    user.save(update_fields=["password_reset_via"])
    owner = CommitAPIClient()
    step = assert_error(
        owner.post(
            f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        ),
        401,
        "mfa_required",
    )["data"]
    assert "code" not in step["methods"]
    # A change needs a full session (second step passed) and the password.
    from accounts.services.password import password_change
    from authsite.client import ClientInfo

    password_change(
        user=user, current_password=STRONG_PASSWORD, new_password=NEW, client=ClientInfo()
    )
    user.refresh_from_db()
    assert user.password_reset_via == ""


def test_the_pages_do_not_give_what_the_api_refuses(make_user, sms_outbox, clock):
    """The same attack through the pages: a SIM swap resets the password on
    the reset pages, signs in on the sign-in page, and asks the second-step
    page for a code — which must go to the email, never to the phone."""
    from accounts.tests.views.test_mfa import CODE_FACTOR, MFA_LOGIN
    from accounts.tests.views.test_password_reset import reset

    victim = make_user(email="pages@example.com", phone="+14155550125")
    owner = CommitClient()
    owner.post("/accounts/login/", {"identifier": victim.email, "password": STRONG_PASSWORD})
    assert owner.post(CODE_FACTOR, {"action": "enable"}).status_code == 302
    clock.advance(60)

    attacker = CommitClient()
    reset(attacker, victim.phone, victim.phone, new_password=NEW)
    response = attacker.post("/accounts/login/", {"identifier": victim.phone, "password": NEW})
    assert response["Location"] == MFA_LOGIN
    sms_outbox.clear()
    attacker.post(MFA_LOGIN, {"action": "send"})
    assert not sms_outbox, "the second-step code went to the phone that reset the password"
    code = last_code_for(victim.email)  # the owner's inbox got it
    assert "_auth_user_id" not in attacker.session
    # Only the owner's code finishes the sign-in.
    assert attacker.post(MFA_LOGIN, {"method": "code", "otp": code})["Location"] == "/"
