"""Red team: the sign-in lockout under concurrency (SPEC §14 rule 3, §22.5).

``password_first_factor`` checks the lock, then hashes, then counts the
failure. Guesses sent together all pass the check before any of them is
counted, so a burst is tried in full however far past the limit it goes:
the limit bounds guesses per lock window only as far as the burst is small.
A failure (or a slot) must be counted before the hash is computed.
"""

from __future__ import annotations

import pytest

from accounts.identifiers import EMAIL, Identifier
from accounts.services import signin
from authsite.client import ClientInfo
from tests.concurrency import held_until_all_arrive, run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)

WRONG = "Wrong-Guess-Every-Time-1"


def test_a_burst_of_guesses_does_not_get_past_the_failure_limit(make_user, settings, monkeypatch):
    settings.LOGIN_FAILURE_LIMIT = 3
    burst = 8
    # A bulkhead wide enough for the whole burst: separate worker processes
    # each have their own, so only the shared count may stop the burst here.
    settings.PASSWORD_HASH_CONCURRENCY = burst
    settings.PASSWORD_HASH_QUEUE = burst
    make_user(email="target@example.com")
    check = signin.password_matches

    # Hold every guess that reaches the hash until the whole burst is there
    # (or two seconds have passed): the widest window a real burst can have.
    slow_check = held_until_all_arrive(burst, check)
    monkeypatch.setattr(signin, "password_matches", slow_check)

    def guess():
        return signin.password_first_factor(
            identifier=Identifier(EMAIL, "target@example.com"),
            password=WRONG,
            client=ClientInfo(ip="198.51.100.7"),
        )

    run_concurrently(guess, count=burst)
    entered = len(slow_check.arrived)
    assert 1 <= entered <= settings.LOGIN_FAILURE_LIMIT, (
        f"{entered} passwords were checked in one burst; the lock allows "
        f"{settings.LOGIN_FAILURE_LIMIT} failures"
    )
