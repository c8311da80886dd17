"""``manage.py purge_otps``: delete codes long past their lifetime.

Safe from cron at any time: a code is deleted only when it expired more than
``OTP_PURGE_GRACE`` seconds ago AND was created more than 24 h ago, so purging
never shortens the 24 h failure budget (its rows' ``attempts`` are the
budget). Deletes in small batches so no long lock blocks code requests.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from authsite import clock
from otp.conf import FAILURE_WINDOW_SECONDS, app_settings
from otp.models import OneTimeCode

BATCH_SIZE = 1000


class Command(BaseCommand):
    help = "Delete one-time codes past their lifetime plus OTP_PURGE_GRACE (never within 24 h)."

    def handle(self, *args, **options) -> None:
        now = clock.now()
        expired_before = now - timedelta(seconds=app_settings.PURGE_GRACE)
        created_before = now - timedelta(seconds=FAILURE_WINDOW_SECONDS)
        purgeable = OneTimeCode.objects.filter(
            expires_at__lt=expired_before, created_at__lt=created_before
        )
        deleted = 0
        while True:
            ids = list(purgeable.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
            if not ids:
                break
            count, _by_model = OneTimeCode.objects.filter(pk__in=ids).delete()
            deleted += count
        self.stdout.write(f"Deleted {deleted} expired one-time code(s).")
