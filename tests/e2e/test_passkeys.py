"""Passkeys on the pages in Chromium (SPEC §17): add one from
/accounts/passkeys/ and sign in with the button, sign in from the identifier
field's autofill, a passkey as the second step of a password sign-in,
removal through "confirm it is you", the offer after a password sign-in.

The browser's passkeys are Chromium's virtual authenticator
(``VirtualAuthenticator`` in conftest.py), for the live server's origin
``http://localhost:<port>`` (``relying_party``). It has no autofill dropdown:
it answers a conditional request at once, with its passkey for the site. So
where a person would type a password with the autofill still open, the
authenticator is told to wait for a touch (``waiting_for_touch``): the
conditional request the page makes on load then stays open, as a real
browser's does until the person picks a passkey.

The page script's requests are recorded (``record_requests``: a wrapper
around ``navigator.credentials.get``) to tell a conditional request from a
modal one.
"""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import DeviceSession, Passkey, SecurityEvent, User
from tests.e2e.journeys import PASSWORD, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IDENTIFIER = "Email, phone number or username"
RECORD_REQUESTS = """
(() => {
  window.passkeyRequests = [];
  if (!window.navigator.credentials) return;
  const get = navigator.credentials.get.bind(navigator.credentials);
  navigator.credentials.get = (options) => {
    const mediation = (options && options.mediation) || "optional";
    window.passkeyRequests.push(mediation);
    window.passkeyRequestSeen(mediation);
    return get(options);
  };
})();
"""


def record_requests(page: Page) -> list[str]:
    """The mediation of every ``navigator.credentials.get`` the pages of this
    tab make, in order, across navigations ("conditional" for autofill,
    "optional" for a button's modal request)."""
    seen: list[str] = []
    page.expose_function("passkeyRequestSeen", lambda mediation: seen.append(mediation))
    page.add_init_script(RECORD_REQUESTS)
    return seen


def wait_for_autofill_request(page: Page) -> None:
    page.wait_for_function("() => window.passkeyRequests.includes('conditional')")


def signed_in_message(page: Page):
    return page.get_by_text("Signed in.", exact=True)


def password_step(page: Page, identifier: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label(IDENTIFIER).fill(identifier)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    # exact: "Sign in with a passkey" is a button of this page too.
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").first.click()
    expect(page.get_by_text("You have been signed out.")).to_be_visible()


def passkey_rows(page: Page):
    return page.locator("li.passkey")


def offer(page: Page):
    return page.get_by_text(re.compile("add a passkey", re.IGNORECASE))


def test_add_a_passkey_sign_out_and_sign_in_with_the_button(
    page, user, virtual_authenticator, tmp_path
):
    authenticator = virtual_authenticator(page)
    requests = record_requests(page)
    sign_in(page, "alice@example.com")

    page.goto("/accounts/passkeys/")
    expect(page.get_by_role("heading", name="Passkeys", exact=True)).to_be_visible()
    expect(passkey_rows(page)).to_have_count(0)
    page.get_by_label("Name for the new passkey").fill("My laptop")
    page.get_by_role("button", name="Add a passkey").click()

    # The account's first second factor: its recovery codes first, once.
    expect(page.get_by_role("heading", name=re.compile("Recovery codes"))).to_be_visible()
    expect(page.locator("#recovery-codes code")).to_have_count(10)
    added = page.get_by_text("The passkey was added.")
    added_with_the_codes = added.is_visible()
    page.get_by_role("link", name="I have saved them").click()
    if not added_with_the_codes:
        expect(added).to_be_visible()

    page.goto("/accounts/passkeys/")
    expect(passkey_rows(page)).to_have_count(1)
    expect(passkey_rows(page).first).to_contain_text("My laptop")
    page.screenshot(path=tmp_path / "passkeys.png", full_page=True)
    [held] = authenticator.credentials()
    assert held["isResidentCredential"] and held["rpId"] == "localhost"
    [passkey] = Passkey.objects.filter(authenticator__user=user)
    assert passkey.authenticator.name == "My laptop"
    assert User.objects.get(pk=user.pk).mfa_enabled  # a passkey is a second factor too

    # Renamed in its row.
    row = passkey_rows(page).first
    name = row.get_by_label("Name", exact=True)
    expect(name).to_have_value("My laptop")
    name.fill("Work laptop")
    row.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("The passkey was renamed.")).to_be_visible()
    expect(passkey_rows(page)).to_have_count(1)
    expect(passkey_rows(page).first).to_contain_text("Work laptop")

    # Back on the sign-in page the autofill waits (the person has not picked
    # the passkey there); they press the button instead.
    sign_out(page)
    authenticator.waiting_for_touch()
    page.goto("/accounts/login/")
    wait_for_autofill_request(page)
    expect(signed_in_message(page)).to_have_count(0)
    authenticator.waiting_for_touch(False)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(signed_in_message(page)).to_be_visible()
    expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()
    expect(page).to_have_url(re.compile(r"^http://localhost:\d+/$"))  # where a password lands
    # The first sign-in page asked too (nothing was held then: refused at once).
    assert requests == ["conditional", "conditional", "optional"]
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.PASSKEY_LOGIN).count() == 1

    # The account's activity tells it apart from a password sign-in.
    page.goto("/accounts/activity/")
    expect(page.get_by_text("Signed in with a passkey")).to_be_visible()


def test_sign_in_by_choosing_the_passkey_in_the_autofill(
    page, user, virtual_authenticator, add_passkey
):
    authenticator = virtual_authenticator(page)
    authenticator.add(add_passkey(user, "My phone"), user_name="alice@example.com")
    requests = record_requests(page)

    # The page at rest: the identifier field offers passkeys in its autofill,
    # and the page asked the browser for one, conditionally.
    authenticator.waiting_for_touch()
    page.goto("/accounts/login/")
    field = page.get_by_label(IDENTIFIER)
    expect(field).to_have_attribute("autocomplete", "username webauthn")
    wait_for_autofill_request(page)
    assert requests == ["conditional"]
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # Chosen: the authenticator answers the page's conditional request (this
    # Chromium's virtual authenticator shows no dropdown to pick from).
    authenticator.waiting_for_touch(False)
    page.reload()
    expect(signed_in_message(page)).to_be_visible()
    expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()
    expect(page).to_have_url(re.compile(r"^http://localhost:\d+/$"))
    # Only conditional requests: no button was pressed, no password typed.
    assert requests == ["conditional", "conditional"]
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.PASSKEY_LOGIN).count() == 1
    assert Passkey.objects.get(authenticator__user=user).authenticator.last_used_at is not None
    # An account with a passkey is not offered another one.
    expect(page.get_by_role("button", name="Not now")).to_have_count(0)


def test_a_passkey_is_the_second_step_of_a_password_sign_in(
    page, user, virtual_authenticator, add_passkey
):
    authenticator = virtual_authenticator(page)
    authenticator.add(add_passkey(user, "My phone"), user_name="alice@example.com")
    requests = record_requests(page)

    # The person types their password; the autofill stays open, unpicked.
    authenticator.waiting_for_touch()
    password_step(page, "alice@example.com")
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()
    expect(page.get_by_role("link", name="Use a recovery code")).to_be_visible()
    use_passkey = page.get_by_role("button", name="Use your passkey")
    expect(use_passkey).to_be_visible()  # offered first

    authenticator.waiting_for_touch(False)
    use_passkey.click()
    expect(signed_in_message(page)).to_be_visible()
    expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()
    assert requests == ["conditional", "optional"]
    # A password sign-in, but the account has a passkey: no offer of one.
    expect(offer(page)).to_have_count(0)
    expect(page.get_by_role("button", name="Not now")).to_have_count(0)


def test_removing_a_passkey_when_the_sign_in_is_old_confirms_it_is_you_with_it(
    page, user, virtual_authenticator, add_passkey
):
    authenticator = virtual_authenticator(page)
    authenticator.add(add_passkey(user, "My phone"), user_name="alice@example.com")
    page.goto("/accounts/login/")  # the autofill signs in
    expect(signed_in_message(page)).to_be_visible()

    # The sign-in was long ago (the live server runs on real time: age the row).
    DeviceSession.objects.filter(user=user).update(
        authenticated_at=timezone.now() - timedelta(hours=1)
    )
    page.goto("/accounts/passkeys/")
    expect(page.get_by_role("button", name="Add a passkey")).to_have_count(0)
    confirm = page.get_by_role("link", name="Confirm it is you to add a passkey")
    href = urlsplit(confirm.get_attribute("href"))
    assert href.path == "/accounts/reauthenticate/"
    assert parse_qs(href.query) == {"next": ["/accounts/passkeys/"]}
    row = passkey_rows(page).filter(has_text="My phone")
    row.get_by_role("button", name="Remove").click()

    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.get_by_role("link", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"[?&]method=webauthn"))
    page.get_by_role("button", name="Use your passkey").click()
    expect(page.get_by_text("Thank you. You can go on.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/passkeys/$"))
    assert Passkey.objects.filter(authenticator__user=user).count() == 1  # not yet

    passkey_rows(page).filter(has_text="My phone").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("The passkey was removed.")).to_be_visible()
    expect(passkey_rows(page)).to_have_count(0)
    assert not Passkey.objects.filter(authenticator__user=user).exists()
    assert not User.objects.get(pk=user.pk).mfa_enabled
    # The confirmation is recent now: a passkey can be added at once.
    expect(page.get_by_role("button", name="Add a passkey")).to_be_visible()


def test_the_offer_of_a_passkey_after_a_password_sign_in_can_be_put_off(page, user):
    sign_in(page, "alice@example.com")
    expect(offer(page).first).to_be_visible()
    link = page.get_by_role("link", name="Add a passkey")
    expect(link).to_have_attribute("href", "/accounts/passkeys/")
    page.get_by_role("button", name="Not now").click()
    expect(page.get_by_text("We will not ask again for 30 days.")).to_be_visible()
    expect(page.get_by_role("button", name="Not now")).to_have_count(0)
    expect(page.get_by_role("link", name="Add a passkey")).to_have_count(0)

    sign_out(page)
    sign_in(page, "alice@example.com")
    expect(page.get_by_role("button", name="Not now")).to_have_count(0)
    expect(offer(page)).to_have_count(0)


def test_the_offer_leads_to_the_passkeys_page(page, user):
    sign_in(page, "alice@example.com")
    page.get_by_role("link", name="Add a passkey").click()
    expect(page).to_have_url(re.compile(r"/accounts/passkeys/$"))
    expect(page.get_by_role("heading", name="Passkeys", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Add a passkey")).to_be_visible()
