"""The data of SPEC §22 on an existing database (accounts 0003 and 0004):
identifier columns compared byte for byte, stored emails in their one
spelling, and never-verified sign-up accounts turned into attempts."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import SignupAttempt, User

BEFORE = [("accounts", "0002_security_event_identifier_digest"), ("profiles", "0001_initial")]
AFTER = None  # every app's newest migration


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_never_verified_signups_become_attempts_and_emails_take_their_one_spelling():
    old = _migrate(BEFORE)
    OldUser = old.get_model("accounts", "User")
    OldProfile = old.get_model("profiles", "Profile")
    try:
        pending = OldUser.objects.create(
            id=1_000_000_001, email="pending@example.com", password=make_password("Pending-9-pw")
        )
        OldProfile.objects.create(user=pending, first_name="Pat", city="Pune")
        staff = OldUser.objects.create(
            id=1_000_000_002, email="staff@example.com", is_staff=True, password="!"
        )
        OldProfile.objects.create(user=staff)
        verified = OldUser.objects.create(
            id=1_000_000_003,
            email="bob@exámple.com",
            password="!",
            email_verified_at="2026-01-01T00:00:00Z",
        )
        OldProfile.objects.create(user=verified)
    finally:
        _migrate(AFTER)

    # The unfinished sign-up is an attempt now, with its password and profile.
    assert not User.objects.filter(pk=1_000_000_001).exists()
    attempt = SignupAttempt.objects.get(email="pending@example.com")
    assert check_password("Pending-9-pw", attempt.password)
    assert attempt.profile == {"first_name": "Pat", "city": "Pune"}
    assert not attempt.blocked
    # Staff accounts stay accounts, verified or not.
    assert User.objects.filter(pk=1_000_000_002).exists()
    # Stored addresses take the IDNA form.
    assert User.objects.get(pk=1_000_000_003).email == "bob@xn--exmple-qta.com"


@pytest.mark.django_db
def test_identifier_columns_compare_byte_for_byte(make_user):
    make_user(email="bob@example.com", username="bob")
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, column_name, collation_name FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND (table_name, column_name) IN ("
                "('accounts_user', 'email'), ('accounts_user', 'phone'), "
                "('accounts_user', 'username'), ('accounts_user', 'pending_email'), "
                "('accounts_signupattempt', 'email'), ('accounts_signupattempt', 'phone'), "
                "('otp_onetimecode', 'destination'), ('accounts_webauthnchallenge', 'bound_to'))"
            )
            collations = {(t, c): coll for t, c, coll in cursor.fetchall()}
        assert len(collations) == 8
        assert set(collations.values()) == {"utf8mb4_bin"}, collations
    # Whatever the database: another spelling is another value.
    assert not User.objects.filter(email="bob@exámple.com").exists()
    assert not User.objects.filter(email="BOB@example.com").exists()
    assert not User.objects.filter(username="b\u0131b").exists()
    assert User.objects.filter(email="bob@example.com").exists()
