"""The rough edges a real user hits (issue 19), walked in Chromium: tabs left
open, the code pages, the password fields, the sign-up's address choice,
"this wasn't me"."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import SecurityEvent, User
from accounts.tests.helpers import last_code_for, wrong_code
from tests.e2e.journeys import NEW_PASSWORD, PASSWORD, enter_code, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def focused_field(page: Page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.name")


# --- 1. tabs left open ----------------------------------------------------------------------


def test_a_sign_in_tab_left_open_goes_on_once_signed_in_in_another(new_context, user):
    browser = new_context()
    first, second = browser.new_page(), browser.new_page()
    first.goto("/accounts/login/")
    sign_in(second, "alice@example.com")

    first.get_by_label("Email, phone number or username").fill("alice@example.com")
    first.get_by_label("Password", exact=True).fill(PASSWORD)
    first.get_by_role("button", name="Sign in", exact=True).click()
    expect(first.get_by_text("You are already signed in.")).to_be_visible()
    expect(first.get_by_text("Signed in as alice@example.com")).to_be_visible()


def test_a_sign_out_in_a_tab_left_open_shows_a_fresh_sign_out(new_context, user):
    browser = new_context()
    first, second = browser.new_page(), browser.new_page()
    sign_in(first, "alice@example.com")
    first.goto("/profile/")
    # In the other tab: out and in again, which gives the browser a new CSRF token.
    second.goto("/")
    second.get_by_role("button", name="Sign out").click()
    sign_in(second, "alice@example.com")

    first.get_by_role("button", name="Sign out").click()
    expect(first.get_by_text("could not sign you out")).to_be_visible()
    first.locator("main").get_by_role("button", name="Sign out").click()
    expect(first.get_by_text("You have been signed out.")).to_be_visible()
    second.goto("/profile/")
    expect(second.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_missing_page_is_a_page_of_the_site(page):
    page.goto("/no-such-page/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.get_by_role("link", name="Go to the home page").click()
    expect(page.get_by_role("link", name="Create an account")).to_be_visible()


# --- 2. code pages ----------------------------------------------------------------------------


def test_a_typo_in_the_sign_up_address_is_seen_and_changed(page):
    page.goto("/accounts/signup/")
    page.get_by_label("Email address").fill("ada@exmaple.com")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("ada@exmaple.com", exact=True)).to_be_visible()

    page.get_by_role("link", name="Wrong address? Change it").click()
    expect(page.get_by_label("Email address")).to_have_value("ada@exmaple.com")
    expect(page.get_by_label("First name")).to_have_value("Ada")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("ada@example.com", exact=True)).to_be_visible()

    # Pasted from a message as "123-456".
    code = last_code_for("ada@example.com")
    page.get_by_label("Code").fill(f"{code[:3]}-{code[3:]}")
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_text("Account verified. Signed in.")).to_be_visible()
    assert User.objects.get(email="ada@example.com").profile.first_name == "Ada"


def test_wrong_codes_say_the_tries_left_and_a_dead_one_agrees_with_the_button(page, user, settings):
    settings.OTP_RESEND_COOLDOWN = 4
    page.goto("/accounts/login/code/")
    page.get_by_label("Email address or phone number").fill("alice@example.com")
    page.get_by_role("button", name="Send me a code").click()
    code = last_code_for("alice@example.com")
    page.get_by_label("Code").fill(wrong_code(code))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Invalid or expired code. 4 tries left.")).to_be_visible()
    for _ in range(4):
        page.get_by_label("Code").fill(wrong_code(code))
        page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_text("This code had too many wrong tries")).to_be_visible()
    expect(page.get_by_label("Code")).to_have_count(0)
    resend = page.locator("#resend-button")
    wait = page.locator("[data-countdown-wait]")
    ready = page.locator("[data-countdown-ready]")
    if resend.is_disabled():
        # Both count the same seconds, down to the same moment.
        expect(wait).to_be_visible()
        seconds = int(page.locator("[data-countdown]").inner_text())
        assert f"(in {seconds} s)" in resend.inner_text()
    expect(resend).to_be_enabled(timeout=8000)
    expect(resend).to_have_text("Send a new code")
    expect(wait).to_be_hidden()
    expect(ready).to_be_visible()
    resend.click()
    expect(page.get_by_text("A new code is on its way")).to_be_visible()
    enter_code(page, "alice@example.com", "Sign in")
    expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()


# --- 3. password fields -------------------------------------------------------------------------


def test_show_the_password_then_hide_it_again(page):
    page.goto("/accounts/signup/")
    expect(page.get_by_text("Your password must contain at least 8 characters.")).to_be_visible()
    field = page.get_by_label("Password", exact=True)
    field.fill(PASSWORD)
    assert field.get_attribute("type") == "password"
    toggle = page.get_by_role("button", name="Show password").first
    toggle.click()
    assert field.get_attribute("type") == "text"
    page.get_by_role("button", name="Hide password").click()
    assert field.get_attribute("type") == "password"


def test_after_a_wrong_password_typing_goes_on_in_the_password_field(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Email, phone number or username").fill("alice@example.com")
    page.get_by_label("Password", exact=True).fill("Wrong-Horse-9-x")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("or password is incorrect")).to_be_visible()
    assert focused_field(page) == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Signed in.", exact=True)).to_be_visible()
    expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()


def test_after_a_reset_the_sign_in_page_knows_the_address(page, user):
    page.goto("/accounts/password/forgot/")
    page.get_by_label("Email address or phone number").fill("alice@example.com")
    page.get_by_role("button", name="Send me a code").click()
    enter_code(page, "alice@example.com", "Continue")
    username = page.locator('input[autocomplete="username"]')
    expect(username).to_have_value("alice@example.com")
    expect(username).to_be_hidden()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()

    expect(page.get_by_label("Email, phone number or username")).to_have_value("alice@example.com")
    assert focused_field(page) == "password"
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()


# --- 4. sign-up ------------------------------------------------------------------------------------


def test_no_address_is_said_once_for_the_pair(page):
    page.goto("/accounts/signup/")
    expect(page.get_by_role("group", name="Email or phone — at least one")).to_be_visible()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Give an email address or a phone number.")).to_have_count(1)
    group = page.get_by_role("group", name="Email or phone — at least one")
    expect(group.get_by_text("Give an email address or a phone number.")).to_be_visible()


def test_a_code_sign_in_says_it_makes_an_account_before_it_does(page):
    page.goto("/accounts/login/code/")
    expect(page.get_by_text("entering the code creates one")).to_be_visible()
    page.get_by_label("Email address or phone number").fill("newcomer@example.com")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_text("entering the code creates one")).to_be_visible()
    assert not User.objects.filter(email="newcomer@example.com").exists()
    enter_code(page, "newcomer@example.com", "Sign in")
    expect(page.get_by_text("Welcome! Your account has been created. Signed in.")).to_be_visible()


# --- 5. "this wasn't me" ------------------------------------------------------------------------


def test_this_wasnt_me_asks_first_then_speaks_to_the_owner(page, user):
    sign_in(page, "alice@example.com")
    SecurityEvent.objects.create(user=user, kind=SecurityEvent.CODE_SENT)
    page.goto("/accounts/activity/")
    rows = page.locator("li.row")
    signed_in_row = rows.filter(has_text=re.compile(r"^\s*Signed in\s*$", re.M)).first
    not_me = signed_in_row.get_by_role("link", name="This wasn't me")
    expect(not_me).to_be_visible()
    expect(rows.filter(has_text="Code sent").get_by_role("link")).to_have_count(0)
    not_me.click()
    expect(page.get_by_role("heading", name="Was this not you?")).to_be_visible()
    page.get_by_role("link", name="Cancel, it was me").click()
    expect(page.get_by_role("heading", name="Security activity")).to_be_visible()

    not_me.click()
    page.get_by_role("button", name="Sign out everywhere and reset my password").click()
    expect(page.get_by_text("the address of your account")).to_be_visible()
    expect(page.get_by_text(re.compile("If an account uses"))).to_have_count(0)
    enter_code(page, "alice@example.com", "Continue")
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
