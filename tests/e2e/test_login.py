"""Sign-in journeys: with a password, with a code."""

import pytest
from playwright.sync_api import expect

from tests.e2e.journeys import enter_code, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_with_a_password_and_out(page, user, tmp_path):
    sign_in(page, "alice@example.com")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have been signed out.")).to_be_visible()
    page.goto("/profile/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.screenshot(path=tmp_path / "login_password.png", full_page=True)


def test_a_wrong_password_is_refused(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Email, phone number or username").fill("alice@example.com")
    page.get_by_label("Password", exact=True).fill("Wrong-Horse-9-x")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(
        page.get_by_text("The email, phone number, username or password is incorrect.")
    ).to_be_visible()


def test_sign_in_with_a_code(page, user, tmp_path):
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with a code instead").click()
    page.get_by_label("Email address or phone number").fill("alice@example.com")
    page.get_by_role("button", name="Send me a code").click()

    expect(page.get_by_text("If this address can sign in, a code is on its way.")).to_be_visible()
    enter_code(page, "alice@example.com", "Sign in")

    expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()
    page.screenshot(path=tmp_path / "login_code.png", full_page=True)
