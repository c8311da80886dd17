"""Fixtures for the service tests."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    PBKDF2PasswordHasher,
    PBKDF2SHA1PasswordHasher,
)


@pytest.fixture
def hasher_calls(monkeypatch) -> Counter:
    """Every password hash made (``encode``) or checked (``verify``), whichever hasher."""
    calls: Counter = Counter()
    for hasher in (Argon2PasswordHasher, PBKDF2PasswordHasher, PBKDF2SHA1PasswordHasher):
        for method in ("encode", "verify"):
            original = getattr(hasher, method)

            def counted(self, *args, _original=original, _name=method, **kwargs):
                calls[_name] += 1
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(hasher, method, counted)
    return calls


@pytest.fixture
def small_lockout(settings):
    """Three tries to a lock of 60 s, doubling up to 600 s."""
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_LOCKOUT_BASE = 60
    settings.LOGIN_LOCKOUT_MAX = 600
    return settings
