"""Notices to an account: messages that tell its owner what just happened
(no code, no secret in them). They go to every address of the account, after
the transaction commits (``otp.services.message_send``)."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from otp import services as otp


def notify_account(*, user: User, template: str, context: dict[str, Any] | None = None) -> None:
    """Send a notice to every address of the account, in its language."""
    for destination in (user.email, user.phone):
        if destination:
            otp.message_send(
                destination=destination, template=template, context=context or {}, user=user
            )
