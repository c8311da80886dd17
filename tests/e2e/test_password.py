"""Password journeys: forgot → reset, and change (which signs out the others)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.journeys import NEW_PASSWORD, PASSWORD, enter_code, expect_sign_in_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_forgot_reset_then_sign_in_with_the_new_password(page, user, tmp_path):
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address or phone number").fill("alice@example.com")
    page.get_by_role("button", name="Send me a code").click()

    expect(page.get_by_text("a reset code is on its way")).to_be_visible()
    enter_code(page, "alice@example.com", "Continue")

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()

    expect(page.get_by_text("Your password has been reset. Sign in with it.")).to_be_visible()
    sign_in(page, "alice@example.com", NEW_PASSWORD)
    page.screenshot(path=tmp_path / "password_reset.png", full_page=True)


def test_change_password_signs_out_the_other_browser(new_context, user, tmp_path):
    laptop = new_context().new_page()
    phone = new_context().new_page()
    sign_in(laptop, "alice@example.com")
    sign_in(phone, "alice@example.com")

    laptop.goto("/accounts/password/change/")
    laptop.get_by_label("Current password").fill(PASSWORD)
    laptop.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    laptop.get_by_label("New password again").fill(NEW_PASSWORD)
    laptop.get_by_role("button", name="Change password").click()
    expect(laptop.get_by_text("Your password has been changed.")).to_be_visible()

    laptop.goto("/")
    expect(laptop.get_by_text("Signed in as alice@example.com")).to_be_visible()
    phone.goto("/profile/")
    expect_sign_in_page(phone)
    laptop.screenshot(path=tmp_path / "password_change.png", full_page=True)
