"""Fixtures for the page tests: browsers (Django test clients), one of them
signed in through the real sign-in page."""

from __future__ import annotations

import pytest

from accounts.tests.views.pages import sign_in
from conftest import CommitClient


@pytest.fixture
def make_browser(db):
    """A new browser (its own cookie jar) each call."""

    def make(**kwargs) -> CommitClient:
        return CommitClient(**kwargs)

    return make


@pytest.fixture
def browser(web_client):
    return web_client


@pytest.fixture
def signed_in(user, make_browser):
    """A browser signed in as ``user`` through the sign-in page."""
    client = make_browser()
    sign_in(client)
    return client
