"""The sign-in lockout (SPEC §14 rule 3, §22.5): ``accounts/services/lockout.py``.

Tries are counted per key before any password is checked; the try that
reaches ``LOGIN_FAILURE_LIMIT`` closes a lock of ``LOGIN_LOCKOUT_BASE``
seconds, every lock after a lock ran out is twice as long, up to
``LOGIN_LOCKOUT_MAX``; a success clears the count."""

from __future__ import annotations

import pytest

from accounts.services import lockout
from accounts.services.lockout import (
    lockout_key,
    password_confirm,
    signin_clear,
    signin_clear_account,
    signin_is_open,
    signin_try,
)
from accounts.services.signin import password_first_factor
from accounts.tests.services.support import CLIENT, PASSWORD, PHONE_NUMBER, WRONG, email, username
from authsite.errors import RateLimited

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_lockout")]

KEY = "identifier:someone@example.com"


def _tries(key: str, count: int) -> None:
    for _ in range(count):
        signin_try(key=key)


def _refused(key: str) -> RateLimited:
    with pytest.raises(RateLimited) as caught:
        signin_try(key=key)
    return caught.value


def test_a_saved_account_is_counted_by_its_id_and_anything_else_by_its_identifier(user):
    assert lockout_key(user=user) == f"account:{user.pk}"
    assert lockout_key(user=user, identifier="alice@example.com") == f"account:{user.pk}"
    assert lockout_key(user=None, identifier="bob@example.com") == "identifier:bob@example.com"
    assert lockout_key(user=None) == "identifier:"


def test_the_try_that_reaches_the_limit_passes_and_closes_the_lock(clock):
    _tries(KEY, 3)  # the third is still checked
    refused = _refused(KEY)
    assert refused.code == "rate_limited"
    assert refused.status == 429
    assert refused.retry_after == 60


def test_tries_under_the_limit_are_all_let_through(clock):
    _tries(KEY, 2)
    assert signin_is_open(key=KEY) is True  # the third: reaches the limit, still checked


def test_the_wait_counts_down_with_the_clock(clock):
    _tries(KEY, 3)
    clock.advance(45)
    assert _refused(KEY).retry_after == 15


def test_each_lock_after_one_ran_out_lets_one_try_through_and_doubles(clock):
    _tries(KEY, 3)
    assert _refused(KEY).retry_after == 60
    clock.advance(61)
    signin_try(key=KEY)  # the lock ran out: one try is checked again...
    assert _refused(KEY).retry_after == 120  # ...and it closed a lock twice as long
    clock.advance(121)
    signin_try(key=KEY)
    assert _refused(KEY).retry_after == 240


def test_the_lock_never_grows_past_the_maximum(clock):
    _tries(KEY, 3)
    waits = []
    for _ in range(6):
        clock.advance(601)
        signin_try(key=KEY)
        waits.append(_refused(KEY).retry_after)
    assert waits == [120, 240, 480, 600, 600, 600]


def test_a_refused_try_checks_nothing_and_leaves_the_lock_as_it_was(clock):
    _tries(KEY, 3)
    for _ in range(5):
        _refused(KEY)
    clock.advance(61)
    signin_try(key=KEY)  # refusals did not lengthen the lock: it ran out after 60 s


def test_signin_is_open_answers_instead_of_raising_and_counts_either_way(clock):
    assert [signin_is_open(key=KEY) for _ in range(5)] == [True, True, True, False, False]
    _refused(KEY)


def test_clearing_a_key_forgets_its_tries_and_its_lock(clock):
    _tries(KEY, 3)
    signin_clear(keys=[KEY])
    _tries(KEY, 3)  # a fresh count: three tries again before the lock
    _refused(KEY)


def test_keys_are_counted_apart(clock):
    _tries(KEY, 3)
    _refused(KEY)
    signin_try(key="identifier:other@example.com")
    signin_try(key=KEY.upper())  # compared byte for byte


def test_clearing_an_account_clears_its_own_key_and_each_of_its_identifiers(make_user, clock):
    account = make_user(email="carol@example.com", phone=PHONE_NUMBER, username="carol")
    keys = [
        lockout_key(user=account),
        lockout_key(user=None, identifier="carol@example.com"),
        lockout_key(user=None, identifier=PHONE_NUMBER),
        lockout_key(user=None, identifier="carol"),
    ]
    for key in keys:
        _tries(key, 3)
        _refused(key)
    signin_clear_account(user=account)
    for key in keys:
        signin_try(key=key)


def test_confirming_the_right_password_answers_true_and_clears_the_count(user, clock):
    for _ in range(2):
        assert password_confirm(user=user, password=WRONG) is False
    assert password_confirm(user=user, password=PASSWORD) is True
    # Cleared: two more wrong tries and a right one, still no lock.
    for _ in range(2):
        assert password_confirm(user=user, password=WRONG) is False
    assert password_confirm(user=user, password=PASSWORD) is True


def test_confirming_a_password_is_limited_like_a_sign_in(user, clock, hasher_calls):
    for _ in range(3):
        assert password_confirm(user=user, password=WRONG) is False
    checked = hasher_calls["verify"]
    with pytest.raises(RateLimited):
        password_confirm(user=user, password=PASSWORD)
    assert hasher_calls["verify"] == checked  # refused before any hash


def test_a_lock_reached_by_confirming_also_answers_429_to_each_identifier_sign_in(make_user, clock):
    account = make_user(email="dave@example.com", username="dave")
    for _ in range(3):
        password_confirm(user=account, password=WRONG)
    for identifier in (email("dave@example.com"), username("dave")):
        with pytest.raises(RateLimited):
            password_first_factor(identifier=identifier, password=PASSWORD, client=CLIENT)


def test_a_lock_closed_on_the_account_key_is_counted_once_in_the_metrics(user, clock, monkeypatch):
    recorded = []
    monkeypatch.setattr(lockout.metrics, "lockout_recorded", lambda: recorded.append(1))
    for _ in range(3):
        password_confirm(user=user, password=WRONG)
    # The account's key and its identifier's key both closed a lock: one lockout.
    assert len(recorded) == 1
