"""Sign-up journeys, by email and by phone."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.e2e.journeys import PASSWORD, enter_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_up_by_email_verify_and_edit_the_profile(page, tmp_path):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_text("Enter the code we sent to finish signing up.")).to_be_visible()
    # The address typed, in full: a typo would show here.
    expect(page.get_by_text("ada@example.com", exact=True)).to_be_visible()
    resend = page.get_by_role("button", name="Send a new code")
    expect(resend).to_be_disabled()
    enter_code(page, "ada@example.com", "Verify")

    expect(page.get_by_text("Account verified. Signed in.")).to_be_visible()
    expect(page.get_by_text("Ada Lovelace")).to_be_visible()
    page.get_by_role("link", name="Edit profile").click()
    page.get_by_label("Company").fill("Analytical Engines")
    page.get_by_label("City").fill("London")
    page.get_by_label("Gender").select_option("female")
    page.get_by_label("Preferences").fill("mathematics, poetry")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Your profile has been saved.")).to_be_visible()
    expect(page.get_by_text("Analytical Engines")).to_be_visible()
    expect(page.get_by_text("mathematics, poetry")).to_be_visible()
    user = User.objects.get(email="ada@example.com")
    assert user.email_verified
    assert user.profile.city == "London"
    page.screenshot(path=tmp_path / "signup_email.png", full_page=True)


def test_sign_up_by_phone_and_verify(page, tmp_path):
    page.goto("/accounts/signup/")
    page.get_by_label("Phone number").fill("+91 98765 43210")
    page.get_by_label("First name").fill("Ravi")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_text("+91 98765 43210", exact=True)).to_be_visible()
    enter_code(page, "+919876543210", "Verify")

    expect(page.get_by_text("Account verified. Signed in.")).to_be_visible()
    assert User.objects.get(phone="+919876543210").phone_verified
    page.screenshot(path=tmp_path / "signup_phone.png", full_page=True)


def test_the_signup_page_fits_a_phone_screen(new_context, tmp_path):
    page = new_context(viewport={"width": 375, "height": 812}, is_mobile=True).new_page()
    page.goto("/accounts/signup/")
    expect(page.get_by_role("button", name="Create account")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=tmp_path / "signup_375.png", full_page=True)
