"""Two profile writes at once (PATCH, PUT, DELETE of /profile): each reads
the row locked and writes the whole row back, so without the lock one write
silently undoes the other's field on MariaDB (SQLite serialises writers
anyway), and a user without a profile row (one made outside
``user_create``) deadlocked on MariaDB on concurrent first writes (1213,
answered 503) until the user's own row was locked first
(``profiles.services._profile_locked``). Runs on both databases."""

from __future__ import annotations

import pytest

from profiles.models import Profile
from profiles.services import profile_update
from tests.concurrency import run_each_concurrently

FIELDS = ["first_name", "last_name", "company", "city", "state", "bio"]


def _write_every_field_at_once(user) -> None:
    """One thread per field, released together, each writing its own field;
    every write must answer and every field must hold its value after."""

    def writer(field: str):
        def write():
            profile_update(user=user, fields={field: f"{field}-set"})
            return field

        return write

    results = run_each_concurrently(*(writer(field) for field in FIELDS))
    assert sorted(map(str, results)) == sorted(FIELDS), results
    profile = Profile.objects.get(user=user)
    assert {field: getattr(profile, field) for field in FIELDS} == {
        field: f"{field}-set" for field in FIELDS
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_of_different_fields_all_survive(make_user):
    _write_every_field_at_once(make_user(email="race@example.com"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_concurrent_first_writes_of_a_user_without_a_row_all_survive(make_user, round_):
    # Found by a review: six first writes at once deadlocked on MariaDB (1213,
    # answered 503) when the row was made by get_or_create alone.
    user = make_user(email=f"norow{round_}@example.com")
    Profile.objects.filter(user=user).delete()
    _write_every_field_at_once(user)
