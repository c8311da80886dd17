"""The security event log (SPEC §8). Events never hold a password, a code or
a token: identifiers are masked before they are stored."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils.crypto import salted_hmac

from accounts.models import SecurityEvent, User
from authsite import clock
from authsite.client import ClientInfo
from otp.destinations import mask_destination


def identifier_digest(identifier: str) -> str:
    """HMAC-SHA256 of a normalised identifier, keyed from SECRET_KEY."""
    return salted_hmac(
        "authsite.accounts.event-identifier", identifier, algorithm="sha256"
    ).hexdigest()


def events_link_anonymous(*, user: User, identifier: str) -> int:
    """Attach the events recorded for this exact identifier before its account
    existed (a code request for an unknown address) to the new account."""
    return SecurityEvent.objects.filter(
        user__isnull=True, identifier_digest=identifier_digest(identifier)
    ).update(user=user)


def events_scrub(*, user: User, identifiers: list[str]) -> int:
    """Strip every personal detail from the events of a user being deleted:
    theirs, and the anonymous ones recorded for their exact addresses."""
    digests = [identifier_digest(i) for i in identifiers if i]
    return SecurityEvent.objects.filter(
        Q(user=user) | Q(user__isnull=True, identifier_digest__in=digests)
    ).update(user=None, identifier="", identifier_digest="", ip=None, user_agent="")


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
        identifier_digest=identifier_digest(identifier) if identifier else "",
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
