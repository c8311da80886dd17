"""The security event log (SPEC §8). Events never hold a password, a code or
a token: identifiers are masked before they are stored."""

from __future__ import annotations

from datetime import datetime

from accounts.models import SecurityEvent, User
from authsite import clock
from authsite.client import ClientInfo
from otp.destinations import mask_destination


def event_record(
    *,
    kind: str,
    user: User | None = None,
    identifier: str | None = None,
    client: ClientInfo | None = None,
) -> SecurityEvent:
    if identifier is None and user is not None:
        identifier = user.primary_destination
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        identifier=mask_destination(identifier)[:64] if identifier else "",
        ip=client.ip if client else None,
        user_agent=client.user_agent[:512] if client else "",
        created_at=clock.now(),
    )


PURGE_BATCH_SIZE = 1000


def events_purge(*, before: datetime) -> int:
    """Delete the events created before ``before``; returns how many.

    Deletes in small batches, oldest first, so no long lock holds up the
    sign-ins that record new events meanwhile.
    """
    old = SecurityEvent.objects.filter(created_at__lt=before).order_by("created_at", "pk")
    deleted = 0
    while True:
        ids = list(old.values_list("pk", flat=True)[:PURGE_BATCH_SIZE])
        if not ids:
            return deleted
        count, _by_model = SecurityEvent.objects.filter(pk__in=ids).delete()
        deleted += count
