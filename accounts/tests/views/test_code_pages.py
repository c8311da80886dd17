"""The pages where a code is typed (issue 19, point 2): the address just
typed shown in full with a way back to change it, the tries left after a
wrong code on every one of them, a dead code's message agreeing with the
"send a new code" button, the second address of a sign-up waiting out its
code's cooldown, and a pasted "123-456" or "123 456" taken as the code."""

import re

import pytest
from django.conf import settings

from accounts.models import User
from accounts.tests.helpers import last_code_for, wrong_code
from accounts.tests.views.pages import page_text
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
VERIFY = "/accounts/verify/"
CONTACT = "/accounts/contact/"
CONTACT_VERIFY = "/accounts/contact/verify/"
RESEND = "/accounts/code/resend/"
DISABLED_RESEND = re.compile(r'<button[^>]*id="resend-button"[^>]*disabled')


def resend_button(html: str) -> str:
    match = re.search(r'<button[^>]*id="resend-button"[^>]*>[^<]*</button>', html)
    assert match, html[:3000]
    return match.group(0)


def signup(client, **fields):
    data = {"password": STRONG_PASSWORD, "password2": STRONG_PASSWORD, **fields}
    response = client.post(SIGNUP, data)
    assert response["Location"] == VERIFY, page_text(response)[:2000]
    return response


# --- the address just typed ---------------------------------------------------------------------


def test_the_sign_up_code_page_shows_the_address_typed_in_full_with_a_way_back(browser):
    signup(browser, email="Bob@Example.com", first_name="Bob", username="bobby")
    html = page_text(browser.get(VERIFY))
    assert '<strong class="address">bob@example.com</strong>' in html
    assert "b***@example.com" not in html
    assert '<a href="/accounts/signup/?change=1">Wrong address? Change it</a>' in html
    # Back on the form, what was typed is there again, but never a password.
    form = page_text(browser.get("/accounts/signup/?change=1"))
    assert 'value="bob@example.com"' in form
    assert 'value="Bob"' in form
    assert 'value="bobby"' in form
    assert STRONG_PASSWORD not in form
    # Signing up again with the right address starts over.
    signup(browser, email="robert@example.com")
    html = page_text(browser.get(VERIFY))
    assert '<strong class="address">robert@example.com</strong>' in html


def test_a_phone_number_is_shown_grouped_as_people_read_it(browser, sms_outbox):
    signup(browser, phone="+919876543210")
    assert '<strong class="address">+91 98765 43210</strong>' in page_text(browser.get(VERIFY))


def test_the_sign_up_form_is_empty_unless_asked_to_change(browser):
    signup(browser, email="bob@example.com")
    assert 'value="bob@example.com"' not in page_text(browser.get(SIGNUP))


def test_an_unfinished_sign_up_met_at_sign_in_keeps_the_address_masked(browser):
    signup(browser, email="bob@example.com")
    other = type(browser)()
    other.post("/accounts/login/", {"identifier": "bob@example.com", "password": STRONG_PASSWORD})
    html = page_text(other.get(VERIFY))
    assert "b***@example.com" in html
    assert "Wrong address?" not in html


def test_the_address_change_code_page_shows_the_new_address_with_a_way_back(signed_in):
    signed_in.post(CONTACT, {"identifier": "New@Example.com", "password": STRONG_PASSWORD})
    html = page_text(signed_in.get(CONTACT_VERIFY))
    assert '<strong class="address">new@example.com</strong>' in html
    assert '<a href="/accounts/contact/">Wrong address? Change it</a>' in html


def test_the_sign_in_and_reset_code_pages_keep_the_address_masked(browser, user):
    browser.post("/accounts/login/code/", {"identifier": user.email})
    assert "al***@example.com" in page_text(browser.get("/accounts/login/code/verify/"))
    browser.post("/accounts/password/forgot/", {"identifier": user.email})
    html = page_text(browser.get("/accounts/password/forgot/verify/"))
    assert "al***@example.com" in html
    assert user.email not in html


# --- tries left -----------------------------------------------------------------------------------


def wrong_tries_say_the_tries_left(client, path: str, code: str, **extra):
    for left in (4, 3, 2):
        html = page_text(client.post(path, {"otp": wrong_code(code), **extra}))
        assert f"Invalid or expired code. {left} tries left." in html, path
        assert 'id="id_otp_error"' in html
    html = page_text(client.post(path, {"otp": wrong_code(code), **extra}))
    assert "Invalid or expired code. 1 try left." in html


def test_the_sign_up_code_page_says_the_tries_left(browser):
    signup(browser, email="bob@example.com")
    wrong_tries_say_the_tries_left(browser, VERIFY, last_code_for("bob@example.com"))


def test_the_sign_in_code_page_says_the_tries_left(browser, user):
    browser.post("/accounts/login/code/", {"identifier": user.email})
    wrong_tries_say_the_tries_left(
        browser, "/accounts/login/code/verify/", last_code_for(user.email)
    )


def test_the_reset_code_page_says_the_tries_left(browser, user):
    browser.post("/accounts/password/forgot/", {"identifier": user.email})
    wrong_tries_say_the_tries_left(
        browser, "/accounts/password/forgot/verify/", last_code_for(user.email)
    )


def test_the_address_change_code_page_says_the_tries_left(signed_in):
    signed_in.post(CONTACT, {"identifier": "new@example.com", "password": STRONG_PASSWORD})
    wrong_tries_say_the_tries_left(signed_in, CONTACT_VERIFY, last_code_for("new@example.com"))


def test_the_delete_by_code_page_says_the_tries_left(make_user, make_browser, clock):
    make_user(email="bob@example.com", password=None)
    client = make_browser()
    client.post("/accounts/login/code/", {"identifier": "bob@example.com"})
    client.post("/accounts/login/code/verify/", {"otp": last_code_for("bob@example.com")})
    clock.advance(31)
    client.post("/accounts/delete/", {"action": "send"})
    wrong_tries_say_the_tries_left(client, "/accounts/delete/", last_code_for("bob@example.com"))


def test_the_reauthenticate_code_page_says_the_tries_left(signed_in, user, clock):
    clock.advance(settings.REAUTH_WINDOW + 1)
    signed_in.post("/accounts/reauthenticate/", {"action": "send"})
    wrong_tries_say_the_tries_left(
        signed_in, "/accounts/reauthenticate/", last_code_for(user.email), method="code"
    )


# --- a dead code ----------------------------------------------------------------------------------


def kill_the_code(client, path: str, code: str, **extra) -> str:
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        response = client.post(path, {"otp": wrong_code(code), **extra})
    return page_text(response)


def test_after_the_fifth_wrong_code_the_message_and_the_button_give_the_same_wait(browser, clock):
    signup(browser, email="bob@example.com")
    clock.advance(10)
    html = kill_the_code(browser, VERIFY, last_code_for("bob@example.com"))
    assert "This code had too many wrong tries and no longer works." in html
    assert "You can ask for a new code in <span data-countdown>20</span> s" in html
    assert "<p data-countdown-ready hidden>" in html
    button = resend_button(html)
    assert "disabled" in button and "Send a new code (in 20 s)" in button
    assert 'data-resend-in="20"' in button
    assert 'name="otp"' not in html  # nothing to type into: that code is dead

    clock.advance(25)  # the cooldown is over: both say "now"
    html = page_text(browser.post(VERIFY, {"otp": last_code_for("bob@example.com")}))
    assert "This code had too many wrong tries and no longer works." in html
    assert "<p data-countdown-wait hidden>" in html
    assert "<p data-countdown-ready>Ask for a new code with the button below.</p>" in html
    button = resend_button(html)
    assert "disabled" not in button and ">Send a new code</button>" in button
    # The button keeps its word.
    browser.post(RESEND, {"flow": "signup"})
    assert browser.post(VERIFY, {"otp": last_code_for("bob@example.com")}).status_code == 302


def test_a_dead_code_on_the_delete_page_says_the_same(make_user, make_browser, clock):
    make_user(email="bob@example.com", password=None)
    client = make_browser()
    client.post("/accounts/login/code/", {"identifier": "bob@example.com"})
    client.post("/accounts/login/code/verify/", {"otp": last_code_for("bob@example.com")})
    clock.advance(31)
    client.post("/accounts/delete/", {"action": "send"})
    html = kill_the_code(client, "/accounts/delete/", last_code_for("bob@example.com"))
    assert "This code had too many wrong tries and no longer works." in html
    assert "You can ask for a new code in <span data-countdown>30</span> s" in html
    assert "Send a new code (in 30 s)" in resend_button(html)


def test_a_dead_code_on_the_reauthenticate_page_says_the_same(signed_in, user, clock):
    clock.advance(settings.REAUTH_WINDOW + 1)
    signed_in.post("/accounts/reauthenticate/", {"action": "send"})
    html = kill_the_code(
        signed_in, "/accounts/reauthenticate/", last_code_for(user.email), method="code"
    )
    assert "This code had too many wrong tries and no longer works." in html
    assert "You can ask for a new code in <span data-countdown>30</span> s" in html
    assert "Send a new code (in 30 s)" in resend_button(html)


# --- the second address of a sign-up ------------------------------------------------------------


def test_the_email_step_of_a_phone_and_email_sign_up_waits_out_its_codes_cooldown(
    browser, sms_outbox, clock
):
    signup(browser, phone="+919876543210", email="bob@example.com")
    clock.advance(5)
    response = browser.post(VERIFY, {"otp": last_code_for("+919876543210")})
    assert response["Location"] == CONTACT_VERIFY
    html = page_text(browser.get(CONTACT_VERIFY))
    # Its code went out with the phone's, 5 s ago: 25 s are left.
    assert DISABLED_RESEND.search(html)
    assert "Send a new code (in 25 s)" in html
    assert '<strong class="address">bob@example.com</strong>' in html
    clock.advance(26)
    html = page_text(browser.get(CONTACT_VERIFY))
    assert not DISABLED_RESEND.search(html)
    browser.post(RESEND, {"flow": "contact"})
    assert "A new code is on its way to bob@example.com." in page_text(browser.get(CONTACT_VERIFY))
    browser.post(CONTACT_VERIFY, {"otp": last_code_for("bob@example.com")})
    assert User.objects.get(phone="+919876543210").email == "bob@example.com"


# --- pasted codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["{a}-{b}", "{a} {b}", " {a} - {b} ", "{a}\u2013{b}"])
def test_a_pasted_code_with_a_separator_is_the_code(browser, user, shape):
    browser.post("/accounts/login/code/", {"identifier": user.email})
    code = last_code_for(user.email)
    pasted = shape.format(a=code[:3], b=code[3:])
    response = browser.post("/accounts/login/code/verify/", {"otp": pasted})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_code_fields_carry_no_pattern_that_refuses_a_pasted_code(browser, user):
    browser.post("/accounts/password/forgot/", {"identifier": user.email})
    html = page_text(browser.get("/accounts/password/forgot/verify/"))
    field = re.search(r'<input[^>]*name="otp"[^>]*>', html).group(0)
    assert "pattern=" not in field
    assert 'inputmode="numeric"' in field and 'autocomplete="one-time-code"' in field


def test_a_pasted_second_step_code_with_a_dash_is_the_code(make_user, make_browser, clock):
    from accounts.tests.helpers import with_second_factor

    with_second_factor(make_user(email="bob@example.com", phone="+919876543210"))
    client = make_browser()
    client.post("/accounts/login/", {"identifier": "bob@example.com", "password": STRONG_PASSWORD})
    client.post("/accounts/login/mfa/", {"action": "send"})
    html = page_text(client.get("/accounts/login/mfa/?method=code"))
    field = re.search(r'<input[^>]*name="otp"[^>]*>', html).group(0)
    assert "pattern=" not in field
    code = last_code_for("+919876543210")
    response = client.post(
        "/accounts/login/mfa/", {"method": "code", "otp": f"{code[:3]}-{code[3:]}"}
    )
    assert response["Location"] == "/"
