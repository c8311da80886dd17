import pytest

from accounts.models import DeviceSession, User
from accounts.tests.helpers import last_code_for, wrong_code

pytestmark = pytest.mark.django_db

REQUEST = "/accounts/login/code/"
ENTER = "/accounts/login/code/verify/"


def test_sign_in_with_a_code(browser, user):
    response = browser.post(REQUEST, {"identifier": "Alice@Example.com"})
    assert response["Location"] == ENTER
    page = browser.get(ENTER).content.decode()
    assert "If this address can sign in, a code is on its way." in page
    assert "al***@example.com" in page
    response = browser.post(ENTER, {"otp": last_code_for(user.email)})
    assert response["Location"] == "/"
    assert "Signed in." in browser.get("/").content.decode()
    assert DeviceSession.objects.filter(user=user, kind=DeviceSession.WEB).count() == 1


def test_known_and_unknown_addresses_get_the_same_answer(browser, make_browser, user):
    other = make_browser()
    known = browser.post(REQUEST, {"identifier": user.email})
    unknown = other.post(REQUEST, {"identifier": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_a_code_to_a_new_address_creates_the_account(browser, sms_outbox):
    browser.post(REQUEST, {"identifier": "+919876543210"})
    browser.post(ENTER, {"otp": last_code_for("+919876543210")})
    assert "Your account has been created" in browser.get("/").content.decode()
    user = User.objects.get(phone="+919876543210")
    assert user.phone_verified and not user.has_usable_password()


def test_a_wrong_code_is_an_error_beside_the_field(browser, user):
    browser.post(REQUEST, {"identifier": user.email})
    response = browser.post(ENTER, {"otp": wrong_code(last_code_for(user.email))})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_otp_error"' in html
    assert "Invalid or expired code." in html


def test_a_username_is_not_an_address(browser, user):
    response = browser.post(REQUEST, {"identifier": "alice_1"})
    assert response.status_code == 200
    assert "Enter an email address or a phone number." in response.content.decode()


def test_a_second_request_within_the_cooldown_gets_the_429_page(browser, user):
    browser.post(REQUEST, {"identifier": user.email})
    response = browser.post(REQUEST, {"identifier": user.email})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Please wait before requesting another code." in response.content.decode()


def test_both_code_pages_say_that_a_new_address_gets_an_account(browser, user):
    notice = "If no account uses the address yet, entering the code creates one"
    assert notice in browser.get(REQUEST).content.decode()
    browser.post(REQUEST, {"identifier": "nobody@example.com"})
    page = browser.get(ENTER).content.decode()
    assert "If no account uses this address yet, entering the code creates one." in page
    # Said alike whoever owns the address: nothing tells whether it has an account.
    other = type(browser)()
    other.post(REQUEST, {"identifier": user.email})
    mine = other.get(ENTER).content.decode()
    assert "If no account uses this address yet, entering the code creates one." in mine


def test_without_account_creation_the_pages_promise_none(browser, settings):
    settings.OTP_LOGIN_CREATES_ACCOUNT = False
    assert "creates one" not in browser.get(REQUEST).content.decode()
    browser.post(REQUEST, {"identifier": "nobody@example.com"})
    assert "creates one" not in browser.get(ENTER).content.decode()
