"""``manage.py purge_events`` (SPEC §8) and its sibling ``purge_otps``."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

from accounts.models import SecurityEvent
from accounts.services import events
from accounts.services.events import event_record, events_purge

pytestmark = pytest.mark.django_db


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_events", *args, stdout=out)
    return out.getvalue()


def record_at_age(clock, user, days: float) -> SecurityEvent:
    """An event recorded ``days`` days before the clock's present."""
    present = clock.current
    clock.advance(days=-days)
    event = event_record(kind=SecurityEvent.LOGIN_SUCCESS, user=user)
    clock.current = present
    return event


def test_deletes_only_events_past_the_retention(settings, clock, user):
    settings.SECURITY_EVENT_RETENTION_DAYS = 30
    old = [record_at_age(clock, user, days) for days in (31, 400)]
    kept = [record_at_age(clock, user, days) for days in (29.9, 1, 0)]

    output = purge()

    assert "Deleted 2 security event(s) older than 30 day(s)." in output
    remaining = set(SecurityEvent.objects.values_list("pk", flat=True))
    assert remaining == {e.pk for e in kept}
    assert not remaining & {e.pk for e in old}


def test_days_option_overrides_the_setting(settings, clock, user):
    settings.SECURITY_EVENT_RETENTION_DAYS = 365
    record_at_age(clock, user, 10)
    recent = record_at_age(clock, user, 2)

    assert "Deleted 1 security event(s) older than 7 day(s)." in purge("--days", "7")
    assert list(SecurityEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_nothing_to_delete_says_zero_and_running_twice_is_harmless(clock, user):
    record_at_age(clock, user, 1)
    assert "Deleted 0 security event(s)" in purge()
    assert "Deleted 0 security event(s)" in purge()
    assert SecurityEvent.objects.count() == 1


def test_a_retention_below_one_day_is_refused(clock, user):
    record_at_age(clock, user, 5)
    with pytest.raises(CommandError):
        purge("--days", "0")
    assert SecurityEvent.objects.count() == 1


def test_events_purge_works_in_batches(monkeypatch, clock, user):
    monkeypatch.setattr(events, "PURGE_BATCH_SIZE", 2)
    for _ in range(5):
        record_at_age(clock, user, 50)
    keep = record_at_age(clock, user, 1)
    assert events_purge(before=clock.current - timedelta(days=30)) == 5
    assert list(SecurityEvent.objects.values_list("pk", flat=True)) == [keep.pk]


def test_both_purge_commands_exist_for_cron():
    commands = get_commands()
    assert commands["purge_events"] == "accounts"
    assert commands["purge_otps"] == "otp"
