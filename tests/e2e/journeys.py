"""Steps a person takes, shared by the journeys."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from accounts.tests.helpers import last_code_for

PASSWORD = "Correct-Horse-9-Battery"
NEW_PASSWORD = "Brand-New-Horse-7"


def sign_in(page: Page, identifier: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email, phone number or username").fill(identifier)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def enter_code(page: Page, destination: str, button: str) -> None:
    """Read the newest code sent to ``destination`` (after the page said it was
    sent) and type it in, as the person would from their inbox or phone."""
    page.get_by_label("Code").fill(last_code_for(destination))
    page.get_by_role("button", name=button, exact=True).click()


def expect_sign_in_page(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
