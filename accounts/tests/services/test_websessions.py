"""Web sessions (SPEC §14 rule 9, §18.1): one ``DeviceSession`` row of kind
``web`` per signed-in browser, with an idle and an absolute lifetime —
``accounts/services/websessions.py``."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import DeviceSession, SecurityEvent
from accounts.services.tokens import session_open, session_revoke
from accounts.services.websessions import (
    web_session_close,
    web_session_expire,
    web_session_open,
    web_session_touch,
)
from accounts.tests.services.support import CLIENT, event_kinds
from authsite.client import ClientInfo

pytestmark = pytest.mark.django_db

ELSEWHERE = ClientInfo(ip="198.51.100.20", user_agent="other-browser/3.0")


@pytest.fixture
def lifetimes(settings):
    """An idle timeout of 600 s (touched at most once a minute) and an
    absolute lifetime of 1000 s."""
    settings.SESSION_IDLE_TIMEOUT = 600
    settings.SESSION_MAX_AGE = 1000
    return settings


def _touch(row: DeviceSession, client: ClientInfo = CLIENT, user_id=None) -> bool:
    return web_session_touch(session_id=str(row.pk), user_id=user_id or row.user_id, client=client)


def test_a_web_session_row_is_opened_for_the_browser(user, clock, lifetimes):
    row = web_session_open(user=user, client=CLIENT)
    assert (row.kind, row.user, row.ip, row.user_agent) == (
        "web",
        user,
        CLIENT.ip,
        CLIENT.user_agent,
    )
    assert row.created_at == row.last_used_at == clock.current
    assert row.expires_at == clock.current + timedelta(seconds=600)
    assert (row.refresh_jti, row.revoked_at) == ("", None)


def test_a_web_session_opened_near_its_absolute_end_ends_there(user, clock, settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    settings.SESSION_MAX_AGE = 300
    row = web_session_open(user=user, client=CLIENT)
    assert row.expires_at == clock.current + timedelta(seconds=300)


def test_a_live_session_is_touched_at_most_once_a_minute(user, clock, lifetimes):
    row = web_session_open(user=user, client=CLIENT)
    clock.advance(30)
    with CaptureQueriesContext(connection) as queries:
        assert _touch(row, ELSEWHERE) is True
    assert len(queries) == 1  # a read, no write
    row.refresh_from_db()
    assert row.last_used_at == row.created_at
    clock.advance(30)
    with CaptureQueriesContext(connection) as queries:
        assert _touch(row, ELSEWHERE) is True
    assert len(queries) == 2
    row.refresh_from_db()
    assert row.last_used_at == clock.current
    assert row.expires_at == clock.current + timedelta(seconds=600)
    assert (row.ip, row.user_agent) == (ELSEWHERE.ip, ELSEWHERE.user_agent)


def test_a_session_left_idle_for_its_timeout_is_over(user, clock, lifetimes):
    lifetimes.SESSION_MAX_AGE = 10_000
    row = web_session_open(user=user, client=CLIENT)
    clock.advance(599)
    assert _touch(row) is True
    clock.advance(599)  # the touch above slid the end
    assert _touch(row) is True
    clock.advance(600)
    assert _touch(row) is False


def test_activity_never_carries_a_session_past_its_absolute_end(user, clock, lifetimes):
    row = web_session_open(user=user, client=CLIENT)
    for _ in range(9):
        clock.advance(100)
        assert _touch(row) is True
    row.refresh_from_db()
    assert row.expires_at == row.created_at + timedelta(seconds=1000)
    clock.advance(100)
    assert _touch(row) is False


def test_a_revoked_session_is_over_at_the_next_request(user, clock):
    row = web_session_open(user=user, client=CLIENT)
    session_revoke(user=user, session_id=row.pk, client=CLIENT)
    assert _touch(row) is False


def test_only_a_live_web_session_of_that_user_passes(make_user, user, clock):
    row = web_session_open(user=user, client=CLIENT)
    other = make_user(email="other@example.com")
    token_session = session_open(user=user, client=CLIENT).session
    assert _touch(row, user_id=other.pk) is False
    assert _touch(token_session) is False
    for bad in ("", "not-a-uuid", str(uuid.uuid4())):
        assert web_session_touch(session_id=bad, user_id=user.pk, client=CLIENT) is False


def test_signing_out_revokes_the_row_and_records_a_logout(user, clock):
    row = web_session_open(user=user, client=CLIENT)
    web_session_close(user=user, session_id=str(row.pk), client=CLIENT)
    row.refresh_from_db()
    assert (row.revoked_at, row.revoked_reason) == (clock.current, "logout")
    assert event_kinds(user) == [SecurityEvent.LOGOUT]


def test_signing_out_without_a_valid_row_changes_nothing(make_user, user):
    row = web_session_open(user=user, client=CLIENT)
    other = make_user(email="other@example.com")
    for session_id in (None, "", "not-a-uuid"):
        web_session_close(user=user, session_id=session_id, client=CLIENT)
    web_session_close(user=other, session_id=str(row.pk), client=CLIENT)
    row.refresh_from_db()
    assert row.revoked_at is None
    assert event_kinds() == []


def test_a_session_past_its_absolute_lifetime_is_ended_without_an_event(user, clock):
    row = web_session_open(user=user, client=CLIENT)
    web_session_expire(session_id=str(row.pk))
    web_session_expire(session_id="not-a-uuid")
    row.refresh_from_db()
    assert (row.revoked_at, row.revoked_reason) == (clock.current, "expired")
    assert event_kinds() == []
