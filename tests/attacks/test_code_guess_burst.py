"""A burst of guesses at one code (SPEC §4: five wrong tries kill it), sent
together so that every guess has read the code before any is counted.

Guard of a property that held when an attacker's pass tried it: a guess is
compared before its wrong try is counted, so a burst can have more than
five guesses *compared* — but a right one is spent only by a conditional
UPDATE that still requires fewer than five wrong tries counted. Here the
right guess is held until the eight wrong ones of its burst are counted,
then refused: a burst is worth no more than five guesses in a row, however
wide. Without ``attempts__lt`` in the consuming UPDATE (otp/services.py)
the right guess is spent and this fails on MariaDB. On SQLite a guess's
read and write are one IMMEDIATE transaction, so the guesses take turns and
no burst reads the code together: the test is skipped there (holding one
guess would only hold the others at their BEGIN)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from authsite.errors import OtpAttemptsExceeded, OtpInvalid
from otp import services
from otp.models import OneTimeCode
from tests.concurrency import run_concurrently

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="SQLite's guesses take turns (docstring)"
    ),
]

DESTINATION = "burst@example.com"
WRONG_GUESSES = 8


@pytest.mark.parametrize("round_", range(3))
def test_a_right_guess_after_five_wrong_ones_of_its_burst_is_refused(monkeypatch, round_):
    issued = services.otp_issue(purpose=services.LOGIN, destination=f"{round_}{DESTINATION}")
    destination = issued.destination
    right = issued.code
    wrong = [f"{(int(right) + n) % 10**6:06d}" for n in range(1, WRONG_GUESSES + 1)]

    real = services._verify_rows
    lock = threading.Lock()
    arrived: list[int] = []
    everyone_read = threading.Event()
    wrong_done: list[int] = []
    wrong_all_counted = threading.Event()

    def held(rows, supplied_hash, **kwargs):
        with lock:
            arrived.append(1)
            if len(arrived) == WRONG_GUESSES + 1:
                everyone_read.set()
        everyone_read.wait(timeout=3)
        is_right = any(row.code_hash == supplied_hash for row in rows)
        if is_right:
            wrong_all_counted.wait(timeout=3)
            return real(rows, supplied_hash, **kwargs)
        try:
            return real(rows, supplied_hash, **kwargs)
        finally:
            with lock:
                wrong_done.append(1)
                if len(wrong_done) == WRONG_GUESSES:
                    wrong_all_counted.set()

    monkeypatch.setattr(services, "_verify_rows", held)
    guesses = iter([right, *wrong])

    def guess():
        with lock:
            code = next(guesses)
        return services.otp_consume(purpose=services.LOGIN, destination=destination, code=code)

    results = run_concurrently(guess, count=WRONG_GUESSES + 1)
    assert issued.id not in results, results
    assert all(isinstance(r, OtpInvalid | OtpAttemptsExceeded) for r in results), results
    row = OneTimeCode.objects.get(destination=destination)
    assert row.consumed_at is None
    assert row.attempts == 5
