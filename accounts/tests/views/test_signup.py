import re

import pytest

from accounts.models import SecurityEvent, SignupAttempt, User
from accounts.tests.helpers import last_code_for, messages_to, wrong_code
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
VERIFY = "/accounts/verify/"
RESEND = "/accounts/code/resend/"
DISABLED_RESEND = re.compile(r'<button[^>]*id="resend-button"[^>]*disabled')


def signup(client, **fields):
    data = {"password": STRONG_PASSWORD, "password2": STRONG_PASSWORD, **fields}
    return client.post(SIGNUP, data)


def test_signup_by_email_then_verify_signs_in(browser):
    response = signup(browser, email="Bob@Example.com", first_name="Bob", last_name="Builder")
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    page = browser.get(VERIFY).content.decode()
    assert "Enter the code we sent to finish signing up." in page
    # The address just typed, in full, so that a typo shows.
    assert '<strong class="address">bob@example.com</strong>' in page
    # Nothing is an account until the code is entered.
    assert not User.objects.filter(email="bob@example.com").exists()
    assert SignupAttempt.objects.filter(email="bob@example.com").exists()

    response = browser.post(VERIFY, {"otp": last_code_for("bob@example.com")})
    assert response["Location"] == "/profile/"
    page = browser.get("/profile/").content.decode()
    assert "Account verified. Signed in." in page
    assert "Bob Builder" in page
    user = User.objects.get(email="bob@example.com")
    assert user.profile.first_name == "Bob"
    assert user.email_verified
    assert user.last_login is not None
    kinds = set(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {SecurityEvent.SIGNUP, SecurityEvent.VERIFICATION, SecurityEvent.LOGIN_SUCCESS} <= kinds


def test_signup_by_phone_sends_the_code_by_sms(browser, sms_outbox):
    response = signup(browser, phone="+91 98765 43210")
    assert response["Location"] == VERIFY
    assert "+91 98765 43210" in browser.get(VERIFY).content.decode()
    browser.post(VERIFY, {"otp": last_code_for("+919876543210")})
    assert User.objects.get(phone="+919876543210").phone_verified


def test_signup_with_phone_and_email_then_confirms_the_email(browser, sms_outbox):
    signup(browser, phone="+919876543210", email="bob@example.com")
    response = browser.post(VERIFY, {"otp": last_code_for("+919876543210")})
    assert response["Location"] == "/accounts/contact/verify/"
    page = browser.get("/accounts/contact/verify/").content.decode()
    assert "We also sent a code to b***@example.com" in page
    response = browser.post("/accounts/contact/verify/", {"otp": last_code_for("bob@example.com")})
    assert response["Location"] == "/profile/"
    user = User.objects.get(phone="+919876543210")
    assert user.email == "bob@example.com" and user.email_verified


def test_signup_with_an_address_of_a_verified_account_looks_like_a_fresh_one(browser, user):
    fresh = type(browser)()
    taken = signup(browser, email=user.email)
    new = signup(fresh, email="new@example.com")
    assert taken.status_code == new.status_code == 302
    assert taken["Location"] == new["Location"] == VERIFY
    assert "Enter the code we sent to finish signing up." in browser.get(VERIFY).content.decode()
    # The owner gets a notice, not a code; the password is unchanged.
    assert any("sign" in text.lower() for text in messages_to(user.email))
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_mismatched_passwords_are_an_error_beside_the_second(browser):
    response = browser.post(
        SIGNUP, {"email": "bob@example.com", "password": STRONG_PASSWORD, "password2": "Other-9-x"}
    )
    assert response.status_code == 200
    assert 'id="id_password2_error"' in response.content.decode()
    assert not SignupAttempt.objects.exists()


def test_a_weak_password_is_refused_with_the_reasons(browser):
    response = browser.post(
        SIGNUP, {"email": "bob@example.com", "password": "12345678", "password2": "12345678"}
    )
    html = response.content.decode()
    assert 'id="id_password_error"' in html
    assert "too common" in html
    assert not SignupAttempt.objects.exists()


def test_neither_email_nor_phone_is_an_error(browser):
    response = signup(browser)
    assert response.status_code == 200
    assert "Give an email address or a phone number." in response.content.decode()


def test_five_wrong_codes_kill_the_code(browser):
    signup(browser, email="bob@example.com")
    code = last_code_for("bob@example.com")
    for _ in range(4):
        response = browser.post(VERIFY, {"otp": wrong_code(code)})
        assert "Invalid or expired code." in response.content.decode()
    response = browser.post(VERIFY, {"otp": wrong_code(code)})
    assert "This code had too many wrong tries and no longer works." in response.content.decode()
    response = browser.post(VERIFY, {"otp": code})
    assert response.status_code == 200
    assert "This code had too many wrong tries and no longer works." in response.content.decode()
    assert not User.objects.filter(email="bob@example.com").exists()


def test_the_resend_button_honours_the_cooldown(browser, clock):
    signup(browser, email="bob@example.com")
    page = browser.get(VERIFY).content.decode()
    assert DISABLED_RESEND.search(page)
    assert "Send a new code (in 30 s)" in page

    clock.advance(10)
    page = browser.get(VERIFY).content.decode()
    assert "Send a new code (in 20 s)" in page
    response = browser.post(RESEND, {"flow": "signup"})
    assert response["Location"] == VERIFY
    page = browser.get(VERIFY).content.decode()
    assert "Please wait before requesting another code. Try again in 20 seconds." in page
    assert DISABLED_RESEND.search(page)

    clock.advance(21)
    page = browser.get(VERIFY).content.decode()
    assert not DISABLED_RESEND.search(page)
    response = browser.post(RESEND, {"flow": "signup"})
    assert response["Location"] == VERIFY
    page = browser.get(VERIFY).content.decode()
    assert "A new code is on its way to bob@example.com." in page
    assert DISABLED_RESEND.search(page)
    assert browser.post(VERIFY, {"otp": last_code_for("bob@example.com")}).status_code == 302


def test_a_new_code_after_a_dead_one_verifies(browser, clock):
    signup(browser, email="bob@example.com")
    code = last_code_for("bob@example.com")
    for _ in range(5):
        browser.post(VERIFY, {"otp": wrong_code(code)})
    clock.advance(31)
    browser.post(RESEND, {"flow": "signup"})
    response = browser.post(VERIFY, {"otp": last_code_for("bob@example.com")})
    assert response.status_code == 302


def test_resend_without_a_flow_goes_to_its_start(browser):
    response = browser.post(RESEND, {"flow": "signup"})
    assert response["Location"] == SIGNUP
    response = browser.post(RESEND, {"flow": "contact"})
    assert response["Location"] == "/accounts/login/"
    assert browser.post(RESEND, {"flow": "nonsense"}).status_code == 400


def test_a_spent_daily_code_budget_shows_the_429_page(browser, settings):
    settings.OTP_MAX_FAILURES_PER_DAY = 3
    signup(browser, email="bob@example.com")
    code = last_code_for("bob@example.com")
    responses = [browser.post(VERIFY, {"otp": wrong_code(code)}) for _ in range(3)]
    locked = responses[-1]
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "Too many wrong codes for this address." in locked.content.decode()


# --- email or phone, one choice (issue 19, point 4) ------------------------------------------------


def test_email_and_phone_are_one_choice(browser):
    html = browser.get(SIGNUP).content.decode()
    fieldset = re.search(r"<fieldset[^>]*>.*?</fieldset>", html, re.S).group(0)
    assert "<legend>Email or phone — at least one</legend>" in fieldset
    assert 'name="email"' in fieldset and 'name="phone"' in fieldset
    assert "(optional)" not in fieldset  # the legend says it for the pair


def test_neither_email_nor_phone_is_said_once_for_the_pair(browser):
    response = signup(browser, first_name="Bob")
    html = response.content.decode()
    assert html.count("Give an email address or a phone number.") == 1
    fieldset = re.search(r"<fieldset[^>]*>.*?</fieldset>", html, re.S).group(0)
    assert 'id="address-errors"' in fieldset
    assert 'aria-describedby="address-help address-errors"' in fieldset
    for name in ("email", "phone"):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', fieldset).group(0)
        assert 'aria-invalid="true"' in field
    assert not SignupAttempt.objects.exists()


def test_the_pair_is_said_with_the_other_errors_at_once(browser):
    response = browser.post(SIGNUP, {"password": STRONG_PASSWORD, "password2": "Other-9-x"})
    html = response.content.decode()
    assert html.count("Give an email address or a phone number.") == 1
    assert 'id="id_password2_error"' in html


def test_an_invalid_email_is_said_beside_the_email_only(browser):
    html = signup(browser, email="not-an-email", phone="").content.decode()
    assert 'id="id_email_error"' in html
    assert 'id="address-errors"' not in html
    assert "Give an email address or a phone number." not in html
