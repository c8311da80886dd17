"""``manage.py purge_signup_attempts``: delete sign-up attempts past
``SIGNUP_ATTEMPT_TTL`` (they can no longer be verified). Safe from cron at any
time and on several servers at once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.services.signup import signup_attempts_purge


class Command(BaseCommand):
    help = "Delete sign-up attempts that can no longer be verified; print how many."

    def handle(self, *args, **options) -> None:
        deleted = signup_attempts_purge()
        self.stdout.write(f"Deleted {deleted} expired sign-up attempt(s).")
