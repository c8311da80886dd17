"""Two sign-up attempts for one address, both completed at the same moment
(someone else's half-finished sign-up for the same address): exactly one
account, and the other completion a clear answer — never a 500. On MariaDB
the loser's wait on the duplicate address could deadlock with the winner's
next writes (1213, seen once in CI and answered 503); ``signup_complete``
runs its block once more after a deadlock, and then finds the account made
or the attempts ended, as the race is answered on SQLite."""

from __future__ import annotations

from itertools import count

import pytest
from django.db import OperationalError

from accounts.models import User
from accounts.services import signup
from accounts.services.signup import signup_complete, signup_start
from accounts.tests.helpers import last_code_for
from accounts.tests.services.support import CLIENT, PASSWORD, delivered
from authsite.db import MYSQL_DEADLOCK, is_deadlock
from authsite.errors import AccountExists, OtpInvalid, ValidationFailed
from tests.concurrency import run_concurrently


def _start(address: str):
    with delivered():
        return signup_start(email=address, phone=None, client=CLIENT, password=PASSWORD)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(4))
def test_two_attempts_completed_together_make_one_account(clock, round_):
    address = f"race{round_}@example.com"
    first = _start(address)
    first_code = last_code_for(address)
    clock.advance(31)
    second = _start(address)
    second_code = last_code_for(address)
    jobs = [(first, first_code), (second, second_code)]
    turn = count()

    def complete():
        started, code = jobs[next(turn)]
        return signup_complete(signup_token=started.signup_token, code=code, client=CLIENT)

    results = run_concurrently(complete, count=2)
    assert len([r for r in results if isinstance(r, tuple)]) == 1, results
    (other,) = [r for r in results if not isinstance(r, tuple)]
    assert isinstance(other, AccountExists | OtpInvalid | ValidationFailed), other
    assert User.objects.filter(email=address).count() == 1


def _deadlock() -> OperationalError:
    return OperationalError(MYSQL_DEADLOCK, "Deadlock found when trying to get lock")


def test_a_deadlock_is_told_from_other_database_errors():
    assert is_deadlock(_deadlock())
    assert not is_deadlock(OperationalError(2006, "MySQL server has gone away"))
    assert not is_deadlock(OperationalError("database is locked"))
    assert not is_deadlock(ValueError(MYSQL_DEADLOCK))


@pytest.mark.django_db(transaction=True)
def test_the_deadlock_victim_runs_its_block_again(monkeypatch):
    # What MariaDB answers the victim (its transaction already rolled back),
    # given once: the second run makes the account.
    started = _start("victim@example.com")
    code = last_code_for("victim@example.com")
    real = signup._signup_account_make
    calls = []

    def deadlocked_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise _deadlock()
        return real(*args, **kwargs)

    monkeypatch.setattr(signup, "_signup_account_make", deadlocked_once)
    user, _identifier = signup_complete(signup_token=started.signup_token, code=code, client=CLIENT)
    assert len(calls) == 2
    assert User.objects.get(email="victim@example.com") == user


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "errors",
    [
        [OperationalError(2006, "MySQL server has gone away")],  # an outage: not retried
        [OperationalError(MYSQL_DEADLOCK, "x"), OperationalError(MYSQL_DEADLOCK, "x")],
    ],
)
def test_anything_else_or_a_second_deadlock_goes_to_the_caller(monkeypatch, errors):
    started = _start("loser@example.com")
    code = last_code_for("loser@example.com")
    raised = list(errors)

    def failing(*args, **kwargs):
        raise raised.pop(0)

    monkeypatch.setattr(signup, "_signup_account_make", failing)
    with pytest.raises(OperationalError):
        signup_complete(signup_token=started.signup_token, code=code, client=CLIENT)
    assert not raised  # each given error was met once
    assert not User.objects.filter(email="loser@example.com").exists()
