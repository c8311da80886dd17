"""Browser journeys: real Chromium (Debian's /usr/bin/chromium) driven by
Playwright against pytest-django's live server.

- Every test here is marked ``e2e`` (``make e2e``; ``make test`` skips them)
  and needs ``django_db(transaction=True)``: the live server runs in another
  thread with its own connection, so the test's data must really commit, and
  ``on_commit`` deliveries then run for real (``OTP_DELIVERY_MODE=sync`` in
  the test settings: the code is in the outbox before the page answers).
- Playwright's sync API runs an event loop in this thread, which makes Django
  refuse ORM calls here unless ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set. It is set
  while the browser runs only, so the rest of the suite keeps Django's check.
- Playwright's own browser download is never used: ``executable_path``.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def chromium():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_context(chromium, live_server):
    """Open a new browser context (its own cookies: another device)."""
    contexts = []

    def make(**kwargs):
        context = chromium.new_context(base_url=live_server.url, **kwargs)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


# --- passkeys (SPEC §17) ------------------------------------------------------------------------


@pytest.fixture
def relying_party(settings, live_server):
    """Passkeys for the live server: its origin is ``http://localhost:<port>``
    (a secure context, as localhost is), so the relying party is
    ``localhost``. The test settings' default (the first ALLOWED_HOSTS entry,
    ``testserver``) would not match what the browser signs. The live server
    thread reads ``django.conf.settings`` at request time, so this reaches it."""
    assert live_server.url.startswith("http://localhost:"), live_server.url
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [live_server.url]
    return live_server.url


class VirtualAuthenticator:
    """The passkey provider of one tab: Chromium's virtual authenticator
    (DevTools' WebAuthn domain) — CTAP2, built in ("internal"), resident
    keys, user verification that always succeeds. Its credentials outlive
    navigations in the tab.

    ``WebAuthn.enable`` with ``enableUI: False`` (the default): with Chromium's
    own WebAuthn dialogs on, headless Chromium waits on a dialog nobody sees
    and even ``navigator.credentials.create`` never settles.

    Chromium's virtual authenticator shows no autofill dropdown: it answers a
    *conditional* request (``mediation: "conditional"``) at once, as it does a
    modal one — with its discoverable credential for the site, else
    ``NotAllowedError``. With the automatic presence turned off
    (``waiting_for_touch``) a request, conditional or modal, waits instead,
    and a request made then stays waiting: turning presence back on only
    answers the requests made after."""

    OPTIONS = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }

    def __init__(self, page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.id = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": self.OPTIONS})[
            "authenticatorId"
        ]

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def add(self, credential, *, user_name: str = "") -> None:
        """Hold a passkey made outside the browser (``add_passkey``), as if
        this device had made it."""
        from cryptography.hazmat.primitives import serialization

        private_key = credential.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.cdp.send(
            "WebAuthn.addCredential",
            {
                "authenticatorId": self.id,
                "credential": {
                    "credentialId": base64.b64encode(credential.credential_id).decode(),
                    "isResidentCredential": True,
                    "rpId": credential.rp_id,
                    "privateKey": base64.b64encode(private_key).decode(),
                    "userHandle": base64.b64encode(credential.user_handle).decode(),
                    "signCount": credential.sign_count,
                    "userName": user_name,
                },
            },
        )

    def forget(self) -> None:
        """Drop every credential (a device that no longer holds the passkey)."""
        self.cdp.send("WebAuthn.clearCredentials", {"authenticatorId": self.id})

    def waiting_for_touch(self, waiting: bool = True) -> None:
        """Off: requests wait for a touch that does not come (a person who has
        not picked the passkey yet). On again: the next request is answered."""
        self.cdp.send(
            "WebAuthn.setAutomaticPresenceSimulation",
            {"authenticatorId": self.id, "enabled": not waiting},
        )


@pytest.fixture
def virtual_authenticator(relying_party):
    """``virtual_authenticator(page)``: give that tab a passkey provider."""
    return VirtualAuthenticator


@pytest.fixture
def add_passkey(relying_party):
    """``add_passkey(user, name)``: register a passkey for ``user`` through the
    service, as a session that has just signed in would, made by a software
    authenticator (``authsite.testing.webauthn``); returns its credential (to
    hand to a ``VirtualAuthenticator``). It is the account's first second
    factor, so recovery codes are made, as on the page."""
    from accounts.models import DeviceSession
    from accounts.services.passkeys import passkey_register, passkey_registration_options
    from authsite import clock
    from authsite.client import ClientInfo
    from authsite.testing.webauthn import SoftAuthenticator

    def add(user, name: str = "My phone"):
        # A session row that has just signed in (never saved: only its time is read).
        just_signed_in = DeviceSession(user=user, authenticated_at=clock.now())
        software = SoftAuthenticator(origin=relying_party)
        options = passkey_registration_options(user=user, session=just_signed_in)
        passkey_register(
            user=user,
            session=just_signed_in,
            credential=software.create(options),
            name=name,
            client=ClientInfo(ip="127.0.0.1", user_agent="pytest"),
        )
        return software.credentials[-1]

    return add
