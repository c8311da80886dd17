"""The security event log (SPEC §8). Events never hold a password, a code or
a token: identifiers are masked before they are stored."""

from __future__ import annotations

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
