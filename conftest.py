"""Fixtures shared by every app's tests."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client, TestCase
from rest_framework.test import APIClient

from authsite import clock as clock_module

STRONG_PASSWORD = "Correct-Horse-9-Battery"

# Passkey tests' relying party: the software authenticator
# (authsite/testing/webauthn.py) signs for this origin.
PASSKEY_ORIGIN = "https://auth.example.com"


@pytest.fixture
def relying_party(settings):
    """Passkeys for auth.example.com: its web origin and an Android app's."""
    settings.WEBAUTHN_RP_ID = "auth.example.com"
    settings.WEBAUTHN_ORIGINS = [PASSKEY_ORIGIN, "android:apk-key-hash:abc123"]


def pytest_sessionfinish(session, exitstatus):
    """Django deletes a file test database but not SQLite's WAL files beside
    it (authsite/settings/test.py puts the SQLite test database in a file)."""
    from pathlib import Path

    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return
    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    for suffix in ("-wal", "-shm"):
        if name and not Path(name).exists():
            Path(f"{name}{suffix}").unlink(missing_ok=True)


class _CommitAtRequestEnd:
    """Run the request's ``transaction.on_commit`` callbacks when it returns.

    pytest-django wraps each test in a transaction that never commits, so
    delivery (which happens after commit) would never run. With this mixin a
    request behaves as in production: its work commits, then delivery runs.
    """

    def request(self, *args, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(*args, **kwargs)


class CommitAPIClient(_CommitAtRequestEnd, APIClient):
    pass


class CommitClient(_CommitAtRequestEnd, Client):
    pass


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


class _StillClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _ratelimit_clock_still(monkeypatch):
    """django-ratelimit counts in fixed windows of wall-clock time: a test
    whose requests straddled a window's end saw its count start again (a
    limit of 2/m let the third request through, once in CI). Its clock
    stands still during a test; the windows themselves are django-ratelimit's."""
    from django_ratelimit import core

    monkeypatch.setattr(core, "time", _StillClock(time.time()))


@pytest.fixture(autouse=True)
def _clear_sms_outbox():
    try:
        from otp.delivery import sms
    except ImportError:  # pragma: no cover - before the otp app exists
        yield
        return
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def sms_outbox():
    from otp.delivery import sms

    return sms.outbox


@pytest.fixture
def api_client() -> APIClient:
    return CommitAPIClient()


@pytest.fixture
def web_client() -> Client:
    return CommitClient()


class MovableClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float = 0, **kwargs) -> datetime:
        self.current = self.current + timedelta(seconds=seconds, **kwargs)
        return self.current


@pytest.fixture
def clock(monkeypatch) -> MovableClock:
    """Freeze ``authsite.clock.now`` and move it with ``clock.advance(...)``."""
    movable = MovableClock(clock_module.now())
    monkeypatch.setattr(clock_module, "now", movable)
    return movable


@pytest.fixture
def password() -> str:
    return STRONG_PASSWORD


@pytest.fixture
def make_user(db):
    from accounts.services.users import user_create

    def make(**kwargs):
        kwargs.setdefault("password", STRONG_PASSWORD)
        kwargs.setdefault("verified", True)
        if "email" not in kwargs and "phone" not in kwargs:
            kwargs["email"] = "alice@example.com"
        return user_create(**kwargs)

    return make


@pytest.fixture
def user(make_user):
    """A verified, active user with an email address and a password."""
    return make_user(email="alice@example.com")


@pytest.fixture
def auth_client(user, api_client):
    """An API client signed in as ``user`` through a real token session."""
    from accounts.services.tokens import session_open
    from authsite.client import ClientInfo

    pair = session_open(user=user, client=ClientInfo(ip="127.0.0.1", user_agent="pytest"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    api_client.token_pair = pair
    return api_client


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's ``admin_user`` (behind ``admin_client``), with the
    second factor a staff account needs to reach the admin."""
    from accounts.tests.helpers import with_second_factor

    return with_second_factor(
        django_user_model.objects.create_superuser(email="admin@example.com", password="password")
    )
