from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.identifiers import PHONE, normalize_email, normalize_phone, normalize_username
from accounts.models import User, new_user_id
from authsite import clock
from profiles.services import profile_create


@transaction.atomic
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
    """Create a user and their profile together (a profile always exists).

    Identifiers are normalised here (SPEC §3). ``password=None`` gives an
    account without a usable password (code sign-in only); ``password_hash``
    is a hash made earlier (a sign-up attempt's). ``verified`` marks every
    given address verified (staff accounts, code sign-up).
    Raises ``ValidationError`` for an invalid identifier and ``IntegrityError``
    when an identifier is already taken.
    """
    email_value = normalize_email(email) if email else None
    phone_value = normalize_phone(phone, dialing_code) if phone else None
    username_value = normalize_username(username) if username else None
    if not email_value and not phone_value:
        raise ValidationError("A user needs an email address or a phone number.", code="required")
    now = clock.now()
    user = User(
        email=email_value,
        phone=phone_value,
        username=username_value,
        pending_email=pending_email,
        is_active=is_active,
        is_staff=is_staff,
        is_superuser=is_superuser,
        date_joined=now,
        email_verified_at=now if verified and email_value else None,
        phone_verified_at=now if verified and phone_value else None,
    )
    if password_hash is not None:
        user.password = password_hash
    elif password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    # Ids are random (see accounts.models); a clash is astronomically rare but
    # is retried rather than surfaced.
    for attempt in range(3):
        try:
            with transaction.atomic():
                user.save(force_insert=True)
            break
        except IntegrityError:
            if attempt == 2 or not User.objects.filter(pk=user.pk).exists():
                raise
            user.id = new_user_id()
    profile_create(user=user, fields=profile or {})
    return user


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
