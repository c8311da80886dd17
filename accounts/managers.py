"""How a user row is made: the one place, for the creation service
(``accounts.services.users.user_create``), ``createsuperuser`` and
``User.objects.create_user`` alike."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.identifiers import normalize_email, normalize_phone, normalize_username
from authsite import clock
from profiles.services import profile_create

# User ids are random integers below 2**53 (safe in JavaScript), not a
# sequence: ids reveal neither how many accounts exist nor when one was made.
USER_ID_MIN = 10**9
USER_ID_MAX = 2**53 - 1


def new_user_id() -> int:
    return USER_ID_MIN + secrets.randbelow(USER_ID_MAX - USER_ID_MIN)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None):
        # USERNAME_FIELD is the email; look it up in its stored form.
        try:
            email = normalize_email(username or "")
        except ValidationError:
            raise self.model.DoesNotExist from None
        return self.get(email=email)

    @transaction.atomic
    def create_user(
        self,
        email: str | None = None,
        password: str | None = None,
        *,
        phone: str | None = None,
        dialing_code: str | None = None,
        username: str | None = None,
        password_hash: str | None = None,
        pending_email: str | None = None,
        verified: bool = False,
        is_active: bool = True,
        is_staff: bool = False,
        is_superuser: bool = False,
        profile: dict[str, Any] | None = None,
    ):
        """Create a user and their profile together (a profile always exists).

        Identifiers are normalised here (SPEC §3). ``password=None`` gives an
        account without a usable password (code sign-in only); ``password_hash``
        is a hash made earlier (a sign-up attempt's). ``verified`` marks every
        given address verified (staff accounts, code sign-up). Raises
        ``ValidationError`` for an invalid identifier and ``IntegrityError``
        when an identifier is already taken.
        """
        email_value = normalize_email(email) if email else None
        phone_value = normalize_phone(phone, dialing_code) if phone else None
        username_value = normalize_username(username) if username else None
        if not email_value and not phone_value:
            raise ValidationError(
                "A user needs an email address or a phone number.", code="required"
            )
        now = clock.now()
        user = self.model(
            id=new_user_id(),
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
        # Ids are random; a clash is astronomically rare but is retried rather
        # than surfaced.
        for attempt in range(3):
            try:
                with transaction.atomic():
                    user.save(force_insert=True)
                break
            except IntegrityError:
                if attempt == 2 or not self.filter(pk=user.pk).exists():
                    raise
                user.id = new_user_id()
        profile_create(user=user, fields=profile or {})
        return user

    def create_superuser(
        self, email: str | None = None, password: str | None = None, **fields: Any
    ):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        if fields["is_staff"] is not True or fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        fields.setdefault("verified", True)
        return self.create_user(email=email, password=password, **fields)
