"""Passwordless sign-in with a one-time code, and resending codes."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts import selectors
from accounts.identifiers import EMAIL, PHONE, Identifier
from accounts.models import SecurityEvent, User
from accounts.services.events import event_record, events_link_anonymous
from accounts.services.signup import CodeSent, code_sent
from accounts.services.users import user_create
from authsite import clock, metrics
from authsite.client import ClientInfo
from authsite.errors import (
    AccountInactive,
    NotAuthenticated,
    OtpAttemptsExceeded,
    OtpInvalid,
    OtpLocked,
)
from otp import services as otp


def code_issue_recorded(
    *,
    purpose: str,
    identifier: Identifier,
    user: User | None,
    deliver: bool = True,
    template: str | None = None,
    client: ClientInfo,
) -> otp.IssuedCode:
    """Issue a code and record the event, in one transaction. Unknown and known
    addresses take this same path (``deliver`` and ``template`` differ), so
    the database work and the answer are the same for both."""
    with transaction.atomic():
        issued = otp.otp_issue(
            purpose=purpose,
            destination=identifier.value,
            user=user,
            deliver=deliver,
            template=template,
        )
        event_record(
            kind=SecurityEvent.CODE_SENT, user=user, identifier=identifier.value, client=client
        )
    return issued


def code_failure_recorded(
    exc: Exception, *, user: User | None, identifier: Identifier, client: ClientInfo
) -> None:
    """Record a wrong or locked code (the caller re-raises)."""
    kind = SecurityEvent.CODE_LOCKED if isinstance(exc, OtpLocked) else SecurityEvent.CODE_FAILED
    event_record(kind=kind, user=user, identifier=identifier.value, client=client)


def code_consume_recorded(
    *,
    purpose: str,
    identifier: Identifier,
    code: str,
    user: User | None,
    client: ClientInfo,
    bound_user: User | None = None,
) -> None:
    """Consume a code; on failure record the event and re-raise.

    Runs outside any transaction on purpose: the wrong try that otp counts
    must stay counted although an error is raised.
    """
    try:
        otp.otp_consume(purpose=purpose, destination=identifier.value, code=code, user=bound_user)
    except (OtpInvalid, OtpAttemptsExceeded, OtpLocked) as exc:
        code_failure_recorded(exc, user=user, identifier=identifier, client=client)
        raise


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
        raise


def login_code_request(*, identifier: Identifier, client: ClientInfo) -> CodeSent:
    """Send a sign-in code. The answer is the same for every address:

    - an active account gets the code;
    - an unknown address gets the code too when ``OTP_LOGIN_CREATES_ACCOUNT``
      (the account is made when the code is entered), else a notice that there
      is no account;
    - an inactive account gets nothing, but the same row is written.
    """
    user = selectors.user_by_identifier(identifier)
    deliver, template = True, None
    if user is None and not settings.OTP_LOGIN_CREATES_ACCOUNT:
        template = "notice_login_no_account"
    elif user is not None and not user.is_active:
        deliver = False
    issued = code_issue_recorded(
        purpose=otp.LOGIN,
        identifier=identifier,
        user=user,
        deliver=deliver,
        template=template,
        client=client,
    )
    return code_sent(issued)


@metrics.signin_counted("code")
def login_code_verify(
    *, identifier: Identifier, code: str, client: ClientInfo
) -> tuple[User, bool]:
    """Sign in with a code. Returns (user, created): the account is created on
    the first code of an unknown address when ``OTP_LOGIN_CREATES_ACCOUNT``.
    Entering the code proves the address, so it is marked verified."""
    user = selectors.user_by_identifier(identifier)
    code_consume_recorded(
        purpose=otp.LOGIN, identifier=identifier, code=code, user=user, client=client
    )
    created = False
    if user is None:
        if not settings.OTP_LOGIN_CREATES_ACCOUNT:
            raise OtpInvalid()
        try:
            with transaction.atomic():
                user = user_create(
                    email=identifier.value if identifier.kind == EMAIL else None,
                    phone=identifier.value if identifier.kind == PHONE else None,
                    password=None,
                    verified=True,
                )
            created = True
            events_link_anonymous(user=user, identifier=identifier.value)
            event_record(
                kind=SecurityEvent.SIGNUP, user=user, identifier=identifier.value, client=client
            )
        except IntegrityError:
            user = selectors.user_by_identifier(identifier)
            if user is None:
                raise
    if not user.is_active:
        raise AccountInactive()
    field = "phone_verified_at" if identifier.kind == PHONE else "email_verified_at"
    if getattr(user, field) is None:
        setattr(user, field, clock.now())
        User.objects.filter(pk=user.pk).update(**{field: getattr(user, field)})
    return user, created


def code_resend(
    *,
    identifier: Identifier,
    purpose: str,
    client: ClientInfo,
    user: User | None = None,
) -> CodeSent:
    """Send a new code for ``purpose`` (the cooldown and hourly cap apply).

    The answer does not tell whether an account exists: a request that cannot
    lead anywhere (no pending sign-up, no account) writes the same row and
    sends nothing. ``contact_change`` belongs to a signed-in user (``user``).
    """
    from accounts.services.password import password_forgot

    if purpose == otp.LOGIN:
        return login_code_request(identifier=identifier, client=client)
    if purpose == otp.PASSWORD_RESET:
        return password_forgot(identifier=identifier, client=client)
    if purpose == otp.CONTACT_CHANGE:
        if user is None:
            raise NotAuthenticated()
        owner = selectors.user_by_identifier(identifier)
        deliver = owner is None  # an address owned by an account gets nothing
        issued = code_issue_recorded(
            purpose=otp.CONTACT_CHANGE,
            identifier=identifier,
            user=user,
            deliver=deliver,
            client=client,
        )
        return code_sent(issued)
    # Sign-up: only a pending (unverified, active) account gets a new code.
    account = selectors.user_by_identifier(identifier)
    pending = account is not None and account.is_active and not account.is_verified
    issued = code_issue_recorded(
        purpose=otp.SIGNUP,
        identifier=identifier,
        user=account if pending else None,
        deliver=pending,
        client=client,
    )
    return code_sent(issued)
