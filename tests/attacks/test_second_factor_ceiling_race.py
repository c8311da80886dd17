"""SPEC §18.3 under concurrency: after ``SIGNIN_MAX_CONSECUTIVE_FAILURES``
wrong tries a TOTP factor (or a set of recovery codes) stops working, and the
account is told once.

Re-authentication (§16.4) checks a factor with no ``mfa_token`` and its
five tries in between: the ceiling is the only bound on a thief with a
stolen access token guessing the owner's TOTP codes. Found by an attacker's
pass: each try read the factor's count, checked the code, and counted a
wrong one afterwards, so every guess in flight passed the ceiling — a burst
of 12 against a ceiling of 3 had all 12 codes checked (MariaDB and SQLite),
and the notice went out as many times as the reads happened to line up.
A try is now taken from the factor by a conditional UPDATE *before* its
code is checked (a right code gives the count back to 0).

Each guess is held at the check until the whole burst is there (or two
seconds have passed): the widest window a real burst can have."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pyotp
import pytest
from django.db import transaction

from accounts.crypto import secret_encrypt
from accounts.models import Authenticator, User
from accounts.services import mfa
from accounts.tests.services.support import CLIENT
from authsite import clock
from authsite.errors import OtpInvalid
from tests.concurrency import held_until_all_arrive, run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CEILING = 3
BURST = 12


@contextmanager
def _held_at_the_check(monkeypatch, name: str):
    """Hold every guess that reaches ``mfa.<name>`` until the whole burst is
    there; yields the list of guesses that reached it."""
    held = held_until_all_arrive(BURST, getattr(mfa, name))
    monkeypatch.setattr(mfa, name, held)
    yield held.arrived


@pytest.fixture
def notices(monkeypatch):
    sent: list[str] = []
    lock = threading.Lock()

    def record(*, user, template, context=None):
        with lock:
            sent.append(template)

    monkeypatch.setattr(mfa, "notify_account", record)
    return sent


def _wrong_totp() -> str:
    now = int(clock.now().timestamp()) // mfa.TOTP_STEP
    right = {pyotp.TOTP(SECRET).at(step * mfa.TOTP_STEP) for step in (now - 1, now, now + 1)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in right)


def _guess(user: User, method: str, code: str):
    def guess():
        return mfa.factor_check(
            user=User.objects.get(pk=user.pk),
            method=method,
            code=code,
            subject="",
            first_factor_identifier=None,
            client=CLIENT,
        )

    return guess


@pytest.mark.parametrize("round_", range(3))
def test_a_burst_of_wrong_totp_codes_gets_no_more_checks_than_the_ceiling(
    make_user, settings, monkeypatch, notices, round_
):
    settings.SIGNIN_MAX_CONSECUTIVE_FAILURES = CEILING
    user = make_user(email=f"totp{round_}@example.com")
    Authenticator.objects.create(
        user=user, kind=mfa.TOTP, confirmed=True, secret=secret_encrypt(SECRET)
    )
    with _held_at_the_check(monkeypatch, "_totp_step_matched") as checked:
        run_concurrently(_guess(user, mfa.TOTP, _wrong_totp()), count=BURST)

    assert len(checked) <= CEILING, f"{len(checked)} codes checked; the ceiling is {CEILING}"
    factor = Authenticator.objects.get(user=user, kind=mfa.TOTP)
    assert factor.failures == CEILING
    assert notices == ["notice_factor_locked"]
    # Blocked: the right code opens nothing now.
    right = pyotp.TOTP(SECRET).at(clock.now().timestamp())
    with pytest.raises(OtpInvalid):
        _guess(user, mfa.TOTP, right)()


@pytest.mark.parametrize("round_", range(3))
def test_a_burst_of_wrong_recovery_codes_gets_no_more_checks_than_the_ceiling(
    make_user, settings, monkeypatch, notices, round_
):
    settings.SIGNIN_MAX_CONSECUTIVE_FAILURES = CEILING
    user = make_user(email=f"recovery{round_}@example.com")
    with transaction.atomic():
        codes = mfa.recovery_codes_if_first(user)
    wrong = "abcde-fghjk"
    assert wrong not in codes
    with _held_at_the_check(monkeypatch, "_clean_recovery") as checked:
        run_concurrently(_guess(user, mfa.RECOVERY_CODE, wrong), count=BURST)

    assert len(checked) <= CEILING, f"{len(checked)} codes checked; the ceiling is {CEILING}"
    holder = Authenticator.objects.get(user=user, kind=mfa.RECOVERY_CODES)
    assert holder.failures == CEILING
    assert notices == ["notice_recovery_codes_locked"]
    with pytest.raises(OtpInvalid):
        _guess(user, mfa.RECOVERY_CODE, codes[0])()


def test_a_right_code_in_the_burst_still_opens_and_clears_the_count(
    make_user, settings, monkeypatch, notices
):
    # Guard: the try taken before the check is given back by a right code
    # (the ceiling counts wrong tries *in a row*).
    settings.SIGNIN_MAX_CONSECUTIVE_FAILURES = CEILING
    user = make_user(email="right@example.com")
    Authenticator.objects.create(
        user=user, kind=mfa.TOTP, confirmed=True, secret=secret_encrypt(SECRET)
    )
    wrong = _wrong_totp()
    for _ in range(CEILING - 1):
        with pytest.raises(OtpInvalid):
            _guess(user, mfa.TOTP, wrong)()
    _guess(user, mfa.TOTP, pyotp.TOTP(SECRET).at(clock.now().timestamp()))()
    factor = Authenticator.objects.get(user=user, kind=mfa.TOTP)
    assert factor.failures == 0
    assert notices == []
