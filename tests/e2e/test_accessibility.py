"""axe-core on every page of ours, signed out and signed in, at 1280 and
375 px wide (issue 19, point 6): 0 violations, with axe's default rules
(WCAG 2.x A/AA and its best practices).

A page is scanned in the states a person meets it in: empty, with errors,
mid-flow (a code sent, a wrong code, a dead code), after a message. axe-core
comes bundled with ``axe-playwright-python`` (requirements-dev.txt); nothing is
fetched at run time.

Not scanned, by name:
- ``/admin/``: Django's stock admin. Its markup and styles are Django's, not
  ours; we do not restyle it, and what axe finds there is for Django to fix.
- ``/api/v1/docs``: drf-spectacular's Swagger UI, a developer's tool whose
  page is the library's (and loads its scripts from a CDN this machine cannot
  reach).
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import DeviceSession, SecurityEvent
from accounts.tests.helpers import last_code_for, wrong_code
from tests.e2e.journeys import NEW_PASSWORD, PASSWORD, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 812}}
EXCEPTED = {
    "/admin/": "Django's stock admin: its markup is Django's, not ours",
    "/api/v1/docs": "drf-spectacular's Swagger UI: the library's page, for developers",
}
AXE = Axe()


class Scanner:
    """Runs axe on the page as it is now; keeps every violation, so one run
    reports all the pages at fault."""

    def __init__(self, open_page, viewport: str) -> None:
        self.open_page = open_page  # a page in a new browser context (another device)
        self.page = open_page()
        self.viewport = viewport
        self.scanned: list[str] = []
        self.found: list[str] = []

    def __call__(self, label: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        path = re.sub(r"^https?://[^/]+", "", page.url)
        assert not any(path.startswith(p) for p in EXCEPTED), path
        results = AXE.run(page)
        self.scanned.append(f"{label} {path}")
        if results.violations_count:
            self.found.append(f"--- {label} ({path}, {self.viewport})\n{results.generate_report()}")
        # Nothing wider than the screen either (a phone scrolls down, not across).
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.viewport_size["width"]
        if width > viewport:
            self.found.append(f"--- {label} ({path}): {width}px wide on a {viewport}px screen")

    def assert_clean(self) -> None:
        assert not self.found, "\n".join(self.found)


@pytest.fixture(params=list(VIEWPORTS))
def scanner(request, new_context, settings):
    # The walk signs in and types codes faster than a person: the per-IP
    # limits are for people (and tested elsewhere).
    settings.RATELIMIT_ENABLE = False
    viewport = VIEWPORTS[request.param]

    def open_page() -> Page:
        return new_context(viewport=viewport, is_mobile=request.param == "phone").new_page()

    return Scanner(open_page, request.param)


def fill_password(page: Page, label: str, value: str) -> None:
    page.get_by_label(label, exact=True).fill(value)


def test_every_page_signed_out(scanner, user, make_user):
    page, scan = scanner.page, scanner
    page.goto("/")
    scan("home")

    page.goto("/accounts/signup/")
    scan("sign-up")
    fill_password(page, "Password", PASSWORD)
    fill_password(page, "Password again", "Other-Horse-9-x")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Give an email address or a phone number.")).to_be_visible()
    scan("sign-up with errors")
    page.get_by_label("Email address").fill("new@example.com")
    fill_password(page, "Password", PASSWORD)
    fill_password(page, "Password again", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Verify your account")).to_be_visible()
    scan("sign-up code")
    code = last_code_for("new@example.com")
    for _ in range(4):
        page.get_by_label("Code").fill(wrong_code(code))
        page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_text("1 try left.")).to_be_visible()
    scan("sign-up code, wrong")
    page.get_by_label("Code").fill(wrong_code(code))
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_text("This code had too many wrong tries")).to_be_visible()
    scan("sign-up code, dead")

    page.goto("/accounts/login/")
    scan("sign-in")
    page.get_by_label("Email, phone number or username").fill("alice@example.com")
    fill_password(page, "Password", "Wrong-Horse-9-x")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("or password is incorrect")).to_be_visible()
    scan("sign-in, wrong password")

    page.goto("/accounts/login/code/")
    scan("code sign-in")
    page.get_by_label("Email address or phone number").fill("alice@example.com")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    scan("code sign-in, code")
    page.goto("/accounts/login/code/")
    page.get_by_label("Email address or phone number").fill("alice@example.com")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    scan("429")

    page.goto("/accounts/password/forgot/")
    scan("forgot password")
    page.get_by_label("Email address or phone number").fill("alice@example.com")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Enter your reset code")).to_be_visible()
    scan("reset code")
    page.get_by_label("Code").fill(last_code_for("alice@example.com"))
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    scan("new password")
    fill_password(page, "New password", NEW_PASSWORD)
    fill_password(page, "New password again", NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("Your password has been reset. Sign in with it.")).to_be_visible()
    scan("sign-in after a reset")

    # A second step of sign-in (codes to the other address as the factor).
    from accounts.tests.helpers import with_second_factor

    with_second_factor(make_user(email="bob@example.com", phone="+919876543210"))
    page.goto("/accounts/login/")
    page.get_by_label("Email, phone number or username").fill("bob@example.com")
    fill_password(page, "Password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()
    scan("second step")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_label("Code we sent you")).to_be_visible()
    scan("second step, code sent")

    page.goto("/no-such-page/")
    scan("404")
    page.goto("/accounts/not-me/not-a-token/")
    scan("a dead 'this wasn't me' link")
    page.goto("/accounts/login/")
    page.context.clear_cookies()
    page.get_by_label("Email, phone number or username").fill("alice@example.com")
    fill_password(page, "Password", NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    scan("expired form")
    scanner.assert_clean()


def test_every_page_signed_in(scanner, user, make_user):
    page, scan = scanner.page, scanner
    sign_in(page, "alice@example.com")
    scan("home, signed in")
    for path, label in [
        ("/profile/", "profile"),
        ("/profile/edit/", "profile edit"),
        ("/accounts/sessions/", "devices"),
        ("/accounts/delete/", "delete"),
        ("/accounts/logout/", "sign out"),
        ("/accounts/reauthenticate/", "confirm it is you"),
        ("/accounts/reauthenticate/?method=code", "confirm it is you, by code"),
    ]:
        page.goto(path)
        scan(label)

    page.goto("/accounts/password/change/")
    scan("change password")
    fill_password(page, "Current password", "Wrong-Horse-9-x")
    fill_password(page, "New password", NEW_PASSWORD)
    fill_password(page, "New password again", NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("The current password is incorrect.")).to_be_visible()
    scan("change password, wrong")

    page.goto("/accounts/contact/")
    scan("email and phone")
    page.get_by_label("New email address or phone number").fill("alice.new@example.com")
    fill_password(page, "Current password", PASSWORD)
    page.get_by_role("button", name="Send a code").click()
    expect(page.get_by_role("heading", name="Confirm the new address")).to_be_visible()
    scan("new address code")

    page.goto("/accounts/activity/")
    scan("activity")
    event = SecurityEvent.objects.filter(kind=SecurityEvent.LOGIN_SUCCESS).first()
    page.goto(f"/accounts/activity/?not_me={event.pk}")
    scan("this wasn't me, asked")

    page.goto("/accounts/mfa/")
    scan("two-step sign-in")
    page.get_by_role("link", name="Set up an authenticator app").click()
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator(".qr svg")).to_be_visible()
    scan("authenticator app setup")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes")).to_be_visible()
    scan("recovery codes, shown once")
    page.get_by_role("link", name="I have saved them").click()
    scan("two-step sign-in, on")
    page.goto("/accounts/mfa/totp/")
    scan("authenticator app, on")
    page.goto("/accounts/mfa/recovery-codes/")
    scan("recovery codes left")

    page.get_by_role("button", name="Sign out").first.click()
    page.goto("/accounts/login/")
    page.get_by_label("Email, phone number or username").fill("alice@example.com")
    fill_password(page, "Password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_label("Code from your authenticator app")).to_be_visible()
    scan("second step, authenticator app")
    page.get_by_role("link", name="Use a recovery code").click()
    scan("second step, recovery code")
    page.get_by_role("link", name="Use your authenticator app").click()
    page.get_by_label("Code from your authenticator app").fill(
        pyotp.TOTP(secret).at(time.time() + 30)
    )
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()
    scan("home, after the second step")

    # An account without a password, on another device: made by a code
    # sign-in, deleted by code.
    codes = scanner.page = scanner.open_page()
    codes.goto("/accounts/login/code/")
    codes.get_by_label("Email address or phone number").fill("carol@example.com")
    codes.get_by_role("button", name="Send me a code").click()
    codes.get_by_label("Code").fill(last_code_for("carol@example.com"))
    codes.get_by_role("button", name="Sign in", exact=True).click()
    expect(codes.get_by_text("Your account has been created. Signed in.")).to_be_visible()
    scan("home, a new account")
    codes.goto("/accounts/delete/")
    scan("delete, no password")
    codes.get_by_role("button", name="Send me a code").click()
    expect(codes.get_by_text("Please wait before requesting another code.")).to_be_visible()
    scan("delete, wait for a code")
    codes.goto("/accounts/password/change/")
    scan("change password, no password")
    scanner.assert_clean()


def test_the_passkey_pages(scanner, user, virtual_authenticator):
    """/accounts/passkeys/ (none, one, renamed, not recent), the offer after a
    password sign-in, a passkey as the second step and to confirm it is you,
    and a passkey the browser refused, with the sign-in page's button."""
    page, scan = scanner.page, scanner
    authenticator = virtual_authenticator(page)
    sign_in(page, "alice@example.com")
    expect(page.get_by_role("button", name="Not now")).to_be_visible()
    scan("home, the offer of a passkey")
    page.get_by_role("button", name="Not now").click()
    expect(page.get_by_text("We will not ask again for 30 days.")).to_be_visible()
    scan("home, the offer put off")

    page.goto("/accounts/passkeys/")
    scan("passkeys, none")
    page.get_by_label("Name for the new passkey").fill("My laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name=re.compile("Recovery codes"))).to_be_visible()
    scan("recovery codes, after a passkey")
    page.goto("/accounts/passkeys/")
    expect(page.locator("li.passkey")).to_have_count(1)
    scan("passkeys, one")
    page.get_by_label("Name", exact=True).fill("Work laptop")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("The passkey was renamed.")).to_be_visible()
    scan("passkeys, renamed")
    DeviceSession.objects.filter(user=user).update(
        authenticated_at=timezone.now() - timedelta(hours=1)
    )
    page.reload()
    expect(page.get_by_role("link", name="Confirm it is you to add a passkey")).to_be_visible()
    scan("passkeys, confirm it is you first")
    page.goto("/accounts/reauthenticate/?method=webauthn&next=/accounts/passkeys/")
    expect(page.get_by_role("button", name="Use your passkey")).to_be_visible()
    scan("confirm it is you, by passkey")

    # The second step by passkey (the sign-in page's autofill left unpicked),
    # then a browser that no longer holds it: the refusal on the page.
    page.get_by_role("button", name="Sign out").first.click()
    authenticator.waiting_for_touch()
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    page.get_by_label("Email, phone number or username").fill("alice@example.com")
    fill_password(page, "Password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Use your passkey")).to_be_visible()
    scan("second step, passkey")
    authenticator.forget()
    authenticator.waiting_for_touch(False)
    page.get_by_role("button", name="Use your passkey").click()
    expect(page.get_by_role("alert")).to_be_visible()
    scan("second step, passkey refused")
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_be_visible()
    scan("sign-in, passkey refused")
    scanner.assert_clean()


def test_the_scan_sees_what_was_wrong_before(new_context, user):
    """The scan can fail: the flash messages as they were (``li`` with a
    role, no list around them) and a field without a label are found."""
    page = new_context().new_page()
    scan = Scanner(lambda: page, "desktop")
    sign_in(page, "alice@example.com")
    page.evaluate(
        """() => {
            const main = document.getElementById("main");
            main.insertAdjacentHTML("afterbegin",
                '<li class="message" role="status">Signed in.</li><input type="text" name="x">');
        }"""
    )
    scan("home, with the old messages")
    report = "\n".join(scan.found)
    assert "listitem - " in report or "aria-allowed-role - " in report, report
    assert "label - " in report, report
