"""SPEC §4's per-destination limits (the resend cooldown, the hourly cap)
against a burst of requests sent at once.

Each code request read the destination's recent codes, decided, then wrote
its own; on MariaDB, requests in flight together all read before any of them
wrote, so a burst all passed the cooldown and each sent a message. The per-IP
limits do not stop that from many addresses (a botnet), and a phone number
can then be sent a text per request in flight, each one paid for: SMS
bombing and toll fraud. A code request now takes a per-destination lock
(``otp.models.CodeRequestLock``) before it reads the limits, so the requests
for one destination are decided one after the other, on every database.

The burst is held at its widest: every request that has read the limits
waits (at most half a second) until the whole burst has read them."""

from __future__ import annotations

import threading

import pytest

from conftest import CommitAPIClient
from otp import services
from otp.models import OneTimeCode
from tests.attacks.conftest import sent_to
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/v1/auth"
BURST = 6


@pytest.fixture
def held_at_the_decision(monkeypatch):
    """Hold each request that has read the limits until the whole burst has."""
    decide = services._issue_refusal
    entered = 0
    lock = threading.Lock()
    everyone_in = threading.Event()

    def held(*args, **kwargs):
        nonlocal entered
        with lock:
            entered += 1
            if entered == BURST:
                everyone_in.set()
        everyone_in.wait(timeout=0.5)
        return decide(*args, **kwargs)

    monkeypatch.setattr(services, "_issue_refusal", held)


def _burst(path: str, body: dict) -> list[int]:
    def ask():
        return CommitAPIClient().post(f"{API}/{path}", body, format="json").status_code

    return sorted(run_concurrently(ask, count=BURST))


def test_a_burst_of_sign_in_code_requests_sends_one_code(make_user, held_at_the_decision):
    victim = make_user(email="victim@example.com")
    statuses = _burst("otp/request", {"email": victim.email})
    assert statuses == [200] + [429] * (BURST - 1), statuses
    assert OneTimeCode.objects.filter(destination=victim.email).count() == 1
    assert len(sent_to(victim.email)) == 1


def test_a_burst_for_a_phone_nobody_has_writes_one_code(held_at_the_decision, sms_outbox):
    # The enumeration-safe path writes a row for an unknown number too: its
    # limits are the same as a known number's, under a burst as well.
    statuses = _burst("password/forgot", {"phone": "+14155550123"})
    assert statuses == [200] + [429] * (BURST - 1), statuses
    assert OneTimeCode.objects.filter(destination="+14155550123").count() == 1


def test_the_hourly_cap_holds_against_a_burst(make_user, settings):
    settings.OTP_RESEND_COOLDOWN = 0
    victim = make_user(email="victim@example.com")
    statuses = _burst("otp/request", {"email": victim.email})
    assert statuses.count(200) == settings.OTP_MAX_SENDS_PER_HOUR, statuses
    assert len(sent_to(victim.email)) == settings.OTP_MAX_SENDS_PER_HOUR
