from __future__ import annotations

import hashlib

from django.db.models import QuerySet

from accounts.identifiers import EMAIL, PHONE, USERNAME, Identifier
from accounts.models import SecurityEvent, SignupAttempt, User
from authsite import clock

_FIELDS = {EMAIL: "email", PHONE: "phone", USERNAME: "username"}


def user_by_identifier(identifier: Identifier) -> User | None:
    """The user holding this (normalised) identifier, active or not. The
    columns compare byte for byte (authsite.db), so one spelling finds one
    account on every database."""
    return User.objects.filter(**{_FIELDS[identifier.kind]: identifier.value}).first()


def signup_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def signup_attempts_for(identifier: Identifier) -> QuerySet[SignupAttempt]:
    """The attempts whose code goes to this address: an email only when no
    phone was given (with both, the email is the pending second address)."""
    if identifier.kind == PHONE:
        return SignupAttempt.objects.filter(phone=identifier.value)
    if identifier.kind == EMAIL:
        return SignupAttempt.objects.filter(email=identifier.value, phone__isnull=True)
    return SignupAttempt.objects.none()


def signup_attempts_live(identifier: Identifier) -> QuerySet[SignupAttempt]:
    """The attempts for this address that can still complete, newest first."""
    return (
        signup_attempts_for(identifier)
        .filter(blocked=False, expires_at__gt=clock.now())
        .order_by("-created_at")
    )


def signup_attempt_by_token(token: str | None) -> SignupAttempt | None:
    """The live attempt this ``signup_token`` belongs to, if any."""
    if not isinstance(token, str) or not token or len(token) > 128:
        return None
    return SignupAttempt.objects.filter(
        token_hash=signup_token_hash(token), expires_at__gt=clock.now()
    ).first()


def events_for_user(*, user: User) -> QuerySet[SecurityEvent]:
    """The user's own security events, newest first."""
    return SecurityEvent.objects.filter(user=user).order_by("-created_at", "-id")
