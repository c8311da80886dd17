"""SPEC §18.3 for the password under concurrency: the wrong password that
reaches ``SIGNIN_MAX_CONSECUTIVE_FAILURES`` blocks it and tells the account
— once.

Found by an attacker's pass: each wrong try added one to the count in the
database but decided "this one reached the ceiling" from the count it had
read before its hash. A burst of eight that all read one below the edge
took the count from 1 to 9 past a ceiling of 3 with nobody told: no
``password_locked``, no notice, a password blocked in silence (MariaDB and
SQLite; read one below the ceiling instead, every one of them would have
told). The count now moves by conditional UPDATEs, and only the one that
moves it onto the ceiling tells.

How many of a burst are *checked* is bounded by §14.3's window lockout,
counted before any hash (test_redteam_lockout_race.py): at the ceiling's
edge a burst gets at most ``LOGIN_FAILURE_LIMIT`` checks, once."""

from __future__ import annotations

import threading

import pytest

from accounts.identifiers import EMAIL, Identifier
from accounts.models import SecurityEvent, User
from accounts.services import lockout, signin
from authsite.client import ClientInfo
from authsite.errors import InvalidCredentials
from conftest import STRONG_PASSWORD
from tests.concurrency import held_until_all_arrive, run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)

WRONG = "Wrong-Guess-Every-Time-1"
CEILING = 3
BURST = 8


@pytest.mark.parametrize("round_", range(3))
def test_a_burst_of_wrong_passwords_at_the_ceiling_tells_the_account_once(
    make_user, settings, monkeypatch, round_
):
    settings.SIGNIN_MAX_CONSECUTIVE_FAILURES = CEILING
    settings.LOGIN_FAILURE_LIMIT = 100  # the window lockout out of the way
    settings.PASSWORD_HASH_CONCURRENCY = BURST
    settings.PASSWORD_HASH_QUEUE = BURST
    address = f"ceiling{round_}@example.com"
    user = make_user(email=address)
    User.objects.filter(pk=user.pk).update(password_failures=CEILING - 2)

    notices: list[str] = []
    lock = threading.Lock()

    def notice(*, user, template, context=None):
        with lock:
            notices.append(template)

    monkeypatch.setattr(lockout, "notify_account", notice)

    # Every guess held at its hash until the whole burst is there.
    check = signin.password_matches
    monkeypatch.setattr(signin, "password_matches", held_until_all_arrive(BURST, check))

    def guess():
        return signin.password_first_factor(
            identifier=Identifier(EMAIL, address),
            password=WRONG,
            client=ClientInfo(ip="198.51.100.7"),
        )

    results = run_concurrently(guess, count=BURST)
    assert all(isinstance(r, InvalidCredentials) for r in results), results
    user.refresh_from_db()
    assert user.password_failures == CEILING
    assert notices == ["notice_password_locked"]
    assert SecurityEvent.objects.filter(user=user, kind="password_locked").count() == 1
    # Blocked: the right password opens nothing now.
    monkeypatch.setattr(signin, "password_matches", check)
    with pytest.raises(InvalidCredentials):
        signin.password_first_factor(
            identifier=Identifier(EMAIL, address), password=STRONG_PASSWORD, client=ClientInfo()
        )
