"""One-time codes as the accounts app uses them: issue a code and record it,
spend or check one and record a failure, and what a client is told once a
code is on its way. Every flow that sends a code goes through here."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import ngettext

from accounts.identifiers import ONE_ADDRESS, Identifier
from accounts.models import SecurityEvent, User
from accounts.services.events import event_record
from authsite.client import ClientInfo
from authsite.db import retry_while_locked
from authsite.errors import OtpAttemptsExceeded, OtpInvalid, OtpLocked, ValidationFailed
from otp import services as otp
from otp.destinations import mask_destination


@dataclass(frozen=True)
class CodeSent:
    """What a client is told after a code request: the same shape whether or
    not an account exists."""

    channel: str
    destination: str  # masked
    expires_in: int
    resend_in: int
    code: str | None  # the plain code, only returned when OTP_EXPOSE_IN_RESPONSE


def code_sent(issued: otp.IssuedCode) -> CodeSent:
    return CodeSent(
        channel=issued.channel,
        destination=mask_destination(issued.destination),
        expires_in=issued.expires_in,
        resend_in=issued.resend_in,
        code=issued.code if settings.OTP_EXPOSE_IN_RESPONSE else None,
    )


def user_code_subject(user: User) -> str:
    """What an account's own codes (its address change) are bound to."""
    return f"user:{user.pk}"


def code_issue_recorded(
    *,
    purpose: str,
    identifier: Identifier,
    user: User | None,
    client: ClientInfo,
    subject: str = "",
    deliver: bool = True,
    template: str | None = None,
) -> otp.IssuedCode:
    """Issue a code to ``identifier`` and record the event, in one transaction.

    ``identifier`` is the address the message goes to: the one stored on the
    account when there is an account (SPEC §22.1), never a string a client
    typed. Unknown and known addresses take this same path (``deliver`` and
    ``template`` differ), so the database work and the answer are the same.
    """
    try:
        with transaction.atomic():
            issued = otp.otp_issue(
                purpose=purpose,
                destination=identifier.value,
                user=user,
                subject=subject,
                deliver=deliver,
                template=template,
            )
            event_record(
                kind=SecurityEvent.CODE_SENT, user=user, identifier=identifier.value, client=client
            )
    except IntegrityError:
        # The account was deleted under this request (between its look-up and
        # these rows): the address is nobody's now, and is answered as such.
        if user is None or User.objects.filter(pk=user.pk).exists():
            raise
        return code_issue_recorded(
            purpose=purpose, identifier=identifier, user=None, client=client, deliver=False
        )
    return issued


def code_failure_recorded(
    exc: Exception, *, user: User | None, identifier: Identifier, client: ClientInfo
) -> None:
    """Record a wrong or locked code (the caller re-raises)."""
    kind = SecurityEvent.CODE_LOCKED if isinstance(exc, OtpLocked) else SecurityEvent.CODE_FAILED
    retry_while_locked(
        event_record, kind=kind, user=user, identifier=identifier.value, client=client
    )


def code_failure_worded(exc: Exception) -> Exception:
    """The error a client is given for a refused code: a wrong try that otp
    counted says how many tries the code has left (``data.attempts_left``,
    and in the message, as the second step of sign-in does)."""
    left = (exc.data or {}).get("attempts_left") if isinstance(exc, OtpInvalid) else None
    if left is None:
        return exc
    message = ngettext(
        "Invalid or expired code. %(left)d try left.",
        "Invalid or expired code. %(left)d tries left.",
        left,
    ) % {"left": left}
    return OtpInvalid(message, data={"attempts_left": left})


def code_consume_recorded(
    *,
    purpose: str,
    identifier: Identifier,
    code: str,
    user: User | None,
    client: ClientInfo,
    subject: str = "",
    bound_user: User | None = None,
) -> None:
    """Consume a code; on failure record the event and re-raise.

    Runs outside any transaction on purpose: the wrong try that otp counts
    must stay counted although an error is raised.
    """
    try:
        otp.otp_consume(
            purpose=purpose,
            destination=identifier.value,
            code=code,
            user=bound_user,
            subject=subject,
        )
    except (OtpInvalid, OtpAttemptsExceeded, OtpLocked) as exc:
        code_failure_recorded(exc, user=user, identifier=identifier, client=client)
        worded = code_failure_worded(exc)
        if worded is exc:
            raise
        raise worded from None


def code_check_recorded(
    *,
    purpose: str,
    identifier: Identifier,
    code: str,
    user: User | None,
    client: ClientInfo,
) -> None:
    """Check a code without consuming it; on failure record and re-raise."""
    try:
        otp.otp_check(purpose=purpose, destination=identifier.value, code=code)
    except (OtpInvalid, OtpAttemptsExceeded, OtpLocked) as exc:
        code_failure_recorded(exc, user=user, identifier=identifier, client=client)
        worded = code_failure_worded(exc)
        if worded is exc:
            raise
        raise worded from None


def code_send(
    *,
    purpose: str,
    identifier: Identifier,
    user: User | None,
    client: ClientInfo,
    deliver: bool = True,
    template: str | None = None,
    subject: str = "",
) -> CodeSent:
    """Send a code for an address flow and say so. The message goes to the
    address stored on ``user`` when an account holds the identifier — the same
    bytes, since the lookup compared them exactly, but taken from the account
    all the same (SPEC §22.1) — else to the identifier (an unknown address,
    for a code that creates an account or one that is only rehearsed)."""
    if not identifier.is_address:
        # A username can receive nothing (no door sends one here; this holds if one ever does).
        raise ValidationFailed.for_field("email", str(ONE_ADDRESS))
    if user is not None:
        stored = user.address(identifier.kind)
        if stored:
            identifier = Identifier(identifier.kind, stored)
    issued = code_issue_recorded(
        purpose=purpose,
        identifier=identifier,
        user=user,
        client=client,
        subject=subject,
        deliver=deliver,
        template=template,
    )
    return code_sent(issued)
