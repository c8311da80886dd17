"""``manage.py purge_passkey_challenges``: delete passkey challenges that can
no longer be used (spent, or past their five minutes). Every request for
passkey options makes one — the sign-in page's autofill on every view — so
run it from cron. Safe at any time and on several servers at once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.services.passkeys import passkey_challenges_purge


class Command(BaseCommand):
    help = "Delete spent or expired passkey challenges; print how many."

    def handle(self, *args, **options) -> None:
        deleted = passkey_challenges_purge()
        self.stdout.write(f"Deleted {deleted} spent or expired passkey challenge(s).")
