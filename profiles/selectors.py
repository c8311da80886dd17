"""Reads of profiles shared by the front doors."""

from __future__ import annotations

from typing import Any

from profiles.models import Profile


def profile_get(*, user: Any) -> Profile:
    """The user's profile, in one query; the profile keeps ``user`` cached.

    Every user is created with a profile (``accounts.services.users.user_create``).
    A user made some other way (a raw ``User.objects.create``) reads as an
    empty, unsaved profile rather than failing; the first write creates it.
    """
    try:
        return user.profile
    except Profile.DoesNotExist:
        return Profile(user=user)
