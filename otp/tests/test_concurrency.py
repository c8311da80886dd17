"""Single use under concurrency, on SQLite and MariaDB alike (SPEC §4, §14 rule 4).

These tests commit for real (``transaction=True``) and run each consumer on
its own thread and database connection.
"""

from __future__ import annotations

import pytest

from authsite.errors import OtpAttemptsExceeded, OtpInvalid
from otp import services
from otp.models import OneTimeCode
from tests.concurrency import run_concurrently

from .conftest import EMAIL


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_consumers_of_one_code_give_exactly_one_success():
    issued = services.otp_issue(purpose=services.LOGIN, destination=EMAIL)

    results = run_concurrently(
        lambda: services.otp_consume(purpose=services.LOGIN, destination=EMAIL, code=issued.code)
    )

    successes = [r for r in results if r == issued.id]
    assert len(successes) == 1, results
    assert all(isinstance(r, OtpInvalid) for r in results if r != issued.id), results
    assert OneTimeCode.objects.get().consumed_at is not None


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_tries_cannot_push_a_code_past_its_attempts():
    issued = services.otp_issue(purpose=services.LOGIN, destination=EMAIL)
    bad = f"{(int(issued.code) + 1) % 10**6:06d}"

    results = run_concurrently(
        lambda: services.otp_check(purpose=services.LOGIN, destination=EMAIL, code=bad)
    )

    assert all(isinstance(r, OtpInvalid | OtpAttemptsExceeded) for r in results), results
    assert OneTimeCode.objects.get().attempts == 5
    with pytest.raises(OtpAttemptsExceeded):
        services.otp_consume(purpose=services.LOGIN, destination=EMAIL, code=issued.code)
