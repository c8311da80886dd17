"""Sign-up and its verification (SPEC §5.3)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts import selectors
from accounts.identifiers import (
    EMAIL,
    PHONE,
    Identifier,
    normalize_email,
    normalize_phone,
    normalize_username,
)
from accounts.models import SecurityEvent, User
from accounts.services.events import event_record
from accounts.services.users import user_create
from authsite import clock, metrics
from authsite.client import ClientInfo
from authsite.errors import (
    AccountExists,
    AuthsiteError,
    OtpInvalid,
    RetryLater,
    ValidationFailed,
)
from otp import services as otp
from otp.destinations import mask_destination
from profiles.services import profile_clean, profile_update


@dataclass(frozen=True)
class CodeSent:
    """What a client is told after a code request: the same shape whether or
    not an account exists (``user_id`` only in sign-up answers)."""

    channel: str
    destination: str  # masked
    expires_in: int
    resend_in: int
    code: str | None  # the plain code, only returned when OTP_EXPOSE_IN_RESPONSE
    user_id: int | None = None


def code_sent(issued: otp.IssuedCode, *, user_id: int | None = None) -> CodeSent:
    return CodeSent(
        channel=issued.channel,
        destination=mask_destination(issued.destination),
        expires_in=issued.expires_in,
        resend_in=issued.resend_in,
        code=issued.code if settings.OTP_EXPOSE_IN_RESPONSE else None,
        user_id=user_id,
    )


def _field_errors(field: str, exc: ValidationError) -> ValidationFailed:
    return ValidationFailed(errors={field: [str(m) for m in exc.messages]})


def signup_identifiers(
    *, email: str | None, phone: str | None, dialing_code: str | None
) -> tuple[str | None, str | None]:
    """Normalised (email, phone); at least one is required."""
    errors: dict[str, list[str]] = {}
    email_value = phone_value = None
    if email:
        try:
            email_value = normalize_email(email)
        except ValidationError as exc:
            errors["email"] = [str(m) for m in exc.messages]
    if phone:
        try:
            phone_value = normalize_phone(phone, dialing_code)
        except ValidationError as exc:
            errors["phone"] = [str(m) for m in exc.messages]
    if errors:
        raise ValidationFailed(errors=errors)
    if not email_value and not phone_value:
        message = "Give an email address or a phone number."
        raise ValidationFailed(errors={"email": [message], "phone": [message]})
    return email_value, phone_value


def _check_username(username: str | None, *, owner: User | None) -> str | None:
    if not username:
        return None
    try:
        value = normalize_username(username)
    except ValidationError as exc:
        raise _field_errors("username", exc) from None
    taken = User.objects.filter(username=value)
    if owner is not None:
        taken = taken.exclude(pk=owner.pk)
    if taken.exists():
        # Usernames are public handles: saying one is taken reveals nothing private.
        raise ValidationFailed.for_field("username", "This username is already taken.")
    return value


def _send_pending_email(*, user: User | None, email: str) -> None:
    """Sign-up with a phone and an email: the email stays pending until its own
    code is entered (``/auth/contact/verify``), and never blocks anyone else.
    An address that already belongs to an account gets nothing. ``user=None``
    (a sign-up that makes no account) writes the same row and sends nothing."""
    if User.objects.filter(email=email).exists():
        return
    try:
        otp.otp_issue(
            purpose=otp.CONTACT_CHANGE, destination=email, user=user, deliver=user is not None
        )
    except (RetryLater, AuthsiteError):
        # The phone code is what sign-up needs; the email can be re-sent later.
        return


def _create_account(
    *,
    primary: Identifier,
    email: str | None,
    phone: str | None,
    username: str | None,
    password: str,
    profile: dict[str, Any],
    discard: bool = False,
) -> User:
    """Create the account and its profile; with ``discard``, roll them back.

    ``discard`` is for a sign-up to a verified account's address, which must
    take as long as a fresh one (SPEC §14 rule 2): a fresh sign-up hashes the
    password and writes a user and a profile, so this does exactly that — the
    same statements, the same hasher call — and rolls its savepoint back.
    Nothing is left behind: ids are random and the profile's key is the
    user's, so not even a sequence moves. The discarded user has a throw-away
    address (the real one is taken); the id it drew answers as ``user_id``.
    """
    if discard:
        email, phone = f"{secrets.token_hex(16)}@signup.invalid", None
    try:
        with transaction.atomic():
            user = user_create(
                email=None if phone else email,
                phone=phone,
                username=username,
                password=password,
                profile=profile,
            )
            if discard:
                transaction.set_rollback(True)
    except IntegrityError:
        # Lost a race with a concurrent sign-up for the same address (or name).
        raise ValidationFailed.for_field(primary.kind, "Try again in a moment.") from None
    return user


def user_signup(
    *,
    email: str | None,
    phone: str | None,
    dialing_code: str | None = None,
    password: str,
    username: str | None = None,
    profile: dict[str, Any] | None = None,
    client: ClientInfo,
) -> CodeSent:
    """Start a sign-up: a code goes to the phone if given, else to the email.

    - A fresh address: the account is created unverified, with its profile.
    - An address of an unverified account: that pending account's password
      (and given fields) are replaced and a new code is sent.
    - An address of a verified account: nothing is created and the answer
      looks exactly like a fresh sign-up (a random ``user_id``, the same
      fields, the same limits since a code row is written the same way); the
      address gets a notice instead of a code. With
      ``ACCOUNT_SIGNUP_REVEALS_EXISTING`` it is a 409 ``account_exists``.
    """
    email_value, phone_value = signup_identifiers(
        email=email, phone=phone, dialing_code=dialing_code
    )
    primary = Identifier(PHONE, phone_value) if phone_value else Identifier(EMAIL, email_value)
    clean_profile = profile_clean(profile or {})
    existing = selectors.user_by_identifier(primary)
    # A verified (or disabled) account's address: nothing is created, but from
    # here on the work is that of a fresh sign-up, so neither the answer nor
    # its time tells the two apart (SPEC §5.3, §14 rule 2).
    hidden = existing is not None and (existing.is_verified or not existing.is_active)
    if hidden and settings.ACCOUNT_SIGNUP_REVEALS_EXISTING:
        raise AccountExists()

    # The same checks for every address: a weak password or a taken username
    # is refused alike whoever holds the address.
    username_value = _check_username(username, owner=None if hidden else existing)
    candidate = User(email=email_value if not phone_value else None, phone=phone_value)
    candidate.username = username_value
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise _field_errors("password", exc) from None

    with transaction.atomic():
        if existing is None or hidden:
            created = _create_account(
                primary=primary,
                email=email_value,
                phone=phone_value,
                username=username_value,
                password=password,
                profile=clean_profile,
                discard=hidden,
            )
            user = None if hidden else created
            user_id = created.pk
        else:
            user = existing
            user_id = user.pk
            user.set_password(password)
            fields = ["password"]
            if username_value:
                user.username = username_value
                fields.append("username")
            user.save(update_fields=fields)
            if clean_profile:
                profile_update(user=user, fields=clean_profile)
        # A verified account's owner gets a notice instead of a code, a
        # disabled account nothing; the row is written all the same.
        owner_notified = hidden and existing.is_active
        issued = otp.otp_issue(
            purpose=otp.SIGNUP,
            destination=primary.value,
            user=user,
            template="notice_signup_exists" if owner_notified else None,
            deliver=not hidden or owner_notified,
        )
        if phone_value and email_value:
            _send_pending_email(user=user, email=email_value)
        event_record(
            kind=SecurityEvent.SIGNUP,
            user=existing if hidden else user,
            identifier=primary.value,
            client=client,
        )
    return code_sent(issued, user_id=user_id)


@metrics.signin_counted("signup")
def user_signup_verify(
    *,
    identifier: Identifier,
    code: str,
    username: str | None = None,
    profile: dict[str, Any] | None = None,
    client: ClientInfo,
) -> User:
    """Enter the sign-up code: the channel becomes verified. Returns the user;
    the front door opens the session."""
    user = selectors.user_by_identifier(identifier)
    # Validate everything that could fail *before* the code is spent.
    clean_profile = profile_clean(profile or {})
    username_value = _check_username(username, owner=user) if user is not None else None
    # Outside any transaction: a wrong try must be counted even though we raise.
    otp.otp_consume(purpose=otp.SIGNUP, destination=identifier.value, code=code)
    if user is None or user.is_verified or not user.is_active:
        raise OtpInvalid()
    now = clock.now()
    with transaction.atomic():
        fields = []
        if identifier.kind == PHONE:
            user.phone_verified_at = now
            fields.append("phone_verified_at")
        else:
            user.email_verified_at = now
            fields.append("email_verified_at")
        if username_value:
            user.username = username_value
            fields.append("username")
        user.save(update_fields=fields)
        if clean_profile:
            profile_update(user=user, fields=clean_profile)
        event_record(
            kind=SecurityEvent.VERIFICATION, user=user, identifier=identifier.value, client=client
        )
    return user
