"""Second factors through the API (SPEC §16): the second step of every
sign-in, managing factors behind a recent authentication, replay, single use."""

from __future__ import annotations

import pyotp
import pytest
from django.conf import settings
from django.core import mail

from accounts.models import Authenticator, RecoveryCode, SecurityEvent, User, WebAuthnChallenge
from accounts.services import mfa
from accounts.services.tokens import session_open
from accounts.tests.helpers import assert_error, assert_ok, last_code_for, messages_to
from authsite import clock as clock_module
from authsite.client import ClientInfo
from authsite.db import retry_while_locked
from conftest import STRONG_PASSWORD, CommitAPIClient
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"


def totp_now(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock_module.now().timestamp() + 30 * offset_steps)


def login(client, email: str, password: str = STRONG_PASSWORD):
    return client.post(f"{API}/login", {"email": email, "password": password}, format="json")


def bearer(client, access: str):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def with_totp(user, api_client):
    """``user`` with an authenticator app (set up through the API); returns
    (secret, recovery codes)."""
    session = assert_ok(login(api_client, user.email))
    client = bearer(CommitAPIClient(), session["access"])
    setup = assert_ok(client.post(f"{API}/mfa/totp/setup", format="json"))
    assert setup["otpauth_uri"].startswith("otpauth://totp/")
    assert setup["qr_svg"].lstrip().startswith("<svg")
    confirmed = assert_ok(
        client.post(f"{API}/mfa/totp/confirm", {"code": totp_now(setup["secret"])}, format="json")
    )
    codes = confirmed["recovery_codes"]
    assert len(codes) == settings.MFA_RECOVERY_CODES
    return setup["secret"], codes


def mfa_token(client, email: str) -> dict:
    body = assert_error(login(client, email), 401, "mfa_required")
    data = body["data"]
    assert set(data) == {"mfa_token", "methods", "expires_in"}
    assert data["expires_in"] == settings.MFA_TOKEN_TTL
    return data


def verify(client, token: str, method: str, code: str):
    return client.post(
        f"{API}/mfa/verify", {"mfa_token": token, "method": method, "code": code}, format="json"
    )


def test_setup_stores_the_secret_encrypted_and_only_confirmed_it_counts(user, api_client, clock):
    session = assert_ok(login(api_client, user.email))
    client = bearer(CommitAPIClient(), session["access"])
    setup = assert_ok(client.post(f"{API}/mfa/totp/setup", format="json"))
    factor = Authenticator.objects.get(user=user, kind="totp")
    assert setup["secret"] not in factor.secret and len(setup["secret"]) == 32
    assert not factor.confirmed
    user.refresh_from_db()
    assert not user.mfa_enabled
    # Not confirmed: signing in asks for nothing more.
    assert_ok(login(CommitAPIClient(), user.email))
    assert_error(
        client.post(f"{API}/mfa/totp/confirm", {"code": "000000"}, format="json"),
        400,
        "otp_invalid",
    )
    assert_ok(
        client.post(f"{API}/mfa/totp/confirm", {"code": totp_now(setup["secret"])}, format="json")
    )
    user.refresh_from_db()
    assert user.mfa_enabled
    assert SecurityEvent.objects.filter(user=user, kind="mfa_enabled").count() == 1
    assert any("second factor" in m.lower() for m in messages_to(user.email))


def test_password_login_stops_at_the_second_step_and_totp_finishes_it(
    user, with_totp, api_client, clock
):
    secret, _codes = with_totp
    clock.advance(60)  # a fresh step
    data = mfa_token(api_client, user.email)
    assert data["methods"] == ["totp", "recovery_code"]
    session = assert_ok(verify(api_client, data["mfa_token"], "totp", totp_now(secret)))
    assert session["user"]["id"] == user.id
    assert bearer(api_client, session["access"]).get(f"{API}/me").status_code == 200
    # The token was single use.
    assert_error(
        verify(CommitAPIClient(), data["mfa_token"], "totp", totp_now(secret)), 401, "token_invalid"
    )


def test_a_replayed_totp_step_is_refused(user, with_totp, api_client, clock):
    secret, _codes = with_totp
    clock.advance(60)
    code = totp_now(secret)
    assert_ok(verify(api_client, mfa_token(api_client, user.email)["mfa_token"], "totp", code))
    again = mfa_token(api_client, user.email)
    assert_error(verify(api_client, again["mfa_token"], "totp", code), 400, "otp_invalid")


def test_wrong_codes_say_the_tries_left_and_the_sixth_fails_whatever_the_code(
    user, with_totp, api_client, clock
):
    secret, _codes = with_totp
    clock.advance(60)
    token = mfa_token(api_client, user.email)["mfa_token"]
    for left in range(settings.MFA_MAX_ATTEMPTS - 1, -1, -1):
        body = assert_error(verify(api_client, token, "totp", "000000"), 400, "otp_invalid")
        assert body["data"]["attempts_left"] == left
        assert str(left) in body["message"]
    assert_error(verify(api_client, token, "totp", totp_now(secret)), 401, "token_invalid")
    assert SecurityEvent.objects.filter(user=user, kind="mfa_failed").count() == 5


def test_a_recovery_code_works_once_and_the_owner_is_told_how_many_are_left(
    user, with_totp, api_client
):
    _secret, codes = with_totp
    mail.outbox.clear()
    token = mfa_token(api_client, user.email)["mfa_token"]
    assert_ok(verify(api_client, token, "recovery_code", codes[0].upper()))
    notice = messages_to(user.email)[-1]
    assert str(settings.MFA_RECOVERY_CODES - 1) in notice
    token = mfa_token(api_client, user.email)["mfa_token"]
    assert_error(verify(api_client, token, "recovery_code", codes[0]), 400, "otp_invalid")
    assert SecurityEvent.objects.filter(user=user, kind="recovery_code_used").count() == 1


def test_code_login_stops_at_the_second_step_too(user, with_totp, api_client, clock):
    secret, _codes = with_totp
    clock.advance(60)
    assert_ok(api_client.post(f"{API}/otp/request", {"email": user.email}, format="json"))
    body = assert_error(
        api_client.post(
            f"{API}/otp/verify",
            {"email": user.email, "otp": last_code_for(user.email)},
            format="json",
        ),
        401,
        "mfa_required",
    )
    assert_ok(verify(api_client, body["data"]["mfa_token"], "totp", totp_now(secret)))


def test_a_password_reset_does_not_bypass_the_second_factor(user, with_totp, api_client, clock):
    clock.advance(60)
    assert_ok(api_client.post(f"{API}/password/forgot", {"email": user.email}, format="json"))
    new = "Brand-New-Horse-8"
    assert_ok(
        api_client.post(
            f"{API}/password/reset",
            {"email": user.email, "otp": last_code_for(user.email), "new_password": new},
            format="json",
        )
    )
    assert_error(login(api_client, user.email, new), 401, "mfa_required")


def test_the_code_factor_goes_to_the_other_verified_address(make_user, api_client, sms_outbox):
    user = make_user(email="both@example.com", phone="+919876543210")
    session = assert_ok(login(api_client, user.email))
    client = bearer(CommitAPIClient(), session["access"])
    assert assert_ok(client.post(f"{API}/mfa/code", format="json"))["recovery_codes"]
    # After a code sign-in to the phone, the second code goes to the email.
    assert_ok(api_client.post(f"{API}/otp/request", {"phone": user.phone}, format="json"))
    body = assert_error(
        api_client.post(
            f"{API}/otp/verify",
            {"phone": user.phone, "otp": last_code_for(user.phone)},
            format="json",
        ),
        401,
        "mfa_required",
    )
    token = body["data"]["mfa_token"]
    assert body["data"]["methods"] == ["recovery_code", "code"]
    sent = assert_ok(
        api_client.post(
            f"{API}/mfa/challenge", {"mfa_token": token, "method": "code"}, format="json"
        )
    )
    assert sent["channel"] == "email"
    assert_ok(verify(api_client, token, "code", last_code_for(user.email)))


def test_without_a_recent_authentication_sensitive_changes_answer_401(user, api_client, clock):
    session = assert_ok(login(api_client, user.email))
    client = bearer(CommitAPIClient(), session["access"])
    clock.advance(settings.REAUTH_WINDOW + 1)
    calls = [
        ("post", f"{API}/mfa/totp/setup", {}),
        ("post", f"{API}/mfa/totp/confirm", {"code": "123456"}),
        ("post", f"{API}/mfa/code", {}),
        ("delete", f"{API}/mfa/totp", {}),
        ("post", f"{API}/mfa/recovery-codes", {}),
        ("post", f"{API}/contact/change", {"email": "new@example.com"}),
        ("get", f"{API}/account/export", None),
        ("delete", f"{API}/account", {}),
    ]
    for method, path, body in calls:
        response = (
            getattr(client, method)(path, body, format="json")
            if body is not None
            else client.get(path)
        )
        assert_error(response, 401, "reauthentication_required")
    assert_ok(client.post(f"{API}/reauthenticate", {"password": STRONG_PASSWORD}, format="json"))
    assert assert_ok(client.get(f"{API}/account/export"))["account"]["id"] == user.id
    assert_ok(client.post(f"{API}/mfa/totp/setup", format="json"))
    clock.advance(settings.REAUTH_WINDOW + 1)
    assert_error(client.get(f"{API}/account/export"), 401, "reauthentication_required")
    assert SecurityEvent.objects.filter(user=user, kind="reauthenticated").count() == 1


def signed_in_past_the_window(api_client, user, secret: str, clock):
    """A client of ``user`` signed in through the second step (TOTP), its
    recent authentication over."""
    clock.advance(60)
    token = mfa_token(api_client, user.email)["mfa_token"]
    session = assert_ok(verify(api_client, token, "totp", totp_now(secret)))
    client = bearer(CommitAPIClient(), session["access"])
    clock.advance(settings.REAUTH_WINDOW + 1)
    return client


def test_reauthenticate_by_code_and_by_a_second_factor(user, with_totp, api_client, clock):
    secret, codes = with_totp
    client = signed_in_past_the_window(api_client, user, secret, clock)
    assert_ok(client.post(f"{API}/reauthenticate/code", format="json"))
    assert_error(
        client.post(f"{API}/reauthenticate", {"code": "000000"}, format="json"), 400, "otp_invalid"
    )
    assert_ok(
        client.post(f"{API}/reauthenticate", {"code": last_code_for(user.email)}, format="json")
    )
    clock.advance(settings.REAUTH_WINDOW + 1)
    assert_ok(
        client.post(
            f"{API}/reauthenticate", {"method": "recovery_code", "code": codes[1]}, format="json"
        )
    )
    assert_ok(client.get(f"{API}/account/export"))


def test_removing_the_last_factor_removes_the_recovery_codes(user, with_totp, api_client, clock):
    secret, _codes = with_totp
    clock.advance(60)
    token = mfa_token(api_client, user.email)["mfa_token"]
    client = bearer(
        CommitAPIClient(), assert_ok(verify(api_client, token, "totp", totp_now(secret)))["access"]
    )
    overview = assert_ok(client.get(f"{API}/mfa"))
    assert overview["enabled"] is True
    assert [f["type"] for f in overview["factors"]] == ["totp", "recovery_codes"]
    assert overview["recovery_codes_left"] == settings.MFA_RECOVERY_CODES
    assert_ok(client.delete(f"{API}/mfa/totp", format="json"))
    user.refresh_from_db()
    assert not user.mfa_enabled
    assert not Authenticator.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.exists()
    assert SecurityEvent.objects.filter(user=user, kind="mfa_disabled").count() == 1
    # Signing in asks for one factor again.
    assert_ok(login(CommitAPIClient(), user.email))


@pytest.mark.django_db(transaction=True)
def test_a_recovery_code_is_single_use_under_concurrency(make_user):
    user = make_user(email="race@example.com")
    session = session_open(user=user, client=ClientInfo()).session
    codes = mfa.code_factor_enable(user=user, session=session, client=ClientInfo())
    code = codes[0]

    def use():
        mfa.factor_check(
            user=User.objects.get(pk=user.pk),
            method="recovery_code",
            code=code,
            subject="",
            first_factor_identifier=None,
            client=ClientInfo(),
        )
        return "ok"

    results = run_concurrently(use, count=20)
    assert results.count("ok") == 1, results
    assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 1


def test_after_a_password_the_code_factor_may_use_the_address_signed_in_with(user, api_client):
    """Only a *code* first factor excludes its address: with one verified
    address, a password sign-in by it still gets a code there."""
    session = assert_ok(login(api_client, user.email))
    assert_ok(bearer(CommitAPIClient(), session["access"]).post(f"{API}/mfa/code", format="json"))
    data = mfa_token(api_client, user.email)
    assert "code" in data["methods"]
    token = data["mfa_token"]
    assert_ok(
        api_client.post(
            f"{API}/mfa/challenge", {"mfa_token": token, "method": "code"}, format="json"
        )
    )
    assert_ok(verify(api_client, token, "code", last_code_for(user.email)))


def test_confirming_without_a_setup_is_not_found(auth_client):
    # Nothing to confirm: the code is not what is wrong, so not otp_invalid.
    response = auth_client.post(f"{API}/mfa/totp/confirm", {"code": "123456"}, format="json")
    body = assert_error(response, 404, "not_found")
    assert "set up" in body["message"]


@pytest.mark.parametrize("path", ["mfa/totp", "mfa/code"])
def test_removing_a_factor_that_is_not_there_is_not_found(auth_client, path):
    response = auth_client.delete(f"{API}/{path}")
    assert_error(response, 404, "not_found")
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.MFA_DISABLED).exists()


def test_a_blank_field_is_a_field_left_out(auth_client, user):
    # The schema's combinations allow "" for the fields a combination leaves
    # out: a password re-authentication with code "" and method "" works.
    response = auth_client.post(
        f"{API}/reauthenticate",
        {"password": STRONG_PASSWORD, "code": "", "method": " \u3000", "credential": "\t"},
        format="json",
    )
    assert_ok(response)


def test_turning_codes_on_again_changes_nothing(auth_client, user):
    first = assert_ok(auth_client.post(f"{API}/mfa/code", format="json"))
    assert len(first["recovery_codes"]) == settings.MFA_RECOVERY_CODES
    again = assert_ok(auth_client.post(f"{API}/mfa/code", format="json"))
    assert again["recovery_codes"] is None
    assert Authenticator.objects.filter(user=user, kind="code").count() == 1
    assert SecurityEvent.objects.filter(user=user, kind="mfa_enabled").count() == 1
    # The first set still works: the second call made none.
    assert RecoveryCode.objects.filter(authenticator__user=user).count() == len(
        first["recovery_codes"]
    )


@pytest.mark.django_db(transaction=True)
def test_factors_added_at_once_make_one_set_of_recovery_codes(make_user):
    # Two tabs (or a double tap) adding factors together: one code factor, one
    # set of recovery codes, and only one answer shows codes. On MariaDB the
    # account's row lock makes them take turns.
    user = make_user(email="race@example.com")
    session = session_open(user=user, client=ClientInfo()).session

    def enable():
        account = retry_while_locked(User.objects.get, pk=user.pk)
        return mfa.code_factor_enable(user=account, session=session, client=ClientInfo())

    results = run_concurrently(enable, count=8)
    assert not [r for r in results if isinstance(r, Exception)], results
    shown = [r for r in results if r is not None]
    assert len(shown) == 1, results
    assert Authenticator.objects.filter(user=user, kind="code").count() == 1
    assert Authenticator.objects.filter(user=user, kind="recovery_codes").count() == 1
    assert RecoveryCode.objects.filter(authenticator__user=user).count() == len(shown[0])


ASSERTION = {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}


def test_a_second_step_the_schema_refuses_costs_no_try(user, with_totp, api_client, clock):
    # Found by an outside audit: `{"method": "totp"}` without its code was
    # checked as a wrong code, and burnt one of the mfa_token's five tries.
    secret, _codes = with_totp
    clock.advance(60)
    token = mfa_token(api_client, user.email)["mfa_token"]
    refused = [
        ({"method": "totp"}, {"code"}),
        ({"method": "recovery_code", "code": ""}, {"code"}),
        ({"method": "totp", "code": "123456", "credential": ASSERTION}, {"credential"}),
        ({"method": "webauthn"}, {"credential"}),
        ({"method": "webauthn", "code": "123456", "credential": ASSERTION}, {"code"}),
    ]
    for body, fields in refused:
        response = api_client.post(f"{API}/mfa/verify", {"mfa_token": token, **body}, format="json")
        assert set(assert_error(response, 400, "validation_error")["errors"]) == fields, body
    assert not SecurityEvent.objects.filter(user=user, kind="mfa_failed").exists()
    wrong = assert_error(verify(api_client, token, "totp", "000000"), 400, "otp_invalid")
    assert wrong["data"]["attempts_left"] == settings.MFA_MAX_ATTEMPTS - 1
    assert_ok(verify(api_client, token, "totp", totp_now(secret)))


def test_a_reauthentication_the_schema_refuses_checks_nothing(user, with_totp, api_client, clock):
    secret, _codes = with_totp
    client = signed_in_past_the_window(api_client, user, secret, clock)
    refused = [
        ({"method": "totp"}, {"code"}),
        ({"password": STRONG_PASSWORD, "code": "123456"}, {"password", "code"}),
        ({"method": "totp", "code": "123456", "password": STRONG_PASSWORD}, {"password"}),
        ({"credential": ASSERTION}, {"credential"}),
        ({"method": "webauthn", "code": "123456"}, {"credential", "code"}),
    ]
    for body, fields in refused:
        response = client.post(f"{API}/reauthenticate", body, format="json")
        assert set(assert_error(response, 400, "validation_error")["errors"]) == fields, body
    assert not SecurityEvent.objects.filter(user=user, kind="reauthenticated").exists()
    assert User.objects.get(pk=user.pk).password_failures == 0
    assert_error(client.get(f"{API}/account/export"), 401, "reauthentication_required")
    assert_ok(client.post(f"{API}/reauthenticate", {"password": STRONG_PASSWORD}, format="json"))
    assert_ok(client.get(f"{API}/account/export"))


def test_a_blank_password_beside_a_code_is_a_code(user, with_totp, api_client, clock):
    # Found by the conformance fuzzer: the schema's Code combination allows a
    # password of white space alone ("blank"); the API, which does not trim a
    # password, refused the body with "not both".
    secret, _codes = with_totp
    client = signed_in_past_the_window(api_client, user, secret, clock)
    assert_ok(client.post(f"{API}/reauthenticate/code", format="json"))
    body = {"code": last_code_for(user.email), "password": " \t "}
    assert_ok(client.post(f"{API}/reauthenticate", body, format="json"))
    # White space alone is no password either.
    clock.advance(settings.REAUTH_WINDOW + 1)
    response = client.post(f"{API}/reauthenticate", {"password": "   "}, format="json")
    assert_error(response, 400, "validation_error")


def test_the_second_step_offers_a_passkey_challenge_only_to_an_account_with_one(
    user, with_totp, api_client, clock
):
    # Found by an outside audit: options came back for an account whose
    # mfa_required listed no webauthn.
    clock.advance(60)
    data = mfa_token(api_client, user.email)
    assert "webauthn" not in data["methods"]
    response = api_client.post(
        f"{API}/mfa/challenge",
        {"mfa_token": data["mfa_token"], "method": "webauthn"},
        format="json",
    )
    assert set(assert_error(response, 400, "validation_error")["errors"]) == {"method"}
    assert not WebAuthnChallenge.objects.exists()


def test_the_second_step_sends_no_code_that_could_not_be_used(
    make_user, api_client, sms_outbox, settings
):
    # Found in review: with MFA_ALLOW_CODE_FACTOR off, `code` was left out of
    # `methods` but the challenge still sent a code that factor_check refused.
    user = make_user(email="both@example.com", phone="+919876543210")
    session = assert_ok(login(api_client, user.email))
    client = bearer(CommitAPIClient(), session["access"])
    assert_ok(client.post(f"{API}/mfa/code", format="json"))
    settings.MFA_ALLOW_CODE_FACTOR = False
    data = mfa_token(api_client, user.email)
    assert "code" not in data["methods"]
    sent_before = len(mail.outbox) + len(sms_outbox)
    response = api_client.post(
        f"{API}/mfa/challenge", {"mfa_token": data["mfa_token"], "method": "code"}, format="json"
    )
    assert set(assert_error(response, 400, "validation_error")["errors"]) == {"method"}
    assert len(mail.outbox) + len(sms_outbox) == sent_before


def test_passkeys_are_no_method_while_they_are_turned_off(user, with_totp, settings):
    Authenticator.objects.create(user=user, kind=Authenticator.Kind.WEBAUTHN, confirmed=True)
    assert "webauthn" in mfa.mfa_methods(user)
    settings.WEBAUTHN_ENABLED = False
    assert "webauthn" not in mfa.mfa_methods(user)
