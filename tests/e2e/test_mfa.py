"""Two-step sign-in in Chromium (SPEC §16.3): turn on an authenticator app
from the pages, sign in with it, sign in with a recovery code, remove it.

The live server runs on real time (the tests' clock seam moves only this
thread's clock), so codes are computed with ``pyotp`` from real time. A step
once accepted is refused again, so a sign-in uses the next step's code, which
the server accepts (one step either side) and has not seen.
"""

import re
import time
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import DeviceSession, User
from tests.e2e.journeys import PASSWORD, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have been signed out.")).to_be_visible()


def first_step(page: Page, identifier: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email, phone number or username").fill(identifier)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()


def test_turn_on_an_authenticator_app_sign_in_with_it_and_a_recovery_code_then_remove_it(
    page, user, tmp_path
):
    sign_in(page, "alice@example.com")
    page.goto("/profile/")
    page.get_by_role("link", name="Two-step sign-in").click()
    expect(page.get_by_text("Off: signing in asks only for your password")).to_be_visible()
    page.get_by_role("link", name="Set up an authenticator app").click()
    page.get_by_role("button", name="Set up an authenticator app").click()

    # The QR code and the key a person would type into their app.
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert len(secret) == 32
    totp = pyotp.TOTP(secret)
    page.screenshot(path=tmp_path / "totp_setup.png", full_page=True)
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()

    # The recovery codes, shown once and downloadable.
    expect(page.get_by_text("The authenticator app is on.")).to_be_visible()
    codes = [c.strip() for c in page.locator("#recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as a .txt file").click()
    download = download_info.value
    assert download.suggested_filename.endswith("recovery-codes.txt")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert all(code in text for code in codes)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("Signing in asks for a second factor.")).to_be_visible()
    assert User.objects.get(email="alice@example.com").mfa_enabled
    sign_out(page)

    # Password, then the app's code.
    first_step(page, "alice@example.com")
    field = page.get_by_label("Code from your authenticator app")
    assert field.get_attribute("autocomplete") == "one-time-code"
    assert field.get_attribute("inputmode") == "numeric"
    page.screenshot(path=tmp_path / "second_step.png", full_page=True)
    field.fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()
    sign_out(page)

    # Password, then a recovery code.
    first_step(page, "alice@example.com")
    page.get_by_role("link", name="Use a recovery code").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()

    # Remove the app: the account signs in with its password alone again.
    page.goto("/accounts/mfa/")
    expect(page.get_by_text("You have 9 unused recovery codes.")).to_be_visible()
    page.get_by_role("link", name="Manage or remove the authenticator app").click()
    page.get_by_role("button", name="Remove the authenticator app").click()
    expect(page.get_by_text("The authenticator app was removed.")).to_be_visible()
    expect(page.get_by_text("Off: signing in asks only for your password")).to_be_visible()
    sign_out(page)
    sign_in(page, "alice@example.com")


def test_a_stale_session_confirms_it_is_you_before_a_factor_change(page, user):
    sign_in(page, "alice@example.com")
    # The sign-in was long ago (the live server runs on real time: age the row).
    DeviceSession.objects.filter(user=user).update(
        authenticated_at=timezone.now() - timedelta(hours=1)
    )
    page.goto("/accounts/mfa/")
    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect(page.get_by_text("Confirm it is you to continue.")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/mfa/totp/$"))
    expect(page.get_by_role("button", name="Set up an authenticator app")).to_be_visible()
