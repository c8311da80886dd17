"""What accounts records of things other apps report (connected in apps.py)."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in
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


@receiver(user_logged_in, dispatch_uid="accounts.finalise_django_login")
def finalise_django_login(sender, *, request, user, **kwargs) -> None:
    """Django's ``login()`` called after ``authenticate()`` outside our doors
    still ends in the pipeline's last stage (SPEC §15)."""
    from accounts.browser import django_login_finalised

    django_login_finalised(request, user)
