"""Deleting an account while codes are asked for its addresses (found by an
attacker's pass). On MariaDB a code request's event, written between the
deletion's scrub of the account's events and the removal of the account,
made the deletion fail (a foreign key, 500) and the account survived: anyone
who knew the address could keep an account from being deleted. On SQLite the
code request was the one to fail (500), its account gone under it.

Now the deletion holds the account's row first, so what refers to the account
waits for it; and a code request whose account vanished under it is answered
as for any address nobody holds."""

from __future__ import annotations

import threading

import pytest

from accounts.models import SecurityEvent, User
from accounts.services import account as account_service
from conftest import STRONG_PASSWORD, CommitAPIClient
from otp.models import OneTimeCode
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/v1/auth"


def test_a_deletion_wins_over_code_requests_in_flight(make_user, monkeypatch):
    victim = make_user(email="leaving@example.com")
    owner = CommitAPIClient()
    session = owner.post(
        f"{API}/login", {"email": victim.email, "password": STRONG_PASSWORD}, format="json"
    ).json()["data"]
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")

    # Hold the deletion between its scrub of the events and the removal of
    # the account, while the code requests run.
    scrub = account_service.events_scrub
    requests_sent = threading.Event()

    def slow_scrub(**kwargs):
        scrub(**kwargs)
        requests_sent.wait(timeout=1.0)

    monkeypatch.setattr(account_service, "events_scrub", slow_scrub)
    started = threading.Barrier(2)

    def delete():
        started.wait(timeout=10)
        return owner.delete(f"{API}/account", {}, format="json").status_code

    def ask_codes():
        started.wait(timeout=10)
        statuses = []
        for path in ("otp/request", "password/forgot"):
            client = CommitAPIClient()
            statuses.append(
                client.post(f"{API}/{path}", {"email": victim.email}, format="json").status_code
            )
            requests_sent.set()
        return statuses

    results: dict[str, object] = {}

    def run(name, work):
        results[name] = work()

    threads = [
        threading.Thread(target=run, args=("delete", delete)),
        threading.Thread(target=run, args=("codes", ask_codes)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results["delete"] == 204, results
    assert all(status < 500 for status in results["codes"]), results
    assert not User.objects.filter(pk=victim.pk).exists()
    # Nothing left that names the account.
    assert not SecurityEvent.objects.filter(user_id=victim.pk).exists()
    assert not OneTimeCode.objects.filter(user_id=victim.pk).exists()


def _race(email: str, owner) -> list[tuple[str, int]]:
    calls = iter(["delete"] + ["otp/request", "password/forgot"] * 2)
    lock = threading.Lock()

    def one():
        with lock:
            call = next(calls)
        if call == "delete":
            return ("delete", owner.delete(f"{API}/account", {}, format="json").status_code)
        client = CommitAPIClient()
        return (call, client.post(f"{API}/{call}", {"email": email}, format="json").status_code)

    return run_concurrently(one, count=5)


def test_many_deletions_and_requests(make_user):
    # The same without holding anything, several times over.
    for round_number in range(5):
        email = f"leaving{round_number}@example.com"
        user = make_user(email=email)
        owner = CommitAPIClient()
        session = owner.post(
            f"{API}/login", {"email": email, "password": STRONG_PASSWORD}, format="json"
        ).json()["data"]
        owner.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
        outcomes = _race(email, owner)
        assert ("delete", 204) in outcomes, outcomes
        assert all(status < 500 for _call, status in outcomes), outcomes
        assert not User.objects.filter(pk=user.pk).exists()
