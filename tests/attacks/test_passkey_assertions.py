"""Passkey assertions taken and played again (SPEC §17): a signed assertion is
worth one ceremony, for the thing that asked for it. An attacker who gets
one (a logging proxy, a malicious extension, a second tab) replays it on the
other door, races it, or moves it to a sign-in or a session of their own."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from accounts.models import DeviceSession, Passkey, SecurityEvent, WebAuthnChallenge
from authsite.testing.webauthn import SoftAuthenticator
from conftest import PASSKEY_ORIGIN as ORIGIN
from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD
from tests.concurrency import run_concurrently

API = "/api/v1/auth"
PAGES_LOGIN = "/accounts/login/passkey/"
PAGES_OPTIONS = "/accounts/login/passkey/options/"
MFA_PAGE = "/accounts/login/mfa/"
MFA_OPTIONS = "/accounts/login/mfa/passkey/options/"

pytestmark = pytest.mark.usefixtures("relying_party")


@pytest.fixture
def victim_key(victim) -> SoftAuthenticator:
    """The victim's phone, with a passkey registered through the API."""
    key = SoftAuthenticator(origin=ORIGIN)
    client = Client()
    login = client.post(
        f"{API}/login",
        {"email": VICTIM_EMAIL, "password": VICTIM_PASSWORD},
        content_type="application/json",
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {login.json()['data']['access']}"}
    options = client.post(f"{API}/passkeys/register/options", **headers).json()["data"]
    added = client.post(
        f"{API}/passkeys/register",
        {"credential": key.create(options)},
        content_type="application/json",
        **headers,
    )
    assert added.status_code == 201, added.content
    return key


def _page_assertion(key: SoftAuthenticator, browser: Client) -> str:
    """An assertion for a sign-in from ``browser``: its challenge is bound to
    the browser that asked for the options."""
    options = browser.post(PAGES_OPTIONS).json()["publicKey"]
    return json.dumps(key.get(options))


@pytest.mark.django_db
def test_an_assertion_used_on_the_pages_does_not_open_a_token_session(victim, victim_key):
    browser = Client()
    credential = _page_assertion(victim_key, browser)
    assert browser.post(PAGES_LOGIN, {"credential": credential}).status_code == 302
    stolen = Client().post(
        f"{API}/passkeys/login",
        {"credential": json.loads(credential)},
        content_type="application/json",
    )
    assert stolen.status_code == 400
    assert stolen.json()["code"] == "passkey_invalid"


@pytest.mark.django_db(transaction=True)
def test_one_assertion_raced_on_both_doors_signs_in_once(victim, victim_key):
    """Sent at once from tabs of the browser that asked for it (its session
    cookie) and to the API."""
    browser = Client()
    credential = _page_assertion(victim_key, browser)
    before = DeviceSession.objects.filter(user=victim).count()
    flip = iter(range(100))

    def tab() -> Client:
        other = Client()
        other.cookies = browser.cookies  # same browser, another tab
        return other

    def play():
        if next(flip) % 2:
            return tab().post(PAGES_LOGIN, {"credential": credential})
        return Client().post(
            f"{API}/passkeys/login",
            {"credential": json.loads(credential)},
            content_type="application/json",
        )

    results = run_concurrently(play, count=10)
    statuses = [getattr(r, "status_code", r) for r in results]
    # 200 from the API and 302 from the pages open a session; a refusal is the
    # API's 400 or the login page again (200 with no session: counted below).
    opened = DeviceSession.objects.filter(user=victim).count() - before
    assert opened <= 1, statuses
    assert set(statuses) <= {400, 200, 302}, statuses
    assert opened == 1, statuses


@pytest.mark.django_db
def test_a_second_step_assertion_finishes_only_its_own_sign_in(victim, victim_key):
    """The attacker knows the password and starts a sign-in of their own; the
    victim's assertion for the victim's second step does not finish it."""
    victim_browser, attacker_browser = Client(), Client()
    for browser in (victim_browser, attacker_browser):
        response = browser.post(
            "/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD}
        )
        assert response["Location"] == MFA_PAGE
    options = victim_browser.post(MFA_OPTIONS).json()["publicKey"]
    credential = json.dumps(victim_key.get(options))
    response = attacker_browser.post(MFA_PAGE, {"method": "webauthn", "credential": credential})
    assert response.status_code == 200
    assert "_auth_user_id" not in attacker_browser.session
    # ...and the victim's own sign-in is not spent by the attempt.
    response = victim_browser.post(MFA_PAGE, {"method": "webauthn", "credential": credential})
    assert response.status_code == 302
    assert victim_browser.session["_auth_user_id"] == str(victim.pk)


@pytest.mark.django_db
def test_a_reauthentication_assertion_confirms_only_its_own_session(victim, victim_key):
    sessions = []
    for _ in range(2):
        browser = Client()
        browser.post(
            "/accounts/login/passkey/", {"credential": _page_assertion(victim_key, browser)}
        )
        assert "_auth_user_id" in browser.session
        sessions.append(browser)
    mine, theirs = sessions
    options = mine.post("/accounts/reauthenticate/passkey/options/").json()["publicKey"]
    credential = json.dumps(victim_key.get(options))
    response = theirs.post(
        "/accounts/reauthenticate/", {"method": "webauthn", "credential": credential}
    )
    assert response.status_code == 200  # the page again, with the refusal
    assert 'role="alert"' in response.content.decode()
    assert (
        mine.post(
            "/accounts/reauthenticate/", {"method": "webauthn", "credential": credential}
        ).status_code
        == 302
    )


@pytest.mark.django_db
def test_a_cloned_passkey_whose_counter_went_back_is_refused(victim, victim_key):
    """The real authenticator has signed 50 times; a copy of its key made
    earlier still counts from where it was copied."""
    Passkey.objects.filter(authenticator__user=victim).update(sign_count=50)
    browser = Client()
    response = browser.post(PAGES_LOGIN, {"credential": _page_assertion(victim_key, browser)})
    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session
    assert SecurityEvent.objects.filter(user=victim, kind=SecurityEvent.PASSKEY_CLONED).exists()


def _nested_client_data(credential: dict) -> dict:
    deep = base64.urlsafe_b64encode(b"[" * 5000).rstrip(b"=").decode()
    return {**credential, "response": {**credential["response"], "clientDataJSON": deep}}


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["whole", "client_data"])
def test_json_nested_too_deep_is_refused_not_a_500(victim, victim_key, where):
    """Found by review: Python's JSON reader gives up on thousands of nested
    brackets with a RecursionError, which is not a ValueError."""
    browser = Client(raise_request_exception=False)
    honest = victim_key.get(browser.post(PAGES_OPTIONS).json()["publicKey"])
    bad = "[" * 5000 if where == "whole" else json.dumps(_nested_client_data(honest))
    response = browser.post(PAGES_LOGIN, {"credential": bad})
    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session
    if where == "client_data":
        api = Client(raise_request_exception=False).post(
            f"{API}/passkeys/login",
            {"credential": _nested_client_data(honest)},
            content_type="application/json",
        )
        assert api.status_code == 400
        assert api.json()["code"] == "passkey_invalid"


@pytest.mark.django_db
def test_an_unsigned_counter_claim_puts_no_event_on_the_account(victim, victim_key):
    """Found by review: the credential id is no secret (the second step lists
    it after a right password). A made-up assertion with that id and a
    counter below the stored one, signed by nobody, must not record a
    'cloned passkey' event on the owner's account."""
    Passkey.objects.filter(authenticator__user=victim).update(sign_count=50)
    browser = Client()
    forged = victim_key.get(browser.post(PAGES_OPTIONS).json()["publicKey"], sign_count=3)
    forged["response"]["signature"] = base64.urlsafe_b64encode(b"0" * 70).rstrip(b"=").decode()
    response = browser.post(PAGES_LOGIN, {"credential": json.dumps(forged)})
    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session
    # The challenge was found and spent: the signature is what refused it.
    assert not WebAuthnChallenge.objects.filter(used_at__isnull=True).exists()
    assert not SecurityEvent.objects.filter(user=victim, kind=SecurityEvent.PASSKEY_CLONED).exists()


@pytest.mark.django_db(transaction=True)
def test_one_registration_raced_from_two_tabs_adds_one_passkey(victim):
    """The same registration answer posted twice at once (two tabs, a double
    click, a replay): one passkey, the other refused, on both databases."""
    browser = Client()
    browser.post("/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD})
    options = browser.post("/accounts/passkeys/options/").json()["publicKey"]
    key = SoftAuthenticator(origin=ORIGIN)
    credential = json.dumps(key.create(options))
    cookies = browser.cookies

    def add():
        tab = Client()
        tab.cookies = cookies
        return tab.post("/accounts/passkeys/", {"action": "add", "credential": credential})

    results = run_concurrently(add, count=6)
    statuses = [getattr(r, "status_code", r) for r in results]
    assert Passkey.objects.filter(authenticator__user=victim).count() == 1, statuses
    assert set(statuses) <= {200, 302}, statuses


@pytest.mark.django_db
def test_an_assertion_for_one_browser_does_not_sign_in_another(victim, victim_key):
    """The pages' passkey challenges are bound to the browser that asked for
    them: an assertion taken from the victim's browser (a malicious extension,
    a script on a compromised page) and sent from the attacker's finds no
    challenge, and leaves the victim's sign-in unspent."""
    victims_browser, attackers_browser = Client(), Client()
    credential = _page_assertion(victim_key, victims_browser)
    attackers_browser.post(PAGES_OPTIONS)  # a binding of the attacker's own
    response = attackers_browser.post(PAGES_LOGIN, {"credential": credential})
    assert response.status_code == 200
    assert "_auth_user_id" not in attackers_browser.session
    api = Client().post(
        f"{API}/passkeys/login",
        {"credential": json.loads(credential)},
        content_type="application/json",
    )
    assert api.status_code == 400 and api.json()["code"] == "passkey_invalid"
    assert victims_browser.post(PAGES_LOGIN, {"credential": credential}).status_code == 302
    assert victims_browser.session["_auth_user_id"] == str(victim.pk)


@pytest.mark.django_db
def test_api_passkey_options_do_not_sign_in_on_the_pages(victim, victim_key):
    options = (
        Client()
        .post(f"{API}/passkeys/login/options", {}, content_type="application/json")
        .json()["data"]
    )
    browser = Client()
    browser.post(PAGES_OPTIONS)
    response = browser.post(PAGES_LOGIN, {"credential": json.dumps(victim_key.get(options))})
    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session
