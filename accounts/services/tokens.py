"""Token sessions (SPEC §5.2): one ``DeviceSession`` row per signed-in device,
SimpleJWT access and refresh tokens bound to it by the ``sid`` claim.

- No token string is stored: the row keeps the ``jti`` of the current refresh
  token and of the one it replaced (for the reuse grace).
- Refresh rotates. A spent refresh token presented again revokes the whole
  session (``token_reused``), except the one just spent, within
  ``JWT_REFRESH_REUSE_GRACE`` seconds, which gets a fresh pair (a client that
  lost the response of its refresh).
- An access token is accepted only while its session is live
  (``session_authenticate`` loads session and user in one query).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from accounts.models import DeviceSession, SecurityEvent, User
from accounts.services.events import event_record
from authsite import clock, metrics
from authsite.client import ClientInfo
from authsite.compiled import CompiledLookup
from authsite.errors import TokenInvalid, TokenReused


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_at: datetime
    refresh_expires_at: datetime
    session: DeviceSession


def _now_ts() -> int:
    return int(clock.now().timestamp())


def _user_claims(user: User) -> dict[str, Any]:
    return {"email": user.email, "phone": user.phone, "username": user.username}


def _mint(user: User, session: DeviceSession) -> tuple[str, str, str, datetime, datetime]:
    """A new refresh + access pair for ``session``; returns (access, refresh, refresh jti, …)."""
    now = clock.now()
    refresh = RefreshToken()
    refresh.set_iat(at_time=now)
    refresh.set_exp(from_time=now, lifetime=timedelta(seconds=settings.JWT_REFRESH_TTL))
    refresh["user_id"] = user.pk
    refresh["sid"] = str(session.pk)
    for claim, value in _user_claims(user).items():
        refresh[claim] = value
    access = refresh.access_token
    access.set_iat(at_time=now)
    access.set_exp(from_time=now, lifetime=timedelta(seconds=settings.JWT_ACCESS_TTL))
    # A refresh never outlives its session.
    refresh_expires_at = now + timedelta(seconds=settings.JWT_REFRESH_TTL)
    access_expires_at = now + timedelta(seconds=settings.JWT_ACCESS_TTL)
    return str(access), str(refresh), refresh["jti"], access_expires_at, refresh_expires_at


@transaction.atomic(savepoint=False)
def session_open(*, user: User, client: ClientInfo, kind: str = DeviceSession.API) -> TokenPair:
    """Open a token session for a user who just proved who they are."""
    now = clock.now()
    session = DeviceSession(
        id=uuid.uuid4(),
        user=user,
        kind=kind,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=settings.JWT_REFRESH_TTL),
        ip=client.ip,
        user_agent=client.user_agent,
    )
    access, refresh, jti, access_exp, refresh_exp = _mint(user, session)
    session.refresh_jti = jti
    session.save(force_insert=True)
    return TokenPair(access, refresh, access_exp, refresh_exp, session)


def _decode(token_class: type[Token], raw: str) -> Token:
    if not isinstance(raw, str) or not raw or len(raw) > 4096:
        raise TokenInvalid()
    try:
        # SimpleJWT verifies the signature with the pinned algorithm, the
        # expiry and the token type claim ("access" vs "refresh").
        return token_class(raw)
    except TokenError:
        raise TokenInvalid() from None


def _session_id(token: Token) -> uuid.UUID:
    try:
        return uuid.UUID(str(token["sid"]))
    except (KeyError, ValueError, TypeError):
        raise TokenInvalid() from None


def _session_lookup(**filters: Any) -> CompiledLookup[DeviceSession]:
    """The session with this id and its user, in one query compiled once
    (authsite.compiled): this runs on every authenticated request."""
    return CompiledLookup(
        DeviceSession,
        DeviceSession._meta.pk,
        lambda sid: DeviceSession.objects.select_related("user").filter(pk=sid, **filters),
        stand_in=uuid.UUID(int=(1 << 128) - 1),
    )


_live_api_session = _session_lookup(kind=DeviceSession.API, revoked_at__isnull=True)
_api_session = _session_lookup(kind=DeviceSession.API)
_live_session = _session_lookup(revoked_at__isnull=True)


def session_authenticate(*, raw_access: str) -> tuple[User, DeviceSession, Token]:
    """The user and live session behind an access token, in one query."""
    token = _decode(AccessToken, raw_access)
    sid = _session_id(token)
    session = _live_api_session.get(sid)
    if session is None or session.expires_at <= clock.now():
        raise TokenInvalid()
    if str(session.user_id) != str(token.get("user_id")) or not session.user.is_active:
        raise TokenInvalid()
    return session.user, session, token


@metrics.refresh_counted
def session_refresh(*, raw_refresh: str, client: ClientInfo) -> TokenPair:
    """Rotate a refresh token (see the module docstring for reuse detection)."""
    token = _decode(RefreshToken, raw_refresh)
    sid = _session_id(token)
    jti = str(token.get("jti", ""))
    session = _api_session.get(sid)
    now = clock.now()
    if session is None or session.revoked_at is not None or session.expires_at <= now:
        raise TokenInvalid()
    user = session.user
    if str(session.user_id) != str(token.get("user_id")) or not user.is_active:
        raise TokenInvalid()

    access, refresh, new_jti, access_exp, refresh_exp = _mint(user, session)
    if jti and jti == session.refresh_jti:
        # The conditional UPDATE makes rotation atomic: of two concurrent
        # refreshes with the same token exactly one matches `refresh_jti`.
        updated = DeviceSession.objects.filter(
            pk=sid, refresh_jti=jti, revoked_at__isnull=True
        ).update(
            refresh_jti=new_jti,
            previous_jti=jti,
            rotated_at=now,
            last_used_at=now,
            expires_at=refresh_exp,
            ip=client.ip,
            user_agent=client.user_agent,
        )
        if updated == 1:
            session.refresh_jti = new_jti
            return TokenPair(access, refresh, access_exp, refresh_exp, session)
        session.refresh_from_db()
    grace = timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE)
    if (
        jti
        and jti == session.previous_jti
        and session.rotated_at is not None
        and now - session.rotated_at <= grace
    ):
        # The token spent a moment ago, presented again within the grace: the
        # client most likely lost the response. Hand out a fresh pair; the pair
        # it lost is dead from now on (its jti is no longer current).
        updated = DeviceSession.objects.filter(
            pk=sid, previous_jti=jti, revoked_at__isnull=True
        ).update(refresh_jti=new_jti, last_used_at=now, expires_at=refresh_exp)
        if updated == 1:
            session.refresh_jti = new_jti
            return TokenPair(access, refresh, access_exp, refresh_exp, session)
    # A spent refresh token: someone holds a copy. End the whole session.
    revoked = DeviceSession.objects.filter(pk=sid, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason="token_reused"
    )
    if revoked:
        event_record(kind=SecurityEvent.TOKEN_REUSE, user=user, client=client)
    raise TokenReused()


def token_claims(*, raw_token: str) -> dict[str, Any]:
    """Claims of a valid access or refresh token whose session is live."""
    token: Token | None = None
    for token_class in (AccessToken, RefreshToken):
        try:
            token = token_class(raw_token) if isinstance(raw_token, str) and raw_token else None
        except TokenError:
            continue
        if token is not None:
            break
    if token is None:
        raise TokenInvalid()
    sid = _session_id(token)
    session = _live_session.get(sid)
    if session is None or session.expires_at <= clock.now() or not session.user.is_active:
        raise TokenInvalid()
    if token.get("token_type") == "refresh" and token.get("jti") != session.refresh_jti:
        raise TokenInvalid()
    return dict(token.payload)


def refresh_session_id(*, raw_refresh: str) -> uuid.UUID:
    """The session id of a valid refresh token (signature, expiry and type checked)."""
    return _session_id(_decode(RefreshToken, raw_refresh))


def session_revoke(
    *, user: User, session_id: uuid.UUID | str, client: ClientInfo, reason: str = "revoked"
) -> bool:
    """Revoke one of the user's sessions. False if it is not theirs or already gone."""
    updated = DeviceSession.objects.filter(
        pk=session_id, user=user, revoked_at__isnull=True
    ).update(revoked_at=clock.now(), revoked_reason=reason)
    if updated:
        kind = SecurityEvent.LOGOUT if reason == "logout" else SecurityEvent.SESSION_REVOKED
        event_record(kind=kind, user=user, client=client)
    return bool(updated)


def sessions_revoke_all(
    *,
    user: User,
    client: ClientInfo | None = None,
    except_session_id: uuid.UUID | str | None = None,
    reason: str = "revoked",
    record: bool = True,
) -> int:
    """Revoke every live session of the user (API and web), optionally but one."""
    sessions = DeviceSession.objects.filter(user=user, revoked_at__isnull=True)
    if except_session_id is not None:
        sessions = sessions.filter(~Q(pk=except_session_id))
    count = sessions.update(revoked_at=clock.now(), revoked_reason=reason)
    if count and record:
        kind = SecurityEvent.LOGOUT if reason == "logout" else SecurityEvent.SESSION_REVOKED
        event_record(kind=kind, user=user, client=client)
    return count


def sessions_live(*, user: User) -> list[DeviceSession]:
    return list(
        DeviceSession.objects.filter(
            user=user, revoked_at__isnull=True, expires_at__gt=clock.now()
        ).order_by("-last_used_at")
    )
