"""Sign-up (SPEC §5.3 as amended by §22.2): attempts that are not accounts.

``signup_start`` stores an attempt and sends a code for it; the answer is the
same — status, shape, a fresh ``signup_token``, no user id — whether the
address is fresh, has other attempts, or belongs to an account (which gets a
notice instead of a code, and whose attempt never completes).
``signup_complete`` turns an attempt into an account when a code sent for it
is entered together with its token: the first factor of a sign-up's sign-in
(``accounts.services.signin``).
"""

from __future__ import annotations

import contextlib
import datetime
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.identifiers import EMAIL, PHONE, Identifier, normalize_username, signup_addresses
from accounts.models import SIGNUP_SUBJECT_PREFIX, SecurityEvent, SignupAttempt, User
from accounts.services.codes import (
    CodeSent,
    code_consume_recorded,
    code_issue_recorded,
    code_sent,
    user_code_subject,
)
from accounts.services.events import event_record, events_link_anonymous
from accounts.services.users import user_create, user_mark_verified
from authsite import clock
from authsite.client import ClientInfo
from authsite.db import is_deadlock, retry_while_locked
from authsite.errors import AccountExists, AuthsiteError, OtpInvalid, RetryLater, ValidationFailed
from authsite.i18n import message_language
from otp import services as otp
from otp.destinations import mask_destination
from profiles.services import profile_clean


@dataclass(frozen=True)
class PendingAddress:
    channel: str
    destination: str  # masked


@dataclass(frozen=True)
class SignupStarted:
    """The answer to a sign-up: the attempt's token, where its code went, and
    the second address that waits for a code of its own (if one was given)."""

    signup_token: str
    primary: Identifier  # where the code went
    sent: CodeSent
    pending: PendingAddress | None


def _validation(exc: ValidationError) -> ValidationFailed:
    return ValidationFailed(errors={k: [str(m) for m in v] for k, v in exc.message_dict.items()})


def _field_errors(field: str, exc: ValidationError) -> ValidationFailed:
    return ValidationFailed(errors={field: [str(m) for m in exc.messages]})


def username_available(username: str | None) -> str | None:
    """The normalised username if it is free (or none was given)."""
    if not username:
        return None
    try:
        value = normalize_username(username)
    except ValidationError as exc:
        raise _field_errors("username", exc) from None
    if User.objects.filter(username=value).exists():
        # Usernames are public handles: saying one is taken reveals nothing private.
        raise ValidationFailed.for_field("username", _("This username is already taken."))
    return value


def _jsonable(profile: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime.date) else value
        for key, value in profile.items()
    }


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, selectors.signup_token_hash(token)


def _issue_for_attempt(attempt: SignupAttempt, *, holder: User | None) -> otp.IssuedCode:
    """The attempt's code, to its primary address. An address that belongs to
    an account gets a notice instead (an active account) or nothing (a
    disabled one); the same row is written either way."""
    notice = attempt.blocked and holder is not None and holder.is_active
    # The sign-up event (recorded by the caller) stands for this code.
    return otp.otp_issue(
        purpose=otp.SIGNUP,
        destination=attempt.primary_identifier.value,
        subject=attempt.code_subject,
        deliver=not attempt.blocked or notice,
        template="notice_signup_exists" if notice else None,
        # The notice is the holder's, in the holder's language (SPEC §21).
        language=message_language(holder) if notice else None,
    )


def _send_pending_email(attempt: SignupAttempt) -> PendingAddress:
    """A sign-up with a phone and an email: the email waits for a code of its
    own, entered once the account exists (``/auth/contact/verify``). An
    address that belongs to an account, or an attempt that never completes,
    is sent nothing; the row is written all the same."""
    email = attempt.email or ""
    owned = User.objects.filter(email=email).exists()
    # The phone's code is what sign-up needs; the email's can be re-sent later.
    with contextlib.suppress(RetryLater, AuthsiteError):
        otp.otp_issue(
            purpose=otp.CONTACT_CHANGE,
            destination=email,
            subject=attempt.code_subject,
            deliver=not (owned or attempt.blocked),
            # Attempts cost nothing to make: theirs share one set of limits.
            limit_group=SIGNUP_SUBJECT_PREFIX,
        )
    return PendingAddress(channel="email", destination=mask_destination(email))


def signup_start(
    *,
    email: str | None,
    phone: str | None,
    dialing_code: str | None = None,
    password: str,
    username: str | None = None,
    profile: dict[str, Any] | None = None,
    client: ClientInfo,
) -> SignupStarted:
    """Start a sign-up: store an attempt and send its code (to the phone if
    one is given, else to the email). See the module docstring."""
    try:
        email_value, phone_value = signup_addresses(
            email=email, phone=phone, dialing_code=dialing_code
        )
    except ValidationError as exc:
        raise _validation(exc) from None
    primary = Identifier(PHONE, phone_value) if phone_value else Identifier(EMAIL, email_value)
    clean_profile = profile_clean(profile or {})
    holder = selectors.user_by_identifier(primary)
    if holder is not None and settings.ACCOUNT_SIGNUP_REVEALS_EXISTING:
        raise AccountExists()
    # The same checks for every address: a weak password or a taken username
    # is refused alike whoever holds the address.
    username_value = username_available(username)
    candidate = User(email=None if phone_value else email_value, phone=phone_value)
    candidate.username = username_value
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise _field_errors("password", exc) from None

    # Hashed before the transaction: a hash takes a quarter of a second and may
    # wait for the bulkhead (authsite/hashers.py); no write lock is held meanwhile.
    encoded = make_password(password)
    token, token_hash = _new_token()
    store = {
        "primary": primary,
        "email_value": email_value,
        "phone_value": phone_value,
        "encoded": encoded,
        "token_hash": token_hash,
        "username_value": username_value,
        "clean_profile": clean_profile,
        "client": client,
    }
    try:
        issued, pending = _attempt_store(**store, holder=holder)
    except IntegrityError:
        # The holder was deleted under this request (between its look-up and
        # the event that names it): the address is nobody's now, and is
        # answered as such (tests/attacks/test_signup_while_account_deleted.py).
        if holder is None or User.objects.filter(pk=holder.pk).exists():
            raise
        issued, pending = _attempt_store(**store, holder=None)
    return SignupStarted(
        signup_token=token, primary=primary, sent=code_sent(issued), pending=pending
    )


def _attempt_store(
    *,
    primary: Identifier,
    email_value: str | None,
    phone_value: str | None,
    encoded: str,
    token_hash: str,
    username_value: str | None,
    clean_profile: dict[str, Any],
    holder: User | None,
    client: ClientInfo,
) -> tuple[otp.IssuedCode, PendingAddress | None]:
    """The attempt, its code and its event, in one transaction (signup_start)."""
    now = clock.now()
    with transaction.atomic():
        if phone_value and email_value:
            # Both addresses' code-request locks, in the one order every
            # holder of two takes them (an account's deletion does too):
            # taken phone first, then email, they deadlocked with a deletion
            # taking the email first on MariaDB (1213, a 503). The code
            # requests below take them again, already held.
            otp.destinations_lock([phone_value, email_value])
        attempt = SignupAttempt.objects.create(
            token_hash=token_hash,
            email=email_value,
            phone=phone_value,
            password=encoded,
            username=username_value,
            profile=_jsonable(clean_profile),
            blocked=holder is not None,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.SIGNUP_ATTEMPT_TTL),
        )
        issued = _issue_for_attempt(attempt, holder=holder)
        pending = _send_pending_email(attempt) if phone_value and email_value else None
        event_record(
            kind=SecurityEvent.SIGNUP, user=holder, identifier=primary.value, client=client
        )
    return issued, pending


def _attempt_for(signup_token: str | None) -> SignupAttempt:
    attempt = retry_while_locked(selectors.signup_attempt_by_token, signup_token)
    if attempt is None:
        raise ValidationFailed.for_field(
            "signup_token", _("This sign-up has expired or is unknown. Sign up again.")
        )
    return attempt


def signup_resend(*, signup_token: str | None, client: ClientInfo) -> CodeSent:
    """A new code for a sign-up attempt (the cooldown and hourly cap of its
    address apply); an attempt that never completes is sent nothing."""
    attempt = _attempt_for(signup_token)
    # A blocked attempt's address already had its notice: resends are rehearsed.
    issued = code_issue_recorded(
        purpose=otp.SIGNUP,
        identifier=attempt.primary_identifier,
        user=None,
        subject=attempt.code_subject,
        deliver=not attempt.blocked,
        client=client,
    )
    return code_sent(issued)


def signup_token_renew(*, attempt: SignupAttempt) -> str:
    """A new ``signup_token`` for an attempt whose password was just proved
    (a password sign-in to a pending address, SPEC §22.3); the old one dies."""
    token, token_hash = _new_token()
    SignupAttempt.objects.filter(pk=attempt.pk).update(token_hash=token_hash)
    return token


def signup_attempts_end(*, identifier: Identifier) -> int:
    """End every attempt whose code goes to this address: an account now
    holds it. (An attempt that only names it as its pending second address
    goes on; that address will be refused when its own code comes.)"""
    deleted, _by_model = selectors.signup_attempts_for(identifier).delete()
    return deleted


def signup_complete(
    *,
    signup_token: str | None,
    code: str,
    username: str | None = None,
    profile: dict[str, Any] | None = None,
    client: ClientInfo,
) -> tuple[User, Identifier]:
    """Enter an attempt's code with its token: the account is made, its
    address verified, with the password, username and profile the attempt
    holds (``username`` and ``profile`` given here win). Returns the new user
    and the verified address; the sign-in pipeline opens the session."""
    attempt = _attempt_for(signup_token)
    primary = attempt.primary_identifier
    # Validate everything that could fail *before* the code is spent.
    clean_profile = profile_clean({**attempt.profile, **(profile or {})})
    # The attempt's username may have been taken since: then a new one is asked for.
    username_value = username_available(username or attempt.username)
    # Outside any transaction: a wrong try must be counted even though we raise.
    code_consume_recorded(
        purpose=otp.SIGNUP,
        identifier=primary,
        code=code,
        user=None,
        subject=attempt.code_subject,
        client=client,
    )
    if attempt.blocked:
        raise OtpInvalid()
    # Once more if MariaDB ends the block as a deadlock's victim: two attempts
    # for one address completed together insert the same address, and the
    # loser's wait on the duplicate key can deadlock with the winner's next
    # writes. Run again, it finds the account made (AccountExists) or the
    # attempts ended (OtpInvalid), as the race is answered on SQLite.
    for last_try in (False, True):
        try:
            return _signup_account_make(attempt, primary, username_value, clean_profile, client)
        except OperationalError as exc:
            if last_try or not is_deadlock(exc) or transaction.get_connection().in_atomic_block:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _signup_account_make(
    attempt: SignupAttempt,
    primary: Identifier,
    username_value: str | None,
    clean_profile: dict[str, Any],
    client: ClientInfo,
) -> tuple[User, Identifier]:
    """The account of a verified attempt, in one transaction (signup_complete)."""
    try:
        with transaction.atomic():
            if not SignupAttempt.objects.filter(pk=attempt.pk).exists():
                raise OtpInvalid()  # ended meanwhile (another attempt made the account)
            user = user_create(
                email=attempt.email if primary.kind == EMAIL else None,
                phone=attempt.phone,
                username=username_value,
                password_hash=attempt.password,
                pending_email=attempt.email if primary.kind == PHONE else None,
                profile=clean_profile,
            )
            user_mark_verified(user=user, kind=primary.kind)
            if user.pending_email:
                otp.otp_rebind(
                    purpose=otp.CONTACT_CHANGE,
                    destination=user.pending_email,
                    subject=attempt.code_subject,
                    new_subject=user_code_subject(user),
                    user=user,
                )
            signup_attempts_end(identifier=primary)
            events_link_anonymous(user=user, identifier=primary.value)
            event_record(
                kind=SecurityEvent.VERIFICATION,
                user=user,
                identifier=primary.value,
                client=client,
            )
    except IntegrityError:
        # Lost a race: the address (or the username) was taken since.
        if selectors.user_by_identifier(primary) is not None:
            SignupAttempt.objects.filter(pk=attempt.pk).delete()
            raise AccountExists() from None
        raise ValidationFailed.for_field(
            "username", _("This username was just taken. Choose another and ask for a new code.")
        ) from None
    return user, primary


def signup_attempts_purge() -> int:
    """Delete the attempts past their lifetime; returns how many."""
    deleted, _by_model = SignupAttempt.objects.filter(expires_at__lte=clock.now()).delete()
    return deleted
