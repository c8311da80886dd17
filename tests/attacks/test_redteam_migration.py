"""Red team: the data migration of SPEC §22 (accounts 0004) on an existing
database must neither hand a finished account to someone else nor lose it.

1. Before §22 an email was stored as typed (lower-cased), with a Unicode
   domain, and Django's mail sent it through Python's IDNA 2003 codec:
   ``jo@fußball.de`` received its codes — and was verified — at
   ``jo@fussball.de``. The migration rewrites the domain in IDNA 2008 form,
   ``xn--fuball-cta.de``: a *different* domain (ß and the final sigma ς are
   the IDNA 2003/2008 deviations), registered separately and often by someone
   else. From then on every code, reset and notice for the account goes to
   that other domain's owner, who can reset the password: a takeover. And
   the person who verified the address no longer receives anything.
2. A never-verified account that staff had *disabled* becomes a live sign-up
   attempt: whoever knows its password gets a ``signup_token`` and finishes
   the sign-up into a fresh, active account.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.core.mail.message import sanitize_address
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from accounts.tests.helpers import CODE_RE
from conftest import CommitAPIClient

BEFORE = [("accounts", "0002_security_event_identifier_digest"), ("profiles", "0001_initial")]
AFTER = None  # every app's newest migration

API = "/api/v1/auth"
STORED = "jo@fußball.de"  # as the old normaliser stored it
VERIFIED_AT = "jo@fussball.de"  # where Django's mail delivered it (IDNA 2003)
PASSWORD = "Old-Account-Pass-9"


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _old_account(**fields):
    old = _migrate(BEFORE)
    try:
        OldUser = old.get_model("accounts", "User")
        OldProfile = old.get_model("profiles", "Profile")
        OldEvent = old.get_model("accounts", "SecurityEvent")
        user = OldUser.objects.create(id=1_000_000_123, password=make_password(PASSWORD), **fields)
        OldProfile.objects.create(user=user)
        OldEvent.objects.create(kind="signup", user=user)
    finally:
        _migrate(AFTER)


def _delivered_codes() -> list[tuple[str, str]]:
    """(envelope recipient as the mail backend sends it, code) for every email."""
    from django.core import mail

    found = []
    for message in mail.outbox:
        for to in message.recipients():
            for code in CODE_RE.findall(message.body):
                found.append((sanitize_address(to, "utf-8"), code))
    return found


@pytest.mark.django_db(transaction=True)
def test_the_migration_does_not_move_a_verified_address_to_another_domain():
    # Where the old code sent this address's mail (and so who verified it).
    assert sanitize_address(STORED, "utf-8") == VERIFIED_AT
    _old_account(email=STORED, email_verified_at="2026-01-01T00:00:00Z")

    # The owner of the IDNA 2008 domain fußball.de asks for a reset as the
    # address is written.
    client = CommitAPIClient()
    client.post(f"{API}/password/forgot", {"email": STORED}, format="json")
    elsewhere = [(to, code) for to, code in _delivered_codes() if to != VERIFIED_AT]
    assert elsewhere == [], (
        "a reset code for the account verified at jo@fussball.de was delivered to "
        f"{elsewhere[0][0]}, another domain"
    )


@pytest.mark.django_db(transaction=True)
def test_the_person_who_verified_the_address_can_still_reset_after_the_migration():
    _old_account(email=STORED, email_verified_at="2026-01-01T00:00:00Z")

    client = CommitAPIClient()
    client.post(f"{API}/password/forgot", {"email": VERIFIED_AT}, format="json")
    delivered = [to for to, _code in _delivered_codes()]
    assert delivered == [VERIFIED_AT], (
        f"the mailbox that verified the address gets no reset code after the migration: {delivered}"
    )


@pytest.mark.django_db(transaction=True)
def test_a_disabled_never_verified_account_does_not_come_back_as_a_live_signup():
    banned = "banned@example.com"
    _old_account(email=banned, is_active=False)

    # Its owner (who knows the password and reads the mailbox) tries everything
    # the API offers an unverified sign-up.
    client = CommitAPIClient()
    response = client.post(f"{API}/login", {"email": banned, "password": PASSWORD}, format="json")
    token = (response.json().get("data") or {}).get("signup_token")
    if token:
        client.post(
            f"{API}/otp/resend", {"purpose": "signup", "signup_token": token}, format="json"
        )
        for _to, code in _delivered_codes():
            client.post(f"{API}/signup/verify", {"signup_token": token, "otp": code}, format="json")

    assert not User.objects.filter(email=banned, is_active=True).exists(), (
        "an account staff had disabled came back active: the migration made it a live "
        "sign-up attempt, which its password reopened"
    )
