"""Web sessions: one ``DeviceSession`` row of kind ``web`` per signed-in browser.

The Django session holds the row's id; ``accounts.middleware`` checks on every
request of a signed-in browser that the row is still live. Revoking the row
(from the devices page, "sign out all", a password reset or change, "this
wasn't me", a staff deactivation — all through ``accounts.services.tokens``)
therefore signs the browser out at its next request.

The row's ``expires_at`` follows both lifetimes of a web session: it slides
with activity up to ``SESSION_IDLE_TIMEOUT`` seconds ahead, but never past
``SESSION_MAX_AGE`` seconds after sign-in. So an idle browser also drops out
of the devices list, and the absolute lifetime is enforced by the same check.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings

from accounts.models import DeviceSession, User
from accounts.services.tokens import session_revoke
from authsite import clock
from authsite.client import ClientInfo


def _expiry(*, created_at: datetime, now: datetime) -> datetime:
    return min(
        created_at + timedelta(seconds=settings.SESSION_MAX_AGE),
        now + timedelta(seconds=settings.SESSION_IDLE_TIMEOUT),
    )


def _touch_interval() -> timedelta:
    # Write ``last_used_at`` at most this often: a write per page view would
    # cost more than the devices list is worth. Short idle timeouts get a
    # proportionally short interval so the row never lags far behind.
    return timedelta(seconds=max(1, min(60, settings.SESSION_IDLE_TIMEOUT // 10)))


def web_session_open(*, user: User, client: ClientInfo) -> DeviceSession:
    """Open the web session of a browser whose user just signed in."""
    now = clock.now()
    return DeviceSession.objects.create(
        id=uuid.uuid4(),
        user=user,
        kind=DeviceSession.WEB,
        created_at=now,
        last_used_at=now,
        expires_at=_expiry(created_at=now, now=now),
        authenticated_at=now,
        ip=client.ip,
        user_agent=client.user_agent,
    )


def web_session_touch(*, session_id: str, user_id: int, client: ClientInfo) -> bool:
    """Whether the browser's web session is live; refresh its activity stamp.

    One query (the row by primary key, not revoked) on almost every request;
    a second one, an UPDATE, at most once per touch interval.
    """
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        return False
    row = (
        DeviceSession.objects.filter(
            pk=pk, user_id=user_id, kind=DeviceSession.WEB, revoked_at__isnull=True
        )
        .only("id", "created_at", "last_used_at", "expires_at")
        .first()
    )
    now = clock.now()
    if row is None or row.expires_at <= now:
        return False
    if now - row.last_used_at >= _touch_interval():
        DeviceSession.objects.filter(pk=pk, revoked_at__isnull=True).update(
            last_used_at=now,
            expires_at=_expiry(created_at=row.created_at, now=now),
            ip=client.ip,
            user_agent=client.user_agent,
        )
    return True


def web_session_row(*, session_id: str | None, user_id: int | None) -> DeviceSession | None:
    """The live web session row with this id, of this user."""
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        return None
    return DeviceSession.objects.filter(
        pk=pk, user_id=user_id, kind=DeviceSession.WEB, revoked_at__isnull=True
    ).first()


def web_session_close(*, user: User, session_id: str | None, client: ClientInfo) -> None:
    """Revoke the browser's web session at sign-out (records a logout event)."""
    if not session_id:
        return
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        return
    session_revoke(user=user, session_id=pk, client=client, reason="logout")


def web_session_expire(*, session_id: str) -> None:
    """End a web session that outlived ``SESSION_MAX_AGE`` (no event: nobody acted)."""
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        return
    DeviceSession.objects.filter(pk=pk, revoked_at__isnull=True).update(
        revoked_at=clock.now(), revoked_reason="expired"
    )
