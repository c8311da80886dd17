"""Fixtures of the schema fuzz run (schemathesis against our own OpenAPI document)."""

from __future__ import annotations

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections


@pytest.fixture
def fuzz_settings(settings):
    """Limits out of the way of the fuzzer.

    A 429 is a documented answer (its body is checked like any other), but
    with the real limits almost every example after the first few would be
    one: the per-IP rates (every example comes from the same address), the
    per-destination code rules of SPEC §4 (the fuzzer repeats addresses) and
    the per-identifier sign-in lockout. Switched off or raised here so the
    examples reach the code behind them; the limits have their own tests.
    """
    settings.RATELIMIT_ENABLE = False
    settings.OTP_RESEND_COOLDOWN = 0
    settings.OTP_MAX_SENDS_PER_HOUR = 10**6
    settings.OTP_MAX_FAILURES_PER_DAY = 10**6
    settings.LOGIN_FAILURE_LIMIT = 10**6
    return settings


@pytest.fixture
def keep_test_connection():
    """Requests go straight to the WSGI handler, not through Django's test
    client, so do what the test client does: keep ``close_old_connections``
    from closing the test's connection (it would, on MariaDB: the test runs
    inside a transaction, which it takes for a connection left in a bad state)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
