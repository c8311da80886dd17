import re

import pytest
from django.contrib.sessions.models import Session

from accounts.models import DeviceSession, SecurityEvent, User
from accounts.tests.helpers import last_code_for, messages_to
from accounts.tests.views.pages import LOGIN, sign_in
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def test_sign_in_with_a_password_opens_a_web_session(browser, user):
    response = sign_in(browser)
    assert response["Location"] == "/"
    assert "Signed in as alice@example.com" in browser.get("/").content.decode()
    session = DeviceSession.objects.get(user=user)
    assert session.kind == DeviceSession.WEB
    assert browser.session["_web_session_id"] == str(session.pk)
    user.refresh_from_db()
    assert user.last_login is not None
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.LOGIN_SUCCESS).count() == 1


@pytest.mark.parametrize(
    "identifier", ["ALICE@example.com", "+919876543210", "9876543210", "Alice_1"]
)
def test_sign_in_by_email_phone_or_username(browser, make_user, identifier):
    make_user(email="alice@example.com", phone="+919876543210", username="alice_1")
    sign_in(browser, identifier)


def test_the_session_key_changes_at_sign_in(browser, user):
    session = browser.session
    session["before"] = "sign-in"
    session.save()
    before = session.session_key
    sign_in(browser)
    after = browser.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_unknown_identifier_and_wrong_password_show_the_same_page(browser, user):
    def page(identifier):
        response = browser.post(LOGIN, {"identifier": identifier, "password": "Wrong-Horse-9-x"})
        assert response.status_code == 200
        html = TOKEN_RE.sub("", response.content.decode())
        return html.replace(identifier, "IDENTIFIER")

    wrong = page(user.email)
    unknown = page("nobody@example.com")
    assert wrong == unknown
    assert "The email, phone number, username or password is incorrect." in wrong


def test_the_sign_in_lockout_shows_the_429_page(browser, user, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        response = browser.post(LOGIN, {"identifier": user.email, "password": "Wrong-Horse-9-x"})
        assert response.status_code == 200
    response = browser.post(LOGIN, {"identifier": user.email, "password": STRONG_PASSWORD})
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert wait > 0
    html = response.content.decode()
    assert "Too many attempts" in html
    assert f"Try again in {wait} seconds." in html


def test_an_unfinished_signup_is_sent_to_verify_without_a_new_code(browser, clock):
    browser.post(
        "/accounts/signup/",
        {"email": "bob@example.com", "password": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )
    first_code = last_code_for("bob@example.com")
    fresh = type(browser)()
    sent_before = len(messages_to("bob@example.com"))
    response = fresh.post(LOGIN, {"identifier": "bob@example.com", "password": STRONG_PASSWORD})
    assert response["Location"] == "/accounts/verify/"
    page = fresh.get("/accounts/verify/").content.decode()
    assert "You have not finished signing up. Enter the code we sent to b***@example.com" in page
    # The pipeline sends nothing by itself (SPEC §15): the user asks for a new code.
    assert len(messages_to("bob@example.com")) == sent_before
    assert not re.search(r"<button[^>]*id=\"resend-button\"[^>]*disabled", page)
    clock.advance(31)
    response = fresh.post("/accounts/code/resend/", {"flow": "signup"})
    assert response["Location"] == "/accounts/verify/"
    code = last_code_for("bob@example.com")
    assert code != first_code
    response = fresh.post("/accounts/verify/", {"otp": code})
    assert response.status_code == 302
    user = User.objects.get(email="bob@example.com")
    assert user.email_verified
    assert "Signed in as bob@example.com" in fresh.get("/").content.decode()


def test_an_unverified_account_is_told_to_sign_in_with_a_code(browser, make_user):
    make_user(email="bob@example.com", verified=False)  # made by staff, never verified
    response = browser.post(LOGIN, {"identifier": "bob@example.com", "password": STRONG_PASSWORD})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This account is not verified yet. Sign in with a code sent to b***@example.com" in page
    assert "_auth_user_id" not in browser.session


def test_a_wrong_password_of_an_unverified_account_says_nothing_about_it(browser, make_user):
    make_user(email="bob@example.com", verified=False)
    response = browser.post(LOGIN, {"identifier": "bob@example.com", "password": "Wrong-Horse-9-x"})
    assert response.status_code == 200
    assert (
        "The email, phone number, username or password is incorrect." in response.content.decode()
    )


def test_an_inactive_account_is_told_after_the_right_password(browser, make_user):
    make_user(email="bob@example.com", is_active=False)
    response = browser.post(LOGIN, {"identifier": "bob@example.com", "password": STRONG_PASSWORD})
    assert response.status_code == 200
    assert "This account has been disabled." in response.content.decode()


def test_next_is_followed_only_within_the_site(browser, user):
    page = browser.get(LOGIN + "?next=/accounts/sessions/").content.decode()
    assert 'name="next" value="/accounts/sessions/"' in page
    response = browser.post(
        LOGIN,
        {"identifier": user.email, "password": STRONG_PASSWORD, "next": "/accounts/sessions/"},
    )
    assert response["Location"] == "/accounts/sessions/"
    other = type(browser)()
    response = other.post(
        LOGIN,
        {"identifier": user.email, "password": STRONG_PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_the_login_page_links_to_code_sign_in_and_reset(browser):
    page = browser.get(LOGIN).content.decode()
    assert 'href="/accounts/login/code/"' in page
    assert 'href="/accounts/password/forgot/"' in page
