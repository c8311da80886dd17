from __future__ import annotations

from accounts.identifiers import EMAIL, PHONE, USERNAME, Identifier
from accounts.models import User


def user_by_identifier(identifier: Identifier) -> User | None:
    """The user holding this (normalised) identifier, active or not."""
    field = {EMAIL: "email", PHONE: "phone", USERNAME: "username"}[identifier.kind]
    return User.objects.filter(**{field: identifier.value}).first()
