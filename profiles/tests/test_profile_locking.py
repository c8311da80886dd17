"""A profile write reads its row locked (``SELECT … FOR UPDATE`` where the
database has it) and writes the whole row back. The locked read is a
compiled statement (``profiles.services._profile_for_update``), with
``get_or_create`` for a user who has no profile row yet. Concurrent writes:
``tests/attacks/test_profile_write_race.py``."""

from __future__ import annotations

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from authsite.compiled import _Plan
from profiles.models import Profile
from profiles.services import _profile_for_update, profile_clear, profile_update

FIELDS = ["first_name", "last_name", "company", "city", "state", "bio"]


@pytest.mark.django_db
def test_the_write_reads_its_row_locked(make_user):
    user = make_user(email="lock@example.com")
    with CaptureQueriesContext(connection) as queries:
        profile_update(user=user, fields={"city": "Pune"})
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert any("profiles_profile" in sql for sql in reads), reads
    read = next(sql for sql in reads if "profiles_profile" in sql)
    assert ("FOR UPDATE" in read) == connection.features.has_select_for_update, read
    assert Profile.objects.get(user=user).city == "Pune"
    # Through the compiled statement, not the ORM's fallback.
    assert isinstance(_profile_for_update._plans[connections["default"]], _Plan)


@pytest.mark.django_db
def test_a_user_without_a_profile_row_gets_one_on_the_first_write(make_user):
    user = make_user(email="norow@example.com")
    Profile.objects.filter(user=user).delete()
    profile = profile_update(user=user, fields={"company": "Acme"})
    assert profile.pk is not None
    assert Profile.objects.get(user=user).company == "Acme"
    Profile.objects.filter(user=user).delete()
    assert profile_clear(user=user).pk is not None
    assert Profile.objects.filter(user=user).count() == 1
