"""A sign-up naming an account's phone and email, started while that account
is deleted (anyone who knows both addresses can time one): the deletion goes
through and the sign-up gets an ordinary answer — never a 500 or a 503.

A sign-up with a phone and an email locks the code-request rows of both
addresses; an account's deletion locks the same two. The sign-up took them
phone first, the deletion in sorted order — email first when the address
sorts before ``+`` (``!held@example.com``, a valid address) — and on
MariaDB the two deadlocked (1213). Runs on both databases."""

from __future__ import annotations

import threading
import time

import pytest

from accounts.models import User
from accounts.services import signup
from accounts.services.account import account_remove
from accounts.services.signup import SignupStarted, signup_start
from accounts.tests.services.support import CLIENT, PASSWORD, PHONE_NUMBER
from authsite.errors import RetryLater
from tests.concurrency import run_each_concurrently


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(6))
def test_a_signup_naming_both_addresses_of_an_account_being_deleted(make_user, round_):
    _race(make_user, f"!held{round_}@example.com")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_a_signup_held_between_its_two_addresses_while_the_account_is_deleted(
    make_user, monkeypatch, round_
):
    # The deletion starts once the sign-up holds the phone's lock, and the
    # sign-up waits a moment before it takes the email's: on MariaDB, without
    # a common order, a deadlock every time.
    real = signup._send_pending_email
    phone_held = threading.Event()

    def slow(attempt):
        phone_held.set()
        time.sleep(0.3)
        return real(attempt)

    monkeypatch.setattr(signup, "_send_pending_email", slow)
    _race(make_user, f"!slow{round_}@example.com", before_deletion=lambda: phone_held.wait(2))


def _race(make_user, address: str, before_deletion=lambda: None) -> None:
    user = make_user(email=address, phone=PHONE_NUMBER)

    def delete():
        before_deletion()
        return account_remove(user=user)

    results = run_each_concurrently(
        delete,
        lambda: signup_start(email=address, phone=PHONE_NUMBER, client=CLIENT, password=PASSWORD),
    )
    for result in results:
        # A code to the phone moments before (the cooldown) is an ordinary answer too.
        assert result is None or isinstance(result, SignupStarted | RetryLater), results
    assert not User.objects.filter(pk=user.pk).exists()
