"""``manage.py purge_otps`` (SPEC §4)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from authsite.errors import OtpInvalid, OtpLocked
from otp import services
from otp.models import CodeRequestLock, OneTimeCode

pytestmark = pytest.mark.django_db

HOUR = 60 * 60


def purge() -> str:
    out = StringIO()
    call_command("purge_otps", stdout=out)
    return out.getvalue()


def test_purge_deletes_codes_past_lifetime_and_grace_and_keeps_live_ones(issue, clock):
    old = issue(destination="old@example.com")
    clock.advance(25 * HOUR)  # default grace 24 h: expired 24 h 50 min ago
    live = issue(destination="live@example.com")

    assert "Deleted 1 " in purge()

    assert list(OneTimeCode.objects.values_list("pk", flat=True)) == [live.id]
    assert not OneTimeCode.objects.filter(pk=old.id).exists()
    services.otp_consume(purpose=services.LOGIN, destination="live@example.com", code=live.code)


def test_purge_keeps_expired_codes_within_the_grace(issue, clock, settings):
    settings.OTP_PURGE_GRACE = 48 * HOUR
    issue()
    clock.advance(25 * HOUR)
    assert "Deleted 0 " in purge()
    assert OneTimeCode.objects.count() == 1


def test_purge_never_deletes_codes_inside_the_failure_budget_window(issue, clock, settings):
    """Purging must not give a guesser a fresh budget."""
    settings.OTP_PURGE_GRACE = 60
    settings.OTP_MAX_FAILURES_PER_DAY = 3
    issued = issue()
    for _ in range(3):
        with pytest.raises((OtpInvalid, OtpLocked)):
            services.otp_check(purpose=services.LOGIN, destination=issued.destination, code="x")
    clock.advance(2 * HOUR)  # expired long past the grace, but created 2 h ago

    assert "Deleted 0 " in purge()
    with pytest.raises(OtpLocked):
        issue()

    clock.advance(22 * HOUR + 1)  # now outside the 24 h window
    assert "Deleted 1 " in purge()
    issue()


def test_purge_deletes_in_batches(issue, clock, monkeypatch):
    from otp.management.commands import purge_otps

    monkeypatch.setattr(purge_otps, "BATCH_SIZE", 2)
    for n in range(5):
        issue(destination=f"user{n}@example.com")
    clock.advance(49 * HOUR)
    assert "Deleted 5 " in purge()
    assert OneTimeCode.objects.count() == 0


def test_purge_deletes_the_request_locks_of_destinations_idle_for_a_day(issue, clock):
    issue(destination="old@example.com")
    clock.advance(23 * HOUR)
    issue(destination="recent@example.com")
    clock.advance(1 * HOUR + 1)
    assert "and 1 idle request lock(s)" in purge()
    assert list(CodeRequestLock.objects.values_list("destination", flat=True)) == [
        "recent@example.com"
    ]
    # A destination whose lock was purged is asked for again as before.
    issue(destination="old@example.com")
    assert CodeRequestLock.objects.count() == 2
