from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import BaseUserManager


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None):
        # USERNAME_FIELD is the email; look it up in its stored (lower-case) form.
        return self.get(email=(username or "").strip().lower())

    def create_user(
        self,
        email: str | None = None,
        password: str | None = None,
        **fields: Any,
    ):
        """Create a user (and their profile) through the one creation service."""
        from accounts.services.users import user_create

        return user_create(email=email, password=password, **fields)

    def create_superuser(
        self, email: str | None = None, password: str | None = None, **fields: Any
    ):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        if fields["is_staff"] is not True or fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        fields.setdefault("verified", True)
        return self.create_user(email=email, password=password, **fields)
