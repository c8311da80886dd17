"""Second factors on the pages (SPEC §16.3): the second step of every sign-in
door, the trusted-browser cookie, and the pages that manage factors behind a
recent authentication."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote

import pyotp
import pytest
from django.conf import settings
from django.contrib.sessions.models import Session

from accounts.browser import TRUST_COOKIE
from accounts.crypto import secret_decrypt
from accounts.models import (
    Authenticator,
    DeviceSession,
    MfaChallenge,
    RecoveryCode,
    SecurityEvent,
    User,
)
from accounts.tests.helpers import last_code_for, messages_to
from accounts.tests.views.pages import LOGIN, page_text, sign_in, unlabeled_controls
from authsite import clock as clock_module
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

MFA_LOGIN = "/accounts/login/mfa/"
MFA = "/accounts/mfa/"
TOTP = "/accounts/mfa/totp/"
CODE_FACTOR = "/accounts/mfa/code/"
RECOVERY = "/accounts/mfa/recovery-codes/"
REAUTH = "/accounts/reauthenticate/"
SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)</code>')
RECOVERY_RE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock_module.now().timestamp())


def shown_secret(html: str) -> str:
    match = SECRET_RE.search(html)
    assert match, html[:3000]
    return match.group(1).replace(" ", "")


def shown_codes(html: str) -> list[str]:
    return RECOVERY_RE.findall(html)


def enable_totp(client) -> tuple[str, list[str]]:
    """Turn the authenticator app on from the pages, as a person would."""
    response = client.post(TOTP, {"action": "setup"})
    assert response["Location"] == TOTP
    secret = shown_secret(page_text(client.get(TOTP)))
    response = client.post(TOTP, {"action": "confirm", "otp": totp_now(secret)})
    assert response["Location"] == RECOVERY
    codes = shown_codes(page_text(client.get(RECOVERY)))
    assert len(codes) == settings.MFA_RECOVERY_CODES
    return secret, codes


def first_step(client, identifier: str = "alice@example.com", **extra):
    response = client.post(LOGIN, {"identifier": identifier, "password": STRONG_PASSWORD, **extra})
    assert response.status_code == 302, page_text(response)[:2000]
    return response


def signed_in_as(client, user) -> bool:
    return client.session.get("_auth_user_id") == str(user.pk)


@pytest.fixture
def totp_user(clock, user, signed_in):
    """``user`` with an authenticator app set up from the pages (the browser
    that did it stays signed in); returns (secret, recovery codes)."""
    secret, codes = enable_totp(signed_in)
    clock.advance(60)  # later sign-ins use a new 30-second step
    return secret, codes


# --- the second step --------------------------------------------------------------------------


def test_password_sign_in_stops_at_the_second_step_and_a_totp_code_finishes_it(
    totp_user, user, make_browser
):
    secret, _codes = totp_user
    client = make_browser()
    sessions_before = DeviceSession.objects.filter(user=user).count()
    assert first_step(client)["Location"] == MFA_LOGIN
    assert not signed_in_as(client, user)
    assert DeviceSession.objects.filter(user=user).count() == sessions_before
    # The session table keeps no mfa_token in the clear (the pipeline keeps a hash).
    challenge = MfaChallenge.objects.get(user=user, used_at__isnull=True)
    flow = client.session["accounts_flow_mfa"]
    token = secret_decrypt(flow["mfa_token_box"])
    assert hashlib.sha256(token.encode()).hexdigest() == challenge.token_hash
    assert token not in repr([s.get_decoded() for s in Session.objects.all()])

    html = page_text(client.get(MFA_LOGIN))
    assert unlabeled_controls(html) == []
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html
    assert "Use a recovery code" in html
    assert "Don&#x27;t ask again on this browser for 30 days" in html
    key_before = client.cookies["sessionid"].value
    response = client.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret)})
    assert response["Location"] == "/"
    assert signed_in_as(client, user)
    assert client.cookies["sessionid"].value != key_before  # sign-in cycles the key
    assert DeviceSession.objects.filter(user=user).count() == sessions_before + 1
    assert "Signed in." in page_text(client.get("/"))
    # The flow is over: the page sends a later visit back to sign in.
    assert client.get(MFA_LOGIN)["Location"] == LOGIN


def test_the_second_step_keeps_a_safe_next_and_drops_another(totp_user, make_browser, clock):
    secret, _codes = totp_user
    client = make_browser()
    first_step(client, next="/accounts/sessions/")
    response = client.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret)})
    assert response["Location"] == "/accounts/sessions/"

    clock.advance(30)
    other = make_browser()
    first_step(other, next="https://evil.example/")
    response = other.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret)})
    assert response["Location"] == "/"


def test_a_wrong_code_says_the_tries_left_beside_the_field_and_the_fifth_ends_the_sign_in(
    totp_user, user, make_browser
):
    secret, _codes = totp_user
    client = make_browser()
    first_step(client, next="/profile/")
    for left in range(settings.MFA_MAX_ATTEMPTS - 1, 0, -1):
        response = client.post(MFA_LOGIN, {"method": "totp", "otp": "000000"})
        assert response.status_code == 200
        html = page_text(response)
        assert 'id="id_otp_error"' in html
        expected = f"{left} tries left." if left > 1 else "1 try left."
        assert expected in html
    response = client.post(MFA_LOGIN, {"method": "totp", "otp": "000000"})
    assert response["Location"] == "/accounts/login/?next=%2Fprofile%2F"
    assert "too many wrong codes" in page_text(client.get(response["Location"]))
    # Even the right code cannot use that sign-in now.
    response = client.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret)})
    assert response["Location"] == LOGIN
    assert not signed_in_as(client, user)
    assert SecurityEvent.objects.filter(user=user, kind="mfa_failed").count() == 5


def test_an_expired_second_step_sends_back_to_sign_in_with_a_message(
    totp_user, make_browser, clock
):
    secret, _codes = totp_user
    client = make_browser()
    first_step(client)
    clock.advance(settings.MFA_TOKEN_TTL + 1)
    response = client.get(MFA_LOGIN)
    assert response["Location"] == LOGIN
    assert "This sign-in has expired" in page_text(client.get(LOGIN))
    first_step(client)
    clock.advance(settings.MFA_TOKEN_TTL + 1)
    response = client.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret)})
    assert response["Location"] == LOGIN


def test_the_second_step_page_without_a_sign_in_sends_to_sign_in(browser):
    response = browser.get(MFA_LOGIN)
    assert response["Location"] == LOGIN
    assert "Sign in first." in page_text(browser.get(LOGIN))
    assert browser.post(MFA_LOGIN, {"method": "totp", "otp": "123456"})["Location"] == LOGIN


def test_a_recovery_code_signs_in_once(totp_user, user, make_browser):
    _secret, codes = totp_user
    client = make_browser()
    first_step(client)
    html = page_text(client.get(f"{MFA_LOGIN}?method=recovery_code"))
    assert unlabeled_controls(html) == []
    assert "Recovery code" in html
    assert 'autocomplete="off"' in html
    assert "Use your authenticator app" in html
    response = client.post(MFA_LOGIN, {"method": "recovery_code", "otp": f" {codes[0].upper()} "})
    assert response["Location"] == "/"
    assert signed_in_as(client, user)
    assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 1

    again = make_browser()
    first_step(again)
    response = again.post(MFA_LOGIN, {"method": "recovery_code", "otp": codes[0]})
    assert response.status_code == 200
    assert "Invalid or expired code. 4 tries left." in page_text(response)
    assert not signed_in_as(again, user)


def test_code_sign_in_stops_at_the_second_step_too(totp_user, user, make_browser):
    secret, _codes = totp_user
    client = make_browser()
    client.post("/accounts/login/code/", {"identifier": user.email, "next": "/profile/"})
    response = client.post("/accounts/login/code/verify/", {"otp": last_code_for(user.email)})
    assert response["Location"] == MFA_LOGIN
    assert not signed_in_as(client, user)
    assert client.get("/accounts/login/code/verify/")["Location"] == "/accounts/login/code/"
    response = client.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret)})
    assert response["Location"] == "/profile/"
    assert signed_in_as(client, user)


@pytest.fixture
def two_addresses(make_user, make_browser, clock):
    """An account with a verified email and phone and codes as its second
    factor (turned on from the page); a browser signed in as it."""
    account = make_user(email="bob@example.com", phone="+919876543210")
    client = make_browser()
    sign_in(client, "bob@example.com")
    response = client.post(CODE_FACTOR, {"action": "enable"})
    assert response["Location"] == RECOVERY
    assert len(shown_codes(page_text(client.get(RECOVERY)))) == settings.MFA_RECOVERY_CODES
    return account, client


def test_a_code_sent_to_the_other_address_finishes_the_sign_in(
    two_addresses, make_browser, sms_outbox, clock
):
    account, _client = two_addresses
    client = make_browser()
    first_step(client, "bob@example.com")
    html = page_text(client.get(MFA_LOGIN))
    # The code method comes first when there is no authenticator app.
    assert "Send me a code" in html
    assert 'name="otp"' not in html
    response = client.post(MFA_LOGIN, {"action": "send"})
    assert response["Location"] == f"{MFA_LOGIN}?method=code"
    html = page_text(client.get(response["Location"]))
    assert "A code is on its way to" in html
    assert 'autocomplete="one-time-code"' in html
    assert "Send a new code (in " in html  # the cooldown
    assert unlabeled_controls(html) == []
    # Asking again within the cooldown says how long to wait; nothing is sent.
    sent = len(sms_outbox)
    client.post(MFA_LOGIN, {"action": "send"})
    assert "Try again in" in page_text(client.get(f"{MFA_LOGIN}?method=code"))
    assert len(sms_outbox) == sent
    response = client.post(MFA_LOGIN, {"method": "code", "otp": last_code_for(account.phone)})
    assert response["Location"] == "/"
    assert signed_in_as(client, account)


def test_the_admin_sign_in_goes_through_the_second_step_and_back_to_its_next(
    make_user, make_browser, clock
):
    staff = make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    client = make_browser()
    sign_in(client, "staff@example.com")
    secret, _codes = enable_totp(client)
    clock.advance(60)
    admin = make_browser()
    response = admin.post(
        "/admin/login/?next=/admin/accounts/user/",
        {"username": "staff@example.com", "password": STRONG_PASSWORD},
    )
    assert response["Location"] == MFA_LOGIN
    assert not signed_in_as(admin, staff)
    assert 'href="/admin/login/?next=%2Fadmin%2Faccounts%2Fuser%2F"' in page_text(
        admin.get(MFA_LOGIN)
    )
    response = admin.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret)})
    assert response["Location"] == "/admin/accounts/user/"
    assert signed_in_as(admin, staff)


def test_a_dead_admin_second_step_returns_to_the_admin_sign_in(make_user, make_browser, clock):
    make_user(email="staff@example.com", is_staff=True)
    client = make_browser()
    sign_in(client, "staff@example.com")
    enable_totp(client)
    admin = make_browser()
    admin.post("/admin/login/", {"username": "staff@example.com", "password": STRONG_PASSWORD})
    clock.advance(settings.MFA_TOKEN_TTL + 1)
    response = admin.get(MFA_LOGIN)
    assert response["Location"] == "/admin/login/?next=%2Fadmin%2F"


# --- trusted browser -------------------------------------------------------------------------


def remember_this_browser(client, secret: str):
    first_step(client)
    response = client.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret), "remember": "on"})
    assert response["Location"] == "/"
    return response


def sign_out(client) -> None:
    assert client.post("/accounts/logout/").status_code == 302


def test_a_trusted_browser_skips_the_second_step_on_its_next_sign_in(totp_user, user, make_browser):
    secret, _codes = totp_user
    client = make_browser()
    response = remember_this_browser(client, secret)
    cookie = response.cookies[TRUST_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == settings.MFA_TRUST_DAYS * 86400
    assert cookie["path"] == "/"
    assert secret not in cookie.value
    sign_out(client)
    response = first_step(client)
    assert response["Location"] == "/"
    assert signed_in_as(client, user)
    # Another browser is asked.
    assert first_step(make_browser())["Location"] == MFA_LOGIN


def test_without_the_checkbox_the_browser_is_asked_again(totp_user, make_browser, clock):
    secret, _codes = totp_user
    client = make_browser()
    first_step(client)
    response = client.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret)})
    assert TRUST_COOKIE not in response.cookies
    sign_out(client)
    assert first_step(client)["Location"] == MFA_LOGIN


@pytest.mark.parametrize(
    ("session_cookie_secure", "https", "secure"),
    [(False, False, False), (True, False, True), (False, True, True)],
)
def test_the_trusted_browser_cookie_is_secure_on_https(
    totp_user, make_browser, settings, session_cookie_secure, https, secure
):
    secret, _codes = totp_user
    settings.SESSION_COOKIE_SECURE = session_cookie_secure
    client = make_browser()
    first_step(client)
    response = client.post(
        MFA_LOGIN,
        {"method": "totp", "otp": totp_now(secret), "remember": "on"},
        secure=https,
    )
    assert response.status_code == 302
    assert bool(response.cookies[TRUST_COOKIE]["secure"]) is secure


def test_with_trust_days_zero_there_is_no_checkbox_and_no_cookie(totp_user, make_browser, settings):
    secret, _codes = totp_user
    settings.MFA_TRUST_DAYS = 0
    client = make_browser()
    first_step(client)
    assert "ask again on this browser" not in page_text(client.get(MFA_LOGIN))
    response = client.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret), "remember": "on"})
    assert response["Location"] == "/"
    assert TRUST_COOKIE not in response.cookies


def test_a_code_sign_in_and_the_admin_sign_in_honour_the_trusted_browser(
    make_user, make_browser, clock
):
    staff = make_user(email="staff@example.com", is_staff=True)
    client = make_browser()
    sign_in(client, "staff@example.com")
    secret, _codes = enable_totp(client)
    clock.advance(60)
    sign_out(client)
    remember_this_browser_as = client.post(
        LOGIN, {"identifier": "staff@example.com", "password": STRONG_PASSWORD}
    )
    assert remember_this_browser_as["Location"] == MFA_LOGIN
    client.post(MFA_LOGIN, {"method": "totp", "otp": totp_now(secret), "remember": "on"})
    sign_out(client)
    client.post("/accounts/login/code/", {"identifier": "staff@example.com"})
    response = client.post(
        "/accounts/login/code/verify/", {"otp": last_code_for("staff@example.com")}
    )
    assert response["Location"] == "/"
    sign_out(client)
    response = client.post(
        "/admin/login/", {"username": "staff@example.com", "password": STRONG_PASSWORD}
    )
    assert response["Location"] == "/admin/"
    assert signed_in_as(client, staff)


def test_a_factor_change_ends_the_trust(totp_user, user, make_browser, clock):
    secret, _codes = totp_user
    client = make_browser()
    remember_this_browser(client, secret)
    # A new set of recovery codes is a factor change (from this fresh session).
    assert client.post(RECOVERY)["Location"] == RECOVERY
    sign_out(client)
    assert first_step(client)["Location"] == MFA_LOGIN


def test_after_a_password_change_the_trusted_browser_is_asked_again(
    totp_user, user, make_browser, clock
):
    secret, _codes = totp_user
    client = make_browser()
    remember_this_browser(client, secret)
    sign_out(client)
    assert first_step(client)["Location"] == "/"  # trusted
    new_password = "Brand-New-Horse-7"
    response = client.post(
        "/accounts/password/change/",
        {
            "current_password": STRONG_PASSWORD,
            "new_password": new_password,
            "new_password2": new_password,
        },
    )
    assert response["Location"] == "/profile/"
    sign_out(client)
    response = client.post(LOGIN, {"identifier": user.email, "password": new_password})
    assert response["Location"] == MFA_LOGIN


def test_signing_out_everywhere_ends_the_trust(totp_user, user, make_browser, clock):
    """A thief who knows the password and kept a trusted browser signed in
    again without the second step after the owner signed out everywhere."""
    secret, _codes = totp_user
    thief = make_browser()
    remember_this_browser(thief, secret)
    sign_out(thief)
    owner = make_browser()
    first_step(owner)
    owner.post(MFA_LOGIN, {"method": "recovery_code", "otp": _codes[0]})
    assert owner.post("/accounts/sessions/revoke-others/").status_code == 302
    assert first_step(thief)["Location"] == MFA_LOGIN


def test_this_wasnt_me_ends_the_trust(totp_user, user, make_browser, api_client, clock):
    from accounts.models import SecurityEvent
    from accounts.services.account import event_not_me
    from authsite.client import ClientInfo

    secret, _codes = totp_user
    thief = make_browser()
    remember_this_browser(thief, secret)
    sign_out(thief)
    event = SecurityEvent.objects.filter(user=user).latest("pk")
    event_not_me(user=user, event_id=event.pk, client=ClientInfo(ip="203.0.113.9"))
    assert first_step(thief)["Location"] == MFA_LOGIN


def test_another_accounts_trust_cookie_does_not_skip_the_second_step(
    totp_user, make_user, make_browser, clock
):
    secret, _codes = totp_user
    client = make_browser()
    remember_this_browser(client, secret)
    sign_out(client)
    make_user(email="carol@example.com")
    carol = make_browser()
    sign_in(carol, "carol@example.com")
    enable_totp(carol)
    clock.advance(60)
    # Alice's cookie, in this browser, is no trust for Carol.
    assert first_step(client, "carol@example.com")["Location"] == MFA_LOGIN


# --- the overview ------------------------------------------------------------------------------


def test_the_overview_without_a_factor_offers_to_add_one(signed_in):
    html = page_text(signed_in.get(MFA))
    assert "Off: signing in asks only for your password or a code." in html
    assert 'href="/accounts/mfa/totp/"' in html
    assert "No second factor yet." in html
    assert "weakest second factor" in html
    assert "NIST SP 800-63B" in html
    assert unlabeled_controls(html) == []


def test_the_overview_lists_factors_with_type_dates_and_recovery_codes_left(
    totp_user, signed_in, user
):
    html = page_text(signed_in.get(MFA))
    assert "Signing in asks for a second factor." in html
    assert "Authenticator app" in html
    assert "added " in html
    assert "last used " in html
    assert f"You have {settings.MFA_RECOVERY_CODES} unused recovery codes." in html
    assert 'href="/accounts/mfa/recovery-codes/"' in html
    assert "Manage or remove the authenticator app" in html


def test_the_account_menu_links_to_two_step_sign_in(signed_in):
    html = page_text(signed_in.get("/profile/"))
    assert '<a href="/accounts/mfa/">Two-step sign-in</a>' in html
    assert 'aria-current="page">Two-step sign-in' in page_text(signed_in.get(MFA))


# --- the authenticator app ----------------------------------------------------------------------


def test_setting_up_the_app_shows_the_qr_code_and_the_secret_until_confirmed(
    signed_in, user, clock
):
    html = page_text(signed_in.get(TOTP))
    assert "Set up an authenticator app" in html
    assert not Authenticator.objects.filter(user=user).exists()  # a GET changes nothing
    signed_in.post(TOTP, {"action": "setup"})
    html = page_text(signed_in.get(TOTP))
    secret = shown_secret(html)
    assert len(secret) == 32
    assert "<svg" in html and "QR code for your authenticator app" in html
    assert 'href="otpauth://totp/' in html
    assert 'autocomplete="one-time-code"' in html
    assert unlabeled_controls(html) == []
    # A reload shows the same key (the session keeps it, encrypted).
    assert shown_secret(page_text(signed_in.get(TOTP))) == secret
    stored = [s.get_decoded() for s in Session.objects.all()]
    assert secret not in repr(stored)
    assert secret not in Authenticator.objects.get(user=user).secret
    user.refresh_from_db()
    assert not user.mfa_enabled

    response = signed_in.post(TOTP, {"action": "confirm", "otp": "000000"})
    assert response.status_code == 200
    html = page_text(response)
    assert 'id="id_otp_error"' in html
    assert "Invalid or expired code." in html
    assert shown_secret(html) == secret  # still there to scan

    response = signed_in.post(TOTP, {"action": "confirm", "otp": totp_now(secret)})
    assert response["Location"] == RECOVERY
    user.refresh_from_db()
    assert user.mfa_enabled
    html = page_text(signed_in.get(TOTP))
    assert "totp-secret" not in html  # never shown again
    assert "Remove the authenticator app" in html


def test_recovery_codes_are_shown_once_downloadable_and_never_kept_in_plain(totp_user, signed_in):
    _secret, codes = totp_user  # the fixture saw them on the page once
    html = page_text(signed_in.get(RECOVERY))
    assert shown_codes(html) == []
    assert f"You have {settings.MFA_RECOVERY_CODES} unused recovery codes." in html

    response = signed_in.post(RECOVERY)
    assert response["Location"] == RECOVERY
    stored = repr([s.get_decoded() for s in Session.objects.all()])
    html = page_text(signed_in.get(RECOVERY))
    new_codes = shown_codes(html)
    assert len(new_codes) == settings.MFA_RECOVERY_CODES
    assert not set(new_codes) & set(codes)
    assert not any(code in stored for code in new_codes)
    link = re.search(r'href="(data:text/plain;charset=utf-8,[^"]+)" download="([^"]+)"', html)
    assert link, html
    assert link.group(2).endswith("recovery-codes.txt")
    text = unquote(link.group(1).split(",", 1)[1])
    assert all(code in text for code in new_codes)
    assert shown_codes(page_text(signed_in.get(RECOVERY))) == []  # once


def test_a_browser_sent_to_add_a_factor_goes_on_to_its_page_once_the_codes_are_saved(
    signed_in, clock
):
    signed_in.get(f"{MFA}?next=/accounts/sessions/")
    signed_in.post(TOTP, {"action": "setup"})
    secret = shown_secret(page_text(signed_in.get(TOTP)))
    signed_in.post(TOTP, {"action": "confirm", "otp": totp_now(secret)})
    html = page_text(signed_in.get(RECOVERY))
    assert '<a href="/accounts/sessions/">I have saved them</a>' in html
    # Once: a later set of codes leads back to the overview.
    signed_in.post(RECOVERY)
    html = page_text(signed_in.get(RECOVERY))
    assert '<a href="/accounts/mfa/">I have saved them</a>' in html


def test_an_unsafe_next_to_the_overview_is_not_kept(signed_in, clock):
    signed_in.get(f"{MFA}?next=https://evil.example/")
    signed_in.post(TOTP, {"action": "setup"})
    secret = shown_secret(page_text(signed_in.get(TOTP)))
    signed_in.post(TOTP, {"action": "confirm", "otp": totp_now(secret)})
    html = page_text(signed_in.get(RECOVERY))
    assert len(shown_codes(html)) == settings.MFA_RECOVERY_CODES
    assert "evil.example" not in html
    assert '<a href="/accounts/mfa/">I have saved them</a>' in html


def test_pages_that_show_secrets_are_not_cached(totp_user, signed_in):
    for path in (TOTP, RECOVERY, MFA_LOGIN, REAUTH):
        response = signed_in.get(path)
        assert "no-store" in response["Cache-Control"], path


def test_regenerating_without_a_factor_says_what_to_do(signed_in):
    html = page_text(signed_in.get(RECOVERY))
    assert "Recovery codes come with your first second factor." in html
    response = signed_in.post(RECOVERY)
    assert response["Location"] == RECOVERY
    assert "Add a second factor first" in page_text(signed_in.get(RECOVERY))


def test_removing_the_app_removes_the_recovery_codes(totp_user, signed_in, user):
    response = signed_in.post(TOTP, {"action": "remove"})
    assert response["Location"] == MFA
    assert "The authenticator app was removed." in page_text(signed_in.get(MFA))
    user.refresh_from_db()
    assert not user.mfa_enabled
    assert not Authenticator.objects.filter(user=user).exists()
    assert SecurityEvent.objects.filter(user=user, kind="mfa_disabled").count() == 1
    assert first_step(signed_in.__class__())["Location"] == "/"


def test_codes_as_a_factor_can_be_turned_off(two_addresses):
    account, client = two_addresses
    html = page_text(client.get(MFA))
    assert "Stop using codes as a second factor" in html
    response = client.post(CODE_FACTOR, {"action": "disable"})
    assert response["Location"] == MFA
    account.refresh_from_db()
    assert not account.mfa_enabled
    assert "Codes are no longer a second factor." in page_text(client.get(MFA))


def test_turning_on_codes_twice_is_a_message_not_an_error_page(two_addresses):
    _account, client = two_addresses
    response = client.post(CODE_FACTOR, {"action": "enable"})
    assert response["Location"] == MFA
    assert "Codes are already a second factor." in page_text(client.get(MFA))


def test_the_code_factor_page_is_post_only(signed_in):
    assert signed_in.get(CODE_FACTOR).status_code == 405


# --- step-up ---------------------------------------------------------------------------------


def test_factor_pages_send_a_stale_session_to_reauthenticate_and_back(signed_in, user, clock):
    clock.advance(settings.REAUTH_WINDOW + 1)
    for path in (TOTP, RECOVERY):
        response = signed_in.get(path)
        assert response["Location"] == f"{REAUTH}?next={path.replace('/', '%2F')}"
    response = signed_in.post(TOTP, {"action": "setup"})
    assert response["Location"] == f"{REAUTH}?next=%2Faccounts%2Fmfa%2Ftotp%2F"
    response = signed_in.post(CODE_FACTOR, {"action": "enable"})
    assert response["Location"] == f"{REAUTH}?next=%2Faccounts%2Fmfa%2F"
    assert not Authenticator.objects.filter(user=user).exists()
    html = page_text(signed_in.get(response["Location"]))
    assert "Confirm it is you to continue." in html
    assert unlabeled_controls(html) == []
    assert 'autocomplete="current-password"' in html

    key_before = signed_in.cookies["sessionid"].value
    response = signed_in.post(REAUTH, {"password": STRONG_PASSWORD, "next": TOTP})
    assert response["Location"] == TOTP
    assert signed_in.cookies["sessionid"].value != key_before  # a new session key
    assert signed_in.get(TOTP).status_code == 200
    assert SecurityEvent.objects.filter(user=user, kind="reauthenticated").count() == 1


def test_removing_the_app_needs_a_recent_authentication(totp_user, signed_in, user, clock):
    clock.advance(settings.REAUTH_WINDOW + 1)
    response = signed_in.post(TOTP, {"action": "remove"})
    assert response["Location"] == f"{REAUTH}?next=%2Faccounts%2Fmfa%2Ftotp%2F"
    user.refresh_from_db()
    assert user.mfa_enabled


def test_a_wrong_password_is_said_beside_the_field(signed_in, clock):
    clock.advance(settings.REAUTH_WINDOW + 1)
    response = signed_in.post(REAUTH, {"password": "Wrong-Horse-9-x", "next": TOTP})
    assert response.status_code == 200
    html = page_text(response)
    assert 'id="id_password_error"' in html
    assert "The current password is incorrect." in html
    assert signed_in.get(TOTP)["Location"].startswith(REAUTH)


def test_reauthenticate_ignores_an_unsafe_next(signed_in):
    response = signed_in.post(
        REAUTH, {"password": STRONG_PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"
    html = page_text(signed_in.get(f"{REAUTH}?next=https://evil.example/"))
    assert "evil.example" not in html


def test_reauthenticate_with_a_code_to_the_primary_address(signed_in, user, clock):
    clock.advance(settings.REAUTH_WINDOW + 1)
    html = page_text(signed_in.get(f"{REAUTH}?next={TOTP}&method=code"))
    assert "Send me a code" in html
    assert "Use your password" in html
    response = signed_in.post(REAUTH, {"action": "send", "next": TOTP})
    assert response["Location"] == f"{REAUTH}?method=code&next=%2Faccounts%2Fmfa%2Ftotp%2F"
    html = page_text(signed_in.get(response["Location"]))
    assert "al***@example.com" in html
    assert 'autocomplete="one-time-code"' in html
    assert unlabeled_controls(html) == []
    response = signed_in.post(REAUTH, {"method": "code", "otp": "000000", "next": TOTP})
    assert "Invalid or expired code." in page_text(response)
    response = signed_in.post(
        REAUTH, {"method": "code", "otp": last_code_for(user.email), "next": TOTP}
    )
    assert response["Location"] == TOTP
    assert signed_in.get(TOTP).status_code == 200


def test_reauthenticate_with_the_authenticator_app(totp_user, signed_in, clock):
    secret, _codes = totp_user
    clock.advance(settings.REAUTH_WINDOW + 1)
    html = page_text(signed_in.get(f"{REAUTH}?method=totp"))
    assert "Code from your authenticator app" in html
    assert "Use a recovery code" in html
    response = signed_in.post(REAUTH, {"method": "totp", "otp": totp_now(secret), "next": MFA})
    assert response["Location"] == MFA
    assert signed_in.get(TOTP).status_code == 200


def test_a_passwordless_address_change_is_sent_to_reauthenticate(make_user, make_browser, clock):
    make_user(email="nopass@example.com", password=None)
    client = make_browser()
    client.post("/accounts/login/code/", {"identifier": "nopass@example.com"})
    client.post("/accounts/login/code/verify/", {"otp": last_code_for("nopass@example.com")})
    clock.advance(settings.REAUTH_WINDOW + 1)
    response = client.post("/accounts/contact/", {"identifier": "new@example.com"})
    assert response["Location"] == f"{REAUTH}?next=%2Faccounts%2Fcontact%2F"
    html = page_text(client.get(response["Location"]))
    assert 'name="password"' not in html  # no password to give: a code instead
    assert "Send me a code" in html
    client.post(REAUTH, {"action": "send", "next": "/accounts/contact/"})
    response = client.post(
        REAUTH,
        {
            "method": "code",
            "otp": last_code_for("nopass@example.com"),
            "next": "/accounts/contact/",
        },
    )
    assert response["Location"] == "/accounts/contact/"
    response = client.post("/accounts/contact/", {"identifier": "new@example.com"})
    assert response["Location"] == "/accounts/contact/verify/"


def test_the_reauthenticate_page_is_for_signed_in_browsers(browser):
    response = browser.get(REAUTH)
    assert response["Location"] == f"{LOGIN}?next={REAUTH}"


def test_the_events_of_the_pages_are_recorded(totp_user, user):
    kinds = set(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {"mfa_enabled", "login_success"} <= kinds
    assert any("second factor" in m.lower() for m in messages_to(user.email))
    assert User.objects.get(pk=user.pk).mfa_enabled


def test_confirming_with_a_password_whose_hash_is_upgraded_keeps_this_browser_signed_in(
    signed_in, user, clock, settings
):
    """Found in review: the right password remakes an old hash (new Argon2
    costs), and Django's session check is a digest of the hash, so the browser
    that had just confirmed it was you was signed out at its next page."""
    from accounts.models import User
    from accounts.tests.helpers import give_old_password_hash

    old = give_old_password_hash(user, STRONG_PASSWORD, settings, browser=signed_in)
    clock.advance(settings.REAUTH_WINDOW + 1)
    response = signed_in.post(REAUTH, {"password": STRONG_PASSWORD, "next": TOTP})
    assert response["Location"] == TOTP
    assert User.objects.get(pk=user.pk).password != old  # upgraded
    assert signed_in.get(TOTP).status_code == 200
