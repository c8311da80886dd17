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
