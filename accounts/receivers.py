"""What accounts records of things other apps report (connected in apps.py)."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from accounts.models import SecurityEvent, User
from accounts.services.events import event_record
from otp.signals import delivery_failed

logger = logging.getLogger("authsite.accounts")


@receiver(delivery_failed, dispatch_uid="accounts.delivery_failed_event")
def record_delivery_failure(
    sender, *, destination: str, user_id: int | None = None, **kwargs
) -> None:
    """A code or notice could not be delivered: a security event the user sees."""
    try:
        user = User.objects.filter(pk=user_id).first() if user_id else None
        event_record(kind=SecurityEvent.DELIVERY_FAILED, user=user, identifier=destination)
    except Exception:  # recording must never break delivery handling
        logger.exception("Could not record a delivery failure event")
