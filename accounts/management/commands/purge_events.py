"""``manage.py purge_events``: delete security events past their retention.

Retention is ``SECURITY_EVENT_RETENTION_DAYS`` (``--days`` overrides it for
one run). Safe from cron at any time and on several servers at once: it only
deletes rows older than the cut-off, in small batches.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services.events import events_purge
from authsite import clock


class Command(BaseCommand):
    help = (
        "Delete security events older than SECURITY_EVENT_RETENTION_DAYS "
        "(or --days) and print how many were deleted."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days of events instead of SECURITY_EVENT_RETENTION_DAYS.",
        )

    def handle(self, *args, days: int | None = None, **options) -> None:
        if days is None:
            days = settings.SECURITY_EVENT_RETENTION_DAYS
        if days < 1:
            raise CommandError("The retention must be at least 1 day.")
        deleted = events_purge(before=clock.now() - timedelta(days=days))
        self.stdout.write(f"Deleted {deleted} security event(s) older than {days} day(s).")
