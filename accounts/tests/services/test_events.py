"""The security event log (SPEC §8, §14 rule 12): ``accounts/services/events.py``.
Events never hold a password, a code or a token; identifiers are masked, and
a keyed digest lets an account's deletion find its anonymous events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import SecurityEvent
from accounts.services import events
from accounts.services.events import (
    event_record,
    events_link_anonymous,
    events_purge,
    events_scrub,
    identifier_digest,
)
from accounts.tests.services.support import CLIENT, PHONE_NUMBER
from authsite.client import ClientInfo

pytestmark = pytest.mark.django_db


def test_an_event_stores_the_identifier_masked_with_its_digest_and_the_client(user, clock):
    event = event_record(
        kind=SecurityEvent.LOGIN_FAILURE, user=user, identifier="alice@example.com", client=CLIENT
    )
    event.refresh_from_db()
    assert (event.kind, event.user, event.identifier) == (
        "login_failure",
        user,
        "al***@example.com",
    )
    assert event.identifier_digest == identifier_digest("alice@example.com")
    assert "alice@example.com" not in event.identifier_digest
    assert (event.ip, event.user_agent, event.created_at) == (
        CLIENT.ip,
        CLIENT.user_agent,
        clock.current,
    )


def test_an_event_without_an_identifier_names_the_users_primary_address(make_user):
    account = make_user(email="both@example.com", phone=PHONE_NUMBER)
    event = event_record(kind=SecurityEvent.LOGOUT, user=account)
    assert event.identifier == "+91******3210"
    assert event.identifier_digest == identifier_digest(PHONE_NUMBER)


def test_an_event_of_nobody_about_nothing_holds_nothing():
    event = event_record(kind=SecurityEvent.ACCOUNT_DELETED)
    assert (event.user, event.identifier, event.identifier_digest, event.ip, event.user_agent) == (
        None,
        "",
        "",
        None,
        "",
    )


def test_long_values_are_cut_to_their_columns():
    event = event_record(
        kind=SecurityEvent.LOGIN_FAILURE,
        identifier="x" * 300,
        client=ClientInfo(ip="2001:db8::1", user_agent="a" * 2000),
    )
    event.refresh_from_db()
    assert len(event.identifier) == 64
    assert len(event.user_agent) == 512
    assert event.ip == "2001:db8::1"


def test_the_digest_is_fixed_for_an_identifier_and_keyed_by_the_secret(settings):
    first = identifier_digest("alice@example.com")
    assert identifier_digest("alice@example.com") == first
    assert identifier_digest("alice@example.org") != first
    assert len(first) == 64
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789abcdef"
    assert identifier_digest("alice@example.com") != first


def test_anonymous_events_for_an_address_join_the_account_made_for_it(make_user):
    mine = event_record(kind=SecurityEvent.CODE_SENT, identifier="new@example.com")
    other = event_record(kind=SecurityEvent.CODE_SENT, identifier="other@example.com")
    someone = make_user(email="someone@example.com")
    theirs = event_record(kind=SecurityEvent.CODE_SENT, user=someone, identifier="new@example.com")
    account = make_user(email="new@example.com")
    assert events_link_anonymous(user=account, identifier="new@example.com") == 1
    for event in (mine, other, theirs):
        event.refresh_from_db()
    assert (mine.user, other.user, theirs.user) == (account, None, someone)


def test_scrubbing_strips_the_users_events_and_the_anonymous_ones_for_its_addresses(make_user):
    account = make_user(email="leaving@example.com", username="leaving")
    own = event_record(kind=SecurityEvent.LOGIN_SUCCESS, user=account, client=CLIENT)
    anonymous = [
        event_record(kind=SecurityEvent.CODE_SENT, identifier=value, client=CLIENT)
        for value in ("leaving@example.com", "leaving")
    ]
    unrelated = event_record(
        kind=SecurityEvent.CODE_SENT, identifier="stays@example.com", client=CLIENT
    )
    scrubbed = events_scrub(user=account, identifiers=["leaving@example.com", "leaving", ""])
    assert scrubbed == 3
    for event in (own, *anonymous):
        event.refresh_from_db()
        assert (
            event.user,
            event.identifier,
            event.identifier_digest,
            event.ip,
            event.user_agent,
        ) == (
            None,
            "",
            "",
            None,
            "",
        )
    unrelated.refresh_from_db()
    assert unrelated.identifier == "st***@example.com" and unrelated.ip == CLIENT.ip


def test_purging_deletes_only_the_events_before_the_cutoff_in_batches(clock, monkeypatch):
    monkeypatch.setattr(events, "PURGE_BATCH_SIZE", 2)
    for _ in range(5):
        event_record(kind=SecurityEvent.LOGOUT, identifier="old@example.com")
    clock.advance(60)
    cutoff = clock.current
    kept = event_record(kind=SecurityEvent.LOGOUT, identifier="new@example.com")
    assert events_purge(before=cutoff) == 5
    assert list(SecurityEvent.objects.all()) == [kept]
    assert events_purge(before=cutoff - timedelta(days=1)) == 0
