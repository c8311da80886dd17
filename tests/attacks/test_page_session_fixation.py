"""Session fixation on the pages: an attacker who gets the victim's browser to
carry a session key the attacker knows (their own anonymous session, planted
by a sibling sub-domain's cookie or a shared machine) gains nothing, because
every sign-in door — password, code, passkey, the second step, the admin's
page — gives the browser a new key and ends the old one, and signing out ends
the signed-in key on the server (SPEC §6, §14 rule 9). And a pending second
step lives in the session of the browser that passed the first step: another
browser with the right second factor cannot finish it.

Guards: they pass today; each fails when ``web_login`` stops cycling the key
(checked by making ``SessionBase.cycle_key`` a no-op), and the logout one when
``web_logout`` stops flushing."""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.models import Session

from accounts.tests.helpers import last_code_for, with_second_factor
from authsite.testing.webauthn import SoftAuthenticator
from conftest import PASSKEY_ORIGIN, CommitClient
from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db

MFA = "/accounts/login/mfa/"


def _planted() -> tuple[CommitClient, str]:
    """The victim's browser, carrying an anonymous session whose key the
    attacker knows (it holds something, so it is stored)."""
    browser = CommitClient()
    session = browser.session
    session["planted"] = "by the attacker"
    session.save()
    return browser, session.session_key


def _attacker_with(key: str) -> CommitClient:
    attacker = CommitClient()
    attacker.cookies["sessionid"] = key
    return attacker


def _assert_fixation_failed(browser: CommitClient, known_key: str, victim) -> None:
    assert browser.session.get("_auth_user_id") == str(victim.pk)  # the victim is signed in
    assert browser.cookies["sessionid"].value != known_key
    assert not Session.objects.filter(session_key=known_key).exists()
    attacker = _attacker_with(known_key)
    assert attacker.get("/profile/").status_code == 302  # to the sign-in page
    assert "_auth_user_id" not in attacker.session


def _password_step(browser: CommitClient, identifier: str = VICTIM_EMAIL):
    return browser.post("/accounts/login/", {"identifier": identifier, "password": VICTIM_PASSWORD})


def test_password_sign_in_leaves_the_planted_key_dead(victim):
    browser, key = _planted()
    assert _password_step(browser).status_code == 302
    _assert_fixation_failed(browser, key, victim)


def test_code_sign_in_leaves_the_planted_key_dead(victim):
    browser, key = _planted()
    browser.post("/accounts/login/code/", {"identifier": VICTIM_EMAIL})
    response = browser.post("/accounts/login/code/verify/", {"otp": last_code_for(VICTIM_EMAIL)})
    assert response.status_code == 302
    _assert_fixation_failed(browser, key, victim)


def test_passkey_sign_in_leaves_the_planted_key_dead(victim, relying_party):
    key_holder = SoftAuthenticator(origin=PASSKEY_ORIGIN)
    api = CommitClient()
    login = api.post(
        "/api/v1/auth/login",
        {"email": VICTIM_EMAIL, "password": VICTIM_PASSWORD},
        content_type="application/json",
    )
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {login.json()['data']['access']}"}
    options = api.post("/api/v1/auth/passkeys/register/options", **bearer).json()["data"]
    added = api.post(
        "/api/v1/auth/passkeys/register",
        {"credential": key_holder.create(options)},
        content_type="application/json",
        **bearer,
    )
    assert added.status_code == 201, added.content[:500]
    browser, key = _planted()
    options = browser.post("/accounts/login/passkey/options/").json()["publicKey"]
    response = browser.post(
        "/accounts/login/passkey/", {"credential": json.dumps(key_holder.get(options))}
    )
    assert response.status_code == 302
    _assert_fixation_failed(browser, key, victim)


def test_the_second_step_leaves_the_planted_key_dead(victim):
    with_second_factor(victim)
    browser, key = _planted()
    assert _password_step(browser)["Location"] == MFA
    # Between the steps the browser is not signed in, on whatever key.
    assert _attacker_with(browser.cookies["sessionid"].value).get("/profile/").status_code == 302
    browser.post(MFA, {"action": "send"})
    response = browser.post(MFA, {"method": "code", "otp": last_code_for(VICTIM_EMAIL)})
    assert response["Location"] == "/"
    _assert_fixation_failed(browser, key, victim)


def test_the_admin_sign_in_leaves_the_planted_key_dead(make_user):
    staff = with_second_factor(
        make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD, is_staff=True, is_superuser=True)
    )
    browser, key = _planted()
    response = browser.post(
        "/admin/login/?next=/admin/", {"username": VICTIM_EMAIL, "password": VICTIM_PASSWORD}
    )
    assert response["Location"] == MFA
    browser.post(MFA, {"action": "send"})
    response = browser.post(MFA, {"method": "code", "otp": last_code_for(VICTIM_EMAIL)})
    assert response["Location"] == "/admin/"
    _assert_fixation_failed(browser, key, staff)


def test_sign_out_ends_the_signed_in_key_on_the_server(victim):
    browser = CommitClient()
    _password_step(browser)
    signed_in_key = browser.cookies["sessionid"].value
    assert browser.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=signed_in_key).exists()
    # A copy of the cookie taken before (a stolen cookie) opens nothing.
    assert _attacker_with(signed_in_key).get("/profile/").status_code == 302


def test_a_pending_second_step_cannot_be_finished_from_another_browser(victim):
    """The victim passed the first step; the code the second step sent is in
    the attacker's hands (a phished SMS), but the attacker's browser holds no
    pending sign-in, and the code does not make one."""
    with_second_factor(victim)
    browser = CommitClient()
    _password_step(browser)
    browser.post(MFA, {"action": "send"})
    code = last_code_for(VICTIM_EMAIL)
    attacker = CommitClient()
    attacker.get("/accounts/login/")
    response = attacker.post(MFA, {"method": "code", "otp": code})
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in attacker.session
    # The victim's own browser still finishes its sign-in with it.
    assert browser.post(MFA, {"method": "code", "otp": code})["Location"] == "/"
