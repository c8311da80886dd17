"""Passkeys on the pages (SPEC §17), driven the way static/js/passkeys.js
drives them: POST for options (JSON), the authenticator's answer posted to
the page's form as ``credential``. A software authenticator stands in for
the browser's (the browser journeys: tests/e2e/test_passkeys.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.shortcuts import resolve_url

from accounts.models import Authenticator, DeviceSession, Passkey, SecurityEvent, User
from accounts.tests.helpers import last_code_for
from accounts.tests.views.pages import LOGIN, page_text, sign_in, unlabeled_controls
from accounts.tests.views.test_mfa import enable_totp, totp_now
from authsite.testing.webauthn import SoftAuthenticator
from conftest import PASSKEY_ORIGIN as ORIGIN
from conftest import STRONG_PASSWORD, CommitClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relying_party")]

PASSKEYS = "/accounts/passkeys/"
REGISTER_OPTIONS = "/accounts/passkeys/options/"
LOGIN_PASSKEY = "/accounts/login/passkey/"
LOGIN_OPTIONS = "/accounts/login/passkey/options/"
MFA_LOGIN = "/accounts/login/mfa/"
MFA_OPTIONS = "/accounts/login/mfa/passkey/options/"
REAUTH = "/accounts/reauthenticate/"
REAUTH_OPTIONS = "/accounts/reauthenticate/passkey/options/"
DISMISS = "/accounts/passkeys/offer/dismiss/"
OFFER = "data-passkey-offer"


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


def options(client, url: str, status: int = 200) -> dict:
    response = client.post(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    return body["publicKey"] if status == 200 else body


def add_passkey(client, authenticator: SoftAuthenticator, name: str = "My phone"):
    creation = options(client, REGISTER_OPTIONS)
    credential = json.dumps(authenticator.create(creation))
    return client.post(PASSKEYS, {"action": "add", "credential": credential, "name": name})


@pytest.fixture
def with_passkey(user, signed_in, authenticator):
    """``user`` with a passkey added from the passkeys page."""
    response = add_passkey(signed_in, authenticator)
    assert response.status_code == 302
    return Passkey.objects.select_related("authenticator").get(authenticator__user=user)


def messages_to(response) -> str:
    """The page a redirect leads to (its messages included)."""
    return page_text(response)


def test_login_page_offers_passkeys_by_button_and_autofill(browser):
    html = page_text(browser.get(LOGIN))
    assert 'autocomplete="username webauthn"' in html
    assert f'data-options-url="{LOGIN_OPTIONS}"' in html
    assert f'action="{LOGIN_PASSKEY}"' in html
    assert "data-autofill" in html
    assert "Sign in with a passkey" in html
    assert "js/passkeys" in html
    assert not unlabeled_controls(html)


def test_login_page_without_passkeys_is_as_before(browser, settings):
    settings.WEBAUTHN_ENABLED = False
    html = page_text(browser.get(LOGIN))
    assert 'autocomplete="username"' in html
    assert "webauthn" not in html
    assert "Sign in with a passkey" not in html


def test_login_options_are_json_for_a_discoverable_login(browser):
    found = options(browser, LOGIN_OPTIONS)
    assert found["challenge"]
    assert found.get("allowCredentials", []) == []
    assert found["userVerification"] == "required"
    assert browser.get(LOGIN_OPTIONS).status_code == 405


def test_options_need_the_pages_csrf_token(db):
    client = CommitClient(enforce_csrf_checks=True)
    assert client.post(LOGIN_OPTIONS).status_code == 403
    client.get(LOGIN)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert client.post(LOGIN_OPTIONS, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_add_a_passkey_shows_the_recovery_codes_then_lists_it(user, signed_in, authenticator):
    html = page_text(signed_in.get(PASSKEYS))
    assert "No passkey yet." in html
    assert f'data-options-url="{REGISTER_OPTIONS}"' in html
    assert not unlabeled_controls(html)
    response = add_passkey(signed_in, authenticator, name="Work laptop")
    # The account's first second factor: its recovery codes, shown once.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/mfa/recovery-codes/"
    assert "The passkey was added." in messages_to(signed_in.get(response["Location"]))
    html = page_text(signed_in.get(PASSKEYS))
    assert "Work laptop" in html and 'class="row passkey"' in html
    user.refresh_from_db()
    assert user.mfa_enabled
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.PASSKEY_ADDED).exists()


def test_a_second_passkey_goes_back_to_the_list(user, signed_in, with_passkey):
    response = add_passkey(signed_in, SoftAuthenticator(origin=ORIGIN), name="Laptop")
    assert response.status_code == 302 and response["Location"] == PASSKEYS
    assert Passkey.objects.filter(authenticator__user=user).count() == 2


def test_creation_options_exclude_the_accounts_passkeys(signed_in, with_passkey):
    creation = options(signed_in, REGISTER_OPTIONS)
    assert [c["id"] for c in creation["excludeCredentials"]] == [with_passkey.credential_id]
    assert creation["authenticatorSelection"]["residentKey"] == "required"


def test_adding_needs_a_recent_authentication(user, signed_in, authenticator, clock):
    creation = options(signed_in, REGISTER_OPTIONS)
    clock.advance(settings.REAUTH_WINDOW + 1)
    html = page_text(signed_in.get(PASSKEYS))
    assert "Confirm it is you to add a passkey" in html
    assert 'data-passkey="create"' not in html
    refused = options(signed_in, REGISTER_OPTIONS, status=401)
    assert refused["reauthenticate"].startswith(REAUTH)
    # An answer made while it was recent is refused now too.
    credential = json.dumps(authenticator.create(creation))
    response = signed_in.post(PASSKEYS, {"action": "add", "credential": credential})
    assert response.status_code == 302 and response["Location"].startswith(REAUTH)
    assert not Passkey.objects.exists()


@pytest.mark.parametrize("credential", ["", "not json", "[1, 2]", '{"id": "x"}', "null"])
def test_a_bad_credential_is_a_form_error_never_a_500(signed_in, credential):
    response = signed_in.post(PASSKEYS, {"action": "add", "credential": credential})
    assert response.status_code == 200
    assert 'role="alert"' in page_text(response)
    assert not Passkey.objects.exists()


def test_sign_in_with_a_passkey(user, with_passkey, authenticator, make_browser):
    browser = make_browser()
    request = options(browser, LOGIN_OPTIONS)
    credential = json.dumps(authenticator.get(request))
    response = browser.post(LOGIN_PASSKEY, {"credential": credential, "next": "/accounts/mfa/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/"
    assert "Signed in." in messages_to(browser.get("/accounts/mfa/"))
    assert browser.session["_auth_user_id"] == str(user.pk)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.PASSKEY_LOGIN).exists()
    assert DeviceSession.objects.filter(user=user, revoked_at__isnull=True).count() == 2


def test_a_replayed_assertion_signs_nobody_in(user, with_passkey, authenticator, make_browser):
    first = make_browser()
    credential = json.dumps(authenticator.get(options(first, LOGIN_OPTIONS)))
    assert first.post(LOGIN_PASSKEY, {"credential": credential}).status_code == 302
    thief = make_browser()
    response = thief.post(LOGIN_PASSKEY, {"credential": credential})
    assert response.status_code == 200
    assert "That passkey did not work" in page_text(response)
    assert "_auth_user_id" not in thief.session


@pytest.mark.parametrize("credential", ["", "{", "[]", '{"id": 1}', "x" * 70_000])
def test_a_bad_login_credential_is_the_login_page_with_an_error(browser, credential):
    response = browser.post(LOGIN_PASSKEY, {"credential": credential})
    assert response.status_code == 200
    html = page_text(response)
    assert 'role="alert"' in html and 'name="identifier"' in html
    assert "_auth_user_id" not in browser.session


def test_an_inactive_account_cannot_sign_in_with_its_passkey(user, with_passkey, authenticator):
    User.objects.filter(pk=user.pk).update(is_active=False)
    browser = CommitClient()
    credential = json.dumps(authenticator.get(options(browser, LOGIN_OPTIONS)))
    response = browser.post(LOGIN_PASSKEY, {"credential": credential})
    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session


def test_passkey_is_the_first_method_of_the_second_step(user, with_passkey, authenticator):
    browser = CommitClient()
    response = browser.post(LOGIN, {"identifier": user.email, "password": STRONG_PASSWORD})
    assert response.status_code == 302 and response["Location"] == MFA_LOGIN
    html = page_text(browser.get(MFA_LOGIN))
    assert "Use your passkey" in html and f'data-options-url="{MFA_OPTIONS}"' in html
    assert "Use a recovery code" in html  # the other ways, as links
    request = options(browser, MFA_OPTIONS)
    assert [c["id"] for c in request["allowCredentials"]] == [with_passkey.credential_id]
    credential = json.dumps(authenticator.get(request))
    response = browser.post(MFA_LOGIN, {"method": "webauthn", "credential": credential})
    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(user.pk)


def test_another_accounts_passkey_does_not_finish_the_second_step(
    user, with_passkey, make_user, make_browser
):
    other = make_user(email="mallory@example.com")
    mallory_key = SoftAuthenticator(origin=ORIGIN)
    mallory = make_browser()
    sign_in(mallory, other.email)
    assert add_passkey(mallory, mallory_key).status_code == 302

    browser = make_browser()
    browser.post(LOGIN, {"identifier": user.email, "password": STRONG_PASSWORD})
    request = options(browser, MFA_OPTIONS)
    # Mallory's authenticator answers the victim's challenge with her passkey.
    request = {**request, "allowCredentials": []}
    credential = json.dumps(mallory_key.get(request))
    response = browser.post(MFA_LOGIN, {"method": "webauthn", "credential": credential})
    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session
    assert 'role="alert"' in page_text(response)


def test_second_step_options_need_a_second_step(browser):
    refused = options(browser, MFA_OPTIONS, status=401)
    assert refused["error"]


def test_confirm_it_is_you_with_a_passkey(user, signed_in, with_passkey, authenticator, clock):
    clock.advance(settings.REAUTH_WINDOW + 1)
    html = page_text(signed_in.get(f"{REAUTH}?next={PASSKEYS}"))
    assert "Use a passkey" in html
    html = page_text(signed_in.get(f"{REAUTH}?method=webauthn&next={PASSKEYS}"))
    assert f'data-options-url="{REAUTH_OPTIONS}"' in html and "Use your passkey" in html
    credential = json.dumps(authenticator.get(options(signed_in, REAUTH_OPTIONS)))
    response = signed_in.post(
        REAUTH, {"method": "webauthn", "credential": credential, "next": PASSKEYS}
    )
    assert response.status_code == 302 and response["Location"] == PASSKEYS
    assert "Confirm it is you to add a passkey" not in page_text(signed_in.get(PASSKEYS))


def test_rename_and_remove(user, signed_in, with_passkey, mailoutbox):
    factor_id = with_passkey.authenticator_id
    response = signed_in.post(
        PASSKEYS, {"action": "rename", "passkey_id": factor_id, "name": "Old phone"}
    )
    assert response.status_code == 302
    assert "The passkey was renamed." in messages_to(signed_in.get(PASSKEYS))
    assert Authenticator.objects.get(pk=factor_id).name == "Old phone"
    response = signed_in.post(PASSKEYS, {"action": "remove", "passkey_id": factor_id})
    assert response.status_code == 302
    assert "The passkey was removed." in messages_to(signed_in.get(PASSKEYS))
    assert not Passkey.objects.exists()
    user.refresh_from_db()
    assert not user.mfa_enabled


def test_removing_needs_a_recent_authentication(signed_in, with_passkey, clock):
    clock.advance(settings.REAUTH_WINDOW + 1)
    response = signed_in.post(
        PASSKEYS, {"action": "remove", "passkey_id": with_passkey.authenticator_id}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{REAUTH}?next=%2Faccounts%2Fpasskeys%2F"
    assert Passkey.objects.exists()


def test_another_accounts_passkey_cannot_be_renamed_or_removed(
    signed_in, with_passkey, make_user, make_browser
):
    other = make_user(email="mallory@example.com")
    mallory = make_browser()
    sign_in(mallory, other.email)
    factor_id = with_passkey.authenticator_id
    for data in ({"action": "rename", "name": "pwned"}, {"action": "remove"}):
        response = mallory.post(PASSKEYS, {**data, "passkey_id": factor_id})
        assert response.status_code == 302
        assert "no longer on your account" in messages_to(mallory.get(PASSKEYS))
    assert Authenticator.objects.get(pk=factor_id).name == "My phone"


@pytest.mark.parametrize(
    "data",
    [
        {"action": "remove", "passkey_id": "x"},
        {"action": "rename"},
        {"action": "explode", "passkey_id": "1"},
    ],
)
def test_a_malformed_post_is_a_400_not_a_500(signed_in, data):
    assert signed_in.post(PASSKEYS, data).status_code == 400


def test_an_empty_name_is_refused(signed_in, with_passkey):
    response = signed_in.post(
        PASSKEYS, {"action": "rename", "passkey_id": with_passkey.authenticator_id, "name": " "}
    )
    assert response.status_code == 302
    assert "Give the passkey a name." in messages_to(signed_in.get(PASSKEYS))
    assert Authenticator.objects.get(pk=with_passkey.authenticator_id).name == "My phone"


# --- the offer after a password sign-in ------------------------------------------------------------


def test_a_password_sign_in_offers_a_passkey_on_the_next_page_once(user, make_browser):
    browser = make_browser()
    response = sign_in(browser)
    html = page_text(browser.get(response["Location"]))
    assert OFFER in html and "Add a passkey" in html and "Not now" in html
    assert not unlabeled_controls(html)
    assert OFFER not in page_text(browser.get(response["Location"]))


def test_not_now_keeps_the_offer_away_for_30_days(user, make_browser, clock):
    browser = make_browser()
    sign_in(browser)
    response = browser.post(DISMISS, {"next": "/accounts/sessions/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/sessions/"
    assert "We will not ask again for 30 days." in messages_to(browser.get("/accounts/sessions/"))
    user.refresh_from_db()
    assert user.passkey_offer_dismissed_at is not None

    again = make_browser()
    response = sign_in(again)
    assert OFFER not in page_text(again.get(response["Location"]))

    clock.advance(timedelta(days=30, seconds=1).total_seconds())
    later = make_browser()
    response = sign_in(later)
    assert OFFER in page_text(later.get(response["Location"]))


def test_dismiss_ignores_an_unsafe_next(user, signed_in):
    response = signed_in.post(DISMISS, {"next": "https://evil.example/"})
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)


def test_no_offer_to_an_account_with_a_passkey_or_when_passkeys_are_off(
    user, with_passkey, make_user, make_browser, settings
):
    browser = make_browser()
    response = browser.post(LOGIN, {"identifier": user.email, "password": STRONG_PASSWORD})
    assert response["Location"] == MFA_LOGIN  # the passkey is a second factor
    make_user(email="bob@example.com")
    settings.WEBAUTHN_ENABLED = False
    bob = make_browser()
    response = sign_in(bob, "bob@example.com")
    assert OFFER not in page_text(bob.get(response["Location"]))


def test_no_offer_after_a_passkey_sign_in(user, with_passkey, authenticator, make_browser):
    Authenticator.objects.filter(user=user).exclude(kind=Authenticator.Kind.WEBAUTHN).delete()
    browser = make_browser()
    credential = json.dumps(authenticator.get(options(browser, LOGIN_OPTIONS)))
    response = browser.post(LOGIN_PASSKEY, {"credential": credential})
    assert OFFER not in page_text(browser.get(response["Location"]))


def test_the_offer_follows_a_second_step_after_a_password(user, signed_in, clock, make_browser):
    """An account with an authenticator app and no passkey: offered after the
    password and the app's code."""
    secret, _codes = enable_totp(signed_in)
    clock.advance(60)
    browser = make_browser()
    response = browser.post(LOGIN, {"identifier": user.email, "password": STRONG_PASSWORD})
    assert response["Location"] == MFA_LOGIN
    response = browser.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret)})
    assert response.status_code == 302
    assert OFFER in page_text(browser.get(response["Location"]))


def test_a_passkey_sign_in_on_the_pages_stays_within_its_query_budget(
    user, with_passkey, authenticator, make_browser, django_assert_max_num_queries
):
    """The API's passkey login takes at most 8 (accounts/tests/api); a page's,
    from a browser never seen before, also records the new device (4) and
    makes the Django session (6 with its savepoints). The challenge is bound
    to the browser's session (made by the options request): reading it, and
    deleting it when the sign-in gives the browser a new session key, are 3
    more."""
    browser = make_browser()
    credential = json.dumps(authenticator.get(options(browser, LOGIN_OPTIONS)))
    with django_assert_max_num_queries(21):
        response = browser.post(LOGIN_PASSKEY, {"credential": credential})
    assert response.status_code == 302


@pytest.mark.parametrize("url", [REGISTER_OPTIONS, REAUTH_OPTIONS])
def test_signed_out_the_options_answer_json_the_script_can_follow(browser, url):
    response = browser.post(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["signin"] == LOGIN
    assert response.json()["error"]


def test_no_offer_after_a_code_sign_in(user, make_browser):
    """The offer follows a password sign-in only (the pipeline's first factor
    says which it was)."""
    browser = make_browser()
    response = browser.post("/accounts/login/code/", {"identifier": user.email})
    assert response.status_code == 302
    code = last_code_for(user.email)
    response = browser.post("/accounts/login/code/verify/", {"otp": code})
    assert response.status_code == 302, page_text(response)[:1500]
    assert browser.session["_auth_user_id"] == str(user.pk)
    assert OFFER not in page_text(browser.get(response["Location"]))
