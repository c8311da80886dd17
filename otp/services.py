"""One-time codes (SPEC §4): issue, check, consume; limits; hashed storage.

INTERFACE CONTRACT (accounts calls these; otp knows nothing of accounts):

- ``otp_issue(*, purpose, destination, user=None, deliver=True, template=None,
  context=None) -> IssuedCode``
- ``otp_check(*, purpose, destination, code, user=None) -> None``
- ``otp_consume(*, purpose, destination, code, user=None) -> int`` (code row id)
- ``message_send(*, destination, template, context=None) -> None``
- ``otp_delete_for(*, destinations, user=None) -> int``
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

SIGNUP = "signup"
LOGIN = "login"
PASSWORD_RESET = "password_reset"
CONTACT_CHANGE = "contact_change"
PURPOSES = (SIGNUP, LOGIN, PASSWORD_RESET, CONTACT_CHANGE)


@dataclass(frozen=True)
class IssuedCode:
    id: int
    code: str  # the plain code: in memory only, for delivery and OTP_EXPOSE_IN_RESPONSE
    purpose: str
    channel: str  # "email" or "sms"
    destination: str
    expires_at: datetime
    expires_in: int  # seconds
    resend_in: int  # seconds until the cooldown allows another send


def otp_issue(
    *,
    purpose: str,
    destination: str,
    user: Any = None,
    deliver: bool = True,
    template: str | None = None,
    context: dict[str, Any] | None = None,
) -> IssuedCode:
    """Issue a new code for (purpose, destination), optionally bound to ``user``.

    ``destination`` is already normalised (lower-case email or E.164 phone).
    Refuses with ``OtpCooldown`` / ``OtpSendLimit`` (``retry_after`` set),
    ``OtpLocked`` when the 24 h failure budget is spent, ``DeliveryRefused``
    for an SMS destination outside ``SMS_ALLOWED_COUNTRIES`` (before anything
    is stored). The newest code kills the previous ones. Delivery runs after
    commit; ``deliver=False`` writes the same row but sends nothing (the
    enumeration-safe path for unknown addresses). ``template`` replaces the
    message template (for example a notice instead of the code).
    """
    raise NotImplementedError


def otp_check(*, purpose: str, destination: str, code: str, user: Any = None) -> None:
    """Check a code without consuming it. A wrong code counts a try.

    Raises ``OtpInvalid`` (wrong, expired, consumed, superseded, unknown),
    ``OtpAttemptsExceeded`` (the code is dead), ``OtpLocked`` (24 h budget).
    """
    raise NotImplementedError


def otp_consume(*, purpose: str, destination: str, code: str, user: Any = None) -> int:
    """Check and consume a code atomically (single use under concurrency)."""
    raise NotImplementedError


def message_send(*, destination: str, template: str, context: dict[str, Any] | None = None) -> None:
    """Send a message without a code (account notices) after commit."""
    raise NotImplementedError


def otp_delete_for(*, destinations: list[str], user: Any = None) -> int:
    """Delete every code sent to these destinations or bound to ``user``."""
    raise NotImplementedError
