"""Account journeys: revoke another device; delete the account."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.e2e.journeys import PASSWORD, expect_sign_in_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_revoke_another_device(new_context, user, tmp_path):
    laptop = new_context().new_page()
    phone = new_context(user_agent="PhoneBrowser/1.0").new_page()
    sign_in(laptop, "alice@example.com")
    sign_in(phone, "alice@example.com")

    laptop.goto("/accounts/sessions/")
    row = laptop.locator("li.row", has_text="PhoneBrowser/1.0")
    row.get_by_role("button", name="Sign out this device").click()
    expect(laptop.get_by_text("That device has been signed out.")).to_be_visible()
    expect(laptop.locator("li.row", has_text="PhoneBrowser/1.0")).to_have_count(0)

    phone.reload()
    expect_sign_in_page(phone)
    expect(phone.get_by_text("You have been signed out. Sign in again.")).to_be_visible()
    laptop.goto("/profile/")
    expect(laptop.get_by_role("heading", name="Your profile")).to_be_visible()
    laptop.screenshot(path=tmp_path / "revoke_device.png", full_page=True)


def test_delete_the_account(page, user, tmp_path):
    sign_in(page, "alice@example.com")
    page.goto("/profile/")
    page.get_by_role("link", name="Delete account").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()

    expect(page.get_by_text("Your account has been deleted.")).to_be_visible()
    assert not User.objects.filter(email="alice@example.com").exists()
    page.goto("/profile/")
    expect_sign_in_page(page)
    page.screenshot(path=tmp_path / "delete_account.png", full_page=True)
