"""``manage.py purge_otps``: delete codes long past their lifetime.

Safe from cron at any time: a code is deleted only when it expired more than
``OTP_PURGE_GRACE`` seconds ago AND was created more than 24 h ago, so purging
never shortens the 24 h failure budget (its rows' ``attempts`` are the
budget). Deletes in small batches so no long lock blocks code requests.

It also deletes the destinations' ``CodeRequestLock`` rows that no request
has touched in 24 h (a row only serialises requests in flight; a later
request writes it again).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from authsite import clock
from otp.conf import FAILURE_WINDOW_SECONDS, app_settings
from otp.models import CodeRequestLock, OneTimeCode

BATCH_SIZE = 1000


class Command(BaseCommand):
    help = (
        "Delete one-time codes past their lifetime plus OTP_PURGE_GRACE (never within 24 h), "
        "and the request locks of destinations idle for 24 h."
    )

    def handle(self, *args, **options) -> None:
        now = clock.now()
        expired_before = now - timedelta(seconds=app_settings.PURGE_GRACE)
        created_before = now - timedelta(seconds=FAILURE_WINDOW_SECONDS)
        purgeable = OneTimeCode.objects.filter(
            expires_at__lt=expired_before, created_at__lt=created_before
        )
        deleted = _deleted_in_batches(OneTimeCode, purgeable)
        idle = CodeRequestLock.objects.filter(requested_at__lt=created_before)
        locks = _deleted_in_batches(CodeRequestLock, idle)
        self.stdout.write(
            f"Deleted {deleted} expired one-time code(s) and {locks} idle request lock(s)."
        )


def _deleted_in_batches(model, queryset) -> int:
    deleted = 0
    while True:
        keys = list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
        if not keys:
            return deleted
        count, _by_model = model.objects.filter(pk__in=keys).delete()
        deleted += count
