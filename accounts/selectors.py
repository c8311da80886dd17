from __future__ import annotations

from django.db.models import QuerySet

from accounts.identifiers import EMAIL, PHONE, USERNAME, Identifier
from accounts.models import SecurityEvent, User


def user_by_identifier(identifier: Identifier) -> User | None:
    """The user holding this (normalised) identifier, active or not."""
    field = {EMAIL: "email", PHONE: "phone", USERNAME: "username"}[identifier.kind]
    return User.objects.filter(**{field: identifier.value}).first()


def events_for_user(*, user: User) -> QuerySet[SecurityEvent]:
    """The user's own security events, newest first."""
    return SecurityEvent.objects.filter(user=user).order_by("-created_at", "-id")
