from __future__ import annotations

from typing import Any

from accounts.identifiers import PHONE
from accounts.models import User
from authsite import clock


def user_create(
    *,
    email: str | None = None,
    phone: str | None = None,
    dialing_code: str | None = None,
    username: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
    pending_email: str | None = None,
    verified: bool = False,
    is_active: bool = True,
    is_staff: bool = False,
    is_superuser: bool = False,
    profile: dict[str, Any] | None = None,
) -> User:
    """Create a user and their profile (``UserManager.create_user`` says how)."""
    return User.objects.create_user(
        email=email,
        password=password,
        phone=phone,
        dialing_code=dialing_code,
        username=username,
        password_hash=password_hash,
        pending_email=pending_email,
        verified=verified,
        is_active=is_active,
        is_staff=is_staff,
        is_superuser=is_superuser,
        profile=profile,
    )


def user_mark_verified(*, user: User, kind: str) -> bool:
    """Mark the account's address of this kind (``email`` / ``phone``)
    verified: a code sent to it was entered. False if it already was."""
    field = "phone_verified_at" if kind == PHONE else "email_verified_at"
    if getattr(user, field) is not None:
        return False
    now = clock.now()
    User.objects.filter(pk=user.pk).update(**{field: now})
    setattr(user, field, now)
    return True
