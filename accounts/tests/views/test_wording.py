"""Wording and feedback (issue 19, point 5): "Signed in." after every kind
of sign-in, no "identifier" in anything a person reads, "This wasn't me"
only where it helps and only after a confirmation, the danger button for
deleting by code, "active now"."""

import re
from html.parser import HTMLParser

import pytest

from accounts.models import SecurityEvent
from accounts.tests.helpers import last_code_for, wrong_code
from accounts.tests.views.pages import LOGIN, page_text, sign_in
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

ACTIVITY = "/accounts/activity/"


# --- "Signed in." ----------------------------------------------------------------------------


def test_every_kind_of_sign_in_says_signed_in(make_browser, make_user, sms_outbox):
    make_user(email="alice@example.com")
    password = make_browser()
    response = sign_in(password)
    assert "Signed in." in page_text(password.get(response["Location"]))

    code = make_browser()
    code.post("/accounts/login/code/", {"identifier": "alice@example.com"})
    response = code.post(
        "/accounts/login/code/verify/", {"otp": last_code_for("alice@example.com")}
    )
    assert "Signed in." in page_text(code.get(response["Location"]))

    new = make_browser()
    new.post("/accounts/login/code/", {"identifier": "+919876543210"})
    response = new.post("/accounts/login/code/verify/", {"otp": last_code_for("+919876543210")})
    html = page_text(new.get(response["Location"]))
    assert "Welcome! Your account has been created. Signed in." in html

    signup = make_browser()
    signup.post(
        "/accounts/signup/",
        {"email": "bob@example.com", "password": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )
    response = signup.post("/accounts/verify/", {"otp": last_code_for("bob@example.com")})
    assert "Account verified. Signed in." in page_text(signup.get(response["Location"]))


# --- no "identifier" --------------------------------------------------------------------------


class ReadableText(HTMLParser):
    """What a person reads or hears: text, and the attributes that are read
    out or shown (not names, ids or values that only the server sees)."""

    SPOKEN = ("aria-label", "title", "placeholder", "alt", "data-show-password")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in self.SPOKEN and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def readable(response) -> str:
    parser = ReadableText()
    parser.feed(response.content.decode())
    return " ".join(parser.parts)


def test_no_page_says_identifier(browser, signed_in, user):
    answers = [
        browser.get(LOGIN),
        browser.post(LOGIN, {"identifier": user.email, "password": "Wrong-Horse-9-x"}),
        browser.post(LOGIN, {"identifier": "", "password": ""}),
        browser.post(LOGIN, {"identifier": "nobody@example.com", "password": "Wrong-Horse-9-x"}),
        browser.get("/accounts/login/code/"),
        browser.post("/accounts/login/code/", {"identifier": "alice_1"}),
        browser.get("/accounts/password/forgot/"),
        browser.post("/accounts/password/forgot/", {"identifier": ""}),
        browser.get("/accounts/signup/"),
        browser.post("/accounts/signup/", {"password": "x", "password2": "y"}),
        signed_in.get("/accounts/contact/"),
        signed_in.post("/accounts/contact/", {"identifier": "x", "password": "y"}),
        signed_in.get(ACTIVITY),
        signed_in.get("/accounts/sessions/"),
    ]
    for response in answers:
        text = readable(response)
        assert text.strip(), response.request["PATH_INFO"]
        assert "identifier" not in text.lower(), (response.request["PATH_INFO"], text)


def test_a_wrong_password_names_what_may_be_wrong(browser, user):
    html = page_text(browser.post(LOGIN, {"identifier": user.email, "password": "Wrong-9-x"}))
    assert "The email, phone number, username or password is incorrect." in html


# --- "This wasn't me" ---------------------------------------------------------------------------


def not_me_links(html: str) -> list[str]:
    return re.findall(r'<a[^>]*href="\?not_me=(\d+)"[^>]*>This wasn(?:\'|&#x27;)t me</a>', html)


def test_this_wasnt_me_is_offered_only_on_events_one_can_act_on(signed_in, user):
    SecurityEvent.objects.filter(user=user).delete()
    actionable = [
        SecurityEvent.LOGIN_SUCCESS,
        SecurityEvent.LOGIN_FAILURE,
        SecurityEvent.NEW_DEVICE_LOGIN,
        SecurityEvent.PASSWORD_CHANGED,
        SecurityEvent.PASSWORD_RESET,
        SecurityEvent.CONTACT_CHANGED,
        SecurityEvent.MFA_ENABLED,
        SecurityEvent.MFA_DISABLED,
        SecurityEvent.MFA_FAILED,
    ]
    informative = [
        SecurityEvent.SIGNUP,
        SecurityEvent.VERIFICATION,
        SecurityEvent.CODE_SENT,
        SecurityEvent.LOGOUT,
        SecurityEvent.SESSION_REVOKED,
        SecurityEvent.NOT_ME,
        SecurityEvent.DELIVERY_FAILED,
    ]
    made = {
        kind: SecurityEvent.objects.create(user=user, kind=kind).pk
        for kind in actionable + informative
    }
    html = page_text(signed_in.get(ACTIVITY))
    offered = {int(pk) for pk in not_me_links(html)}
    assert offered == {made[kind] for kind in actionable}
    assert html.count('<li class="row">') == len(made)


def test_this_wasnt_me_asks_first_and_names_the_event(signed_in, user):
    event = SecurityEvent.objects.create(
        user=user, kind=SecurityEvent.LOGIN_SUCCESS, ip="203.0.113.9"
    )
    response = signed_in.get(f"{ACTIVITY}?not_me={event.pk}")
    assert response.status_code == 200
    html = page_text(response)
    assert "Signed in" in html and "203.0.113.9" in html
    assert "al***@example.com" in html
    assert (
        f'<form method="post" action="/accounts/activity/{event.pk}/not-me/" class="actions">'
        in html
    )
    assert '<button type="submit" class="danger">Sign out everywhere and reset my password' in html
    assert '<a href="/accounts/activity/">Cancel, it was me</a>' in html
    # Asking changed nothing.
    assert signed_in.get("/profile/").status_code == 200


def test_this_wasnt_me_is_not_asked_for_other_events(signed_in, user, make_user):
    logout = SecurityEvent.objects.create(user=user, kind=SecurityEvent.LOGOUT)
    bob = make_user(email="bob@example.com")
    bobs = SecurityEvent.objects.create(user=bob, kind=SecurityEvent.LOGIN_SUCCESS)
    for event_id in (logout.pk, bobs.pk, "x", ""):
        assert signed_in.get(f"{ACTIVITY}?not_me={event_id}").status_code == 404


def test_after_this_wasnt_me_the_reset_page_speaks_to_the_owner(signed_in, user):
    event = SecurityEvent.objects.filter(user=user, kind=SecurityEvent.LOGIN_SUCCESS).first()
    response = signed_in.post(f"/accounts/activity/{event.pk}/not-me/")
    html = page_text(signed_in.get(response["Location"]))
    assert "Enter the code we sent to <strong>al***@example.com</strong>" in html
    assert "the address of your account" in html
    assert "If an account uses" not in html
    assert "Use another address" not in html


def test_the_reset_page_of_a_typed_address_stays_enumeration_safe(browser, user):
    browser.post("/accounts/password/forgot/", {"identifier": user.email})
    html = page_text(browser.get("/accounts/password/forgot/verify/"))
    assert "If an account uses <strong>al***@example.com</strong>, we sent it a code." in html


# --- delete by code; active now ---------------------------------------------------------------


def test_deleting_by_code_uses_the_danger_button(make_user, make_browser, clock):
    make_user(email="bob@example.com", password=None)
    client = make_browser()
    client.post("/accounts/login/code/", {"identifier": "bob@example.com"})
    client.post("/accounts/login/code/verify/", {"otp": last_code_for("bob@example.com")})
    clock.advance(31)
    client.post("/accounts/delete/", {"action": "send"})
    html = page_text(client.get("/accounts/delete/"))
    assert '<button type="submit" class="danger">Delete my account</button>' in html
    html = page_text(
        client.post("/accounts/delete/", {"otp": wrong_code(last_code_for("bob@example.com"))})
    )
    assert '<button type="submit" class="danger">Delete my account</button>' in html


def test_a_device_used_this_minute_is_active_now(signed_in, user, clock):
    from datetime import timedelta

    from accounts.services.tokens import session_open
    from authsite.client import ClientInfo

    app = session_open(user=user, client=ClientInfo(user_agent="MobileApp/1.0")).session
    type(app).objects.filter(pk=app.pk).update(last_used_at=clock() - timedelta(minutes=5))
    html = page_text(signed_in.get("/accounts/sessions/"))
    assert html.count("active now") == 1  # this browser, this minute
    assert "0 minutes ago" not in html
    assert "active 5\xa0minutes ago" in html  # the app (timesince joins with a no-break space)
