import pytest

from accounts.models import DeviceSession
from accounts.tests.helpers import last_code_for, messages_to, wrong_code
from accounts.tests.views.pages import LOGIN, sign_in
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

FORGOT = "/accounts/password/forgot/"
VERIFY = "/accounts/password/forgot/verify/"
RESET = "/accounts/password/reset/"
NEW_PASSWORD = "Brand-New-Horse-7"


def reset(client, identifier: str, destination: str, new_password: str = NEW_PASSWORD):
    assert client.post(FORGOT, {"identifier": identifier})["Location"] == VERIFY
    assert client.post(VERIFY, {"otp": last_code_for(destination)})["Location"] == RESET
    return client.post(RESET, {"new_password": new_password, "new_password2": new_password})


def test_forgot_verify_reset_then_sign_in_with_the_new_password(browser, make_browser, user):
    other = make_browser()
    sign_in(other)
    response = reset(browser, user.email, user.email)
    assert response["Location"] == LOGIN
    assert "Your password has been reset. Sign in with it." in browser.get(LOGIN).content.decode()
    # No automatic sign-in; every session revoked; the other browser is out.
    assert browser.get("/profile/").status_code == 302
    assert other.get("/profile/").status_code == 302
    assert not DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    failed = browser.post(LOGIN, {"identifier": user.email, "password": STRONG_PASSWORD})
    assert failed.status_code == 200
    sign_in(browser, user.email, NEW_PASSWORD)
    assert any("reset" in text.lower() for text in messages_to(user.email))


def test_the_answer_is_the_same_for_an_unknown_address(browser, make_browser, user):
    other = make_browser()
    known = browser.post(FORGOT, {"identifier": user.email})
    unknown = other.post(FORGOT, {"identifier": "nobody@example.com"})
    assert known["Location"] == unknown["Location"] == VERIFY
    known_page = browser.get(VERIFY).content.decode().replace("al***@example.com", "X")
    unknown_page = other.get(VERIFY).content.decode().replace("no***@example.com", "X")
    strip = __import__("re").compile(r'value="[^"]{40,}"')
    assert strip.sub("", known_page) == strip.sub("", unknown_page)


def test_reset_by_phone(browser, make_user, sms_outbox):
    make_user(phone="+919876543210")
    response = reset(browser, "+91 98765 43210", "+919876543210")
    assert response["Location"] == LOGIN
    sign_in(browser, "+919876543210", NEW_PASSWORD)


def test_a_weak_new_password_keeps_the_verified_code(browser, user):
    browser.post(FORGOT, {"identifier": user.email})
    browser.post(VERIFY, {"otp": last_code_for(user.email)})
    response = browser.post(RESET, {"new_password": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert 'id="id_new_password_error"' in response.content.decode()
    response = browser.post(RESET, {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == LOGIN


def test_a_wrong_code_stays_on_the_verify_step(browser, user):
    browser.post(FORGOT, {"identifier": user.email})
    response = browser.post(VERIFY, {"otp": wrong_code(last_code_for(user.email))})
    assert response.status_code == 200
    assert "Invalid or expired code." in response.content.decode()
    assert browser.get(RESET)["Location"] == VERIFY


def test_a_locked_out_user_can_still_reset(browser, user, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(3):
        browser.post(LOGIN, {"identifier": user.email, "password": "Wrong-Horse-9-x"})
    assert browser.post(LOGIN, {"identifier": user.email, "password": "x"}).status_code == 429
    reset(browser, user.email, user.email)
    sign_in(browser, user.email, NEW_PASSWORD)


def test_the_verified_code_is_never_stored_server_side(browser, user):
    from django.contrib.sessions.models import Session

    browser.post(FORGOT, {"identifier": user.email})
    code = last_code_for(user.email)
    response = browser.post(VERIFY, {"otp": code})
    assert response["Location"] == RESET
    for session in Session.objects.all():
        assert code not in session.session_data
        assert code not in str(session.get_decoded())
    cookie = response.cookies["authsite_reset_code"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == RESET
    done = browser.post(RESET, {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == LOGIN
    assert done.cookies["authsite_reset_code"].value == ""  # forgotten once spent


def test_a_forged_reset_cookie_is_refused(browser, user):
    browser.post(FORGOT, {"identifier": user.email})
    browser.post(VERIFY, {"otp": last_code_for(user.email)})
    browser.cookies["authsite_reset_code"] = "123456"  # unsigned
    response = browser.get(RESET)
    assert response["Location"] == VERIFY
