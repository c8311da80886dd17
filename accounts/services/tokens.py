"""Token sessions (SPEC §5.2): one ``DeviceSession`` row per signed-in device,
SimpleJWT access and refresh tokens bound to it by the ``sid`` claim.

- No token string is stored: the row keeps the ``jti`` of the current refresh
  token and of the one it replaced (for the reuse grace).
- Definite lifetimes (SPEC §18.1): a session ends ``JWT_SESSION_MAX_AGE``
  after the sign-in that opened it, whatever its refreshes, and
  ``JWT_SESSION_IDLE_TIMEOUT`` after its last refresh. Its row's
  ``expires_at`` is the earlier of the two; no token outlives it, and
  ``refresh_expires_at`` in every answer says it.
- Refresh rotates. A spent refresh token presented again revokes the whole
  session (``token_reused``), except the one just spent, presented again
  within ``JWT_REFRESH_REUSE_GRACE`` seconds (a client that lost the response
  of its refresh): that gets the session's *current* refresh token again —
  the same ``jti``, so there is never a second live refresh token — once per
  rotation, recorded as ``token_grace_used`` (SPEC §22.6). A second replay is
  reuse.
- An access token is accepted only while its session is live
  (``session_authenticate`` loads session and user in one query).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, Q
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.tokens import RefreshToken, Token

from accounts.models import DeviceSession, MfaChallenge, SecurityEvent, User
from accounts.services.events import event_record
from authsite import clock, metrics
from authsite.client import ClientInfo
from authsite.compiled import CompiledLookup
from authsite.db import retry_while_locked
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


def session_end(*, created_at: datetime, refreshed_at: datetime) -> datetime:
    """When a token session dies: the earlier of its absolute and idle ends."""
    return min(
        created_at + timedelta(seconds=settings.JWT_SESSION_MAX_AGE),
        refreshed_at + timedelta(seconds=settings.JWT_SESSION_IDLE_TIMEOUT),
    )


def _mint(
    user: User, session: DeviceSession, *, ends_at: datetime, jti: str | None = None
) -> tuple[str, str, str, datetime, datetime]:
    """An access + refresh pair for ``session``, neither outliving ``ends_at``;
    with ``jti``, the refresh token carries that id (the current one again).
    Returns (access, refresh, refresh jti, access expiry, refresh expiry)."""
    now = clock.now()
    refresh = RefreshToken()
    refresh.set_iat(at_time=now)
    refresh.set_exp(from_time=ends_at, lifetime=timedelta(0))
    if jti is not None:
        refresh["jti"] = jti
    refresh["user_id"] = user.pk
    refresh["sid"] = str(session.pk)
    for claim, value in _user_claims(user).items():
        refresh[claim] = value
    access = refresh.access_token
    access_expires_at = min(now + timedelta(seconds=settings.JWT_ACCESS_TTL), ends_at)
    access.set_iat(at_time=now)
    access.set_exp(from_time=access_expires_at, lifetime=timedelta(0))
    return _signed(access), _signed(refresh), refresh["jti"], access_expires_at, ends_at


def _signed(token: Token) -> str:
    """``str(token)``: SimpleJWT's encoding of the token (``jwt.encode`` with
    its key and algorithm), done directly for an HMAC algorithm — the same
    bytes (``accounts/tests/services/test_token_decode.py`` compares them) for
    a third of the work on every refresh and sign-in. Anything SimpleJWT would
    add (an audience, an issuer, a JSON encoder of its own) goes through it."""
    algorithm = token_backend.algorithm
    if (
        algorithm not in _HMAC_DIGESTS
        or token_backend.audience is not None
        or token_backend.issuer is not None
        or token_backend.json_encoder is not None
    ):
        return str(token)
    header = _HEADERS.get(algorithm)
    if header is None:
        header = _HEADERS[algorithm] = _b64(
            json.dumps({"alg": algorithm, "typ": "JWT"}, separators=(",", ":")).encode()
        )
    payload = _b64(json.dumps(token.payload, separators=(",", ":")).encode())
    signing_input = header + b"." + payload
    key = token_backend.prepared_signing_key
    signature = hmac.new(key, signing_input, _HMAC_DIGESTS[algorithm]).digest()
    return (signing_input + b"." + _b64(signature)).decode("ascii")


# The encoded header of each HMAC algorithm (PyJWT sorts its keys).
_HEADERS: dict[str, bytes] = {}


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


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
        expires_at=session_end(created_at=now, refreshed_at=now),
        authenticated_at=now,
        ip=client.ip,
        user_agent=client.user_agent,
    )
    access, refresh, jti, access_exp, refresh_exp = _mint(user, session, ends_at=session.expires_at)
    session.refresh_jti = jti
    session.save(force_insert=True)
    return TokenPair(access, refresh, access_exp, refresh_exp, session)


# Every token we mint carries these; one without them is not ours.
_REQUIRED_CLAIMS = ["exp", "iat", "jti", "token_type", "sid", "user_id"]
ACCESS = "access"
REFRESH = "refresh"

# The HMAC algorithms, checked here without PyJWT (below).
_HMAC_DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
# A base64url segment without padding, as we mint them (RFC 7515 §2).
_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


# base64url's two letters and standard base64's, both ways (RFC 4648 §5).
_FROM_BASE64URL = bytes.maketrans(b"-_", b"+/")
_TO_BASE64URL = bytes.maketrans(b"+/", b"-_")


def _segment(text: bytes) -> bytes:
    """A base64url segment decoded, refusing padding, other characters and
    non-canonical encodings (trailing bits set), as PyJWT does.

    ``base64.urlsafe_b64decode`` and ``urlsafe_b64encode`` with their Python
    layers left out: ``binascii`` on the translated text, which the pattern
    has already limited to the base64url alphabet."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    decoded = binascii.a2b_base64(text.translate(_FROM_BASE64URL) + b"=" * (-len(text) % 4))
    encoded = binascii.b2a_base64(decoded, newline=False).translate(_TO_BASE64URL)
    if encoded.rstrip(b"=") != text:
        raise ValueError("not canonical base64url")
    return decoded


def _hmac_claims(raw: str, key: bytes, algorithm: str) -> dict[str, Any]:
    """The claims of an HMAC-signed compact JWS, verified.

    What ``jwt.decode`` does for our tokens, at a fifth of its cost on every
    authenticated request (README, "Benchmark"): exactly three segments; a
    JSON object header whose ``alg`` is the one pinned algorithm (so ``none``
    and every other one are refused) and that asks for nothing we do not
    implement (``crit``, an unencoded payload); the signature compared in
    constant time; and only then the payload read, a JSON object holding
    every required claim (not null)."""
    token = raw.encode("ascii")
    signing_input, _, signature = token.rpartition(b".")
    header_part, _, payload_part = signing_input.partition(b".")
    if not header_part or b"." in payload_part:
        raise ValueError("not a compact JWS")
    header = json.loads(_segment(header_part))
    if (
        not isinstance(header, dict)
        or header.get("alg") != algorithm
        or "crit" in header
        or header.get("b64", True) is not True
    ):
        raise ValueError("header refused")
    # hmac.digest: OpenSSL's one-shot HMAC, without hmac.HMAC's Python layer.
    expected = hmac.digest(key, signing_input, _HMAC_DIGESTS[algorithm])
    if not hmac.compare_digest(expected, _segment(signature)):
        raise ValueError("bad signature")
    claims = json.loads(_segment(payload_part))
    if not isinstance(claims, dict) or any(claims.get(name) is None for name in _REQUIRED_CLAIMS):
        raise ValueError("claims refused")
    return claims


def token_malformed(raw: str) -> bool:
    """Whether ``raw`` is not a JWT at all — not three base64url segments
    whose first is a JSON object — rather than a JWT that is expired, forged,
    of the wrong type or revoked. SPEC §5.1 answers the first
    ``not_authenticated`` and the rest ``token_invalid``. Asked only after a
    token was refused, so it costs an accepted token nothing."""
    try:
        header, payload, signature = raw.encode("ascii").split(b".")
        decoded = json.loads(_segment(header))
        _segment(payload)
        _segment(signature)
    except (ValueError, binascii.Error, RecursionError):
        return True
    return not isinstance(decoded, dict)


def _decode(token_type: str | None, raw: object) -> dict[str, Any]:
    """The claims of a token we signed, of ``token_type`` (any when None), not
    expired. Refuses everything else with ``TokenInvalid``.

    SimpleJWT mints the tokens; they are checked here with its key and its
    one pinned algorithm (``alg: none`` and every other algorithm refused),
    and their expiry against ``authsite.clock`` — the one "now" of the whole
    project, which the tests move — rather than against the wall clock inside
    PyJWT. HMAC tokens (HS256, the default, and HS384/HS512) are verified by
    ``_hmac_claims``; other algorithms by PyJWT.
    """
    if not isinstance(raw, str) or not raw or len(raw) > 4096:
        raise TokenInvalid()
    algorithm = token_backend.algorithm
    try:
        if algorithm in _HMAC_DIGESTS:
            claims = _hmac_claims(raw, token_backend.get_verifying_key(raw), algorithm)
        else:
            claims = jwt.decode(
                raw,
                token_backend.get_verifying_key(raw),
                algorithms=[algorithm],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "require": _REQUIRED_CLAIMS,
                },
            )
    except (
        jwt.PyJWTError,
        TokenBackendError,
        ValueError,
        binascii.Error,
        TypeError,
        RecursionError,
    ):
        raise TokenInvalid() from None
    kind = claims.get("token_type")
    if kind not in (ACCESS, REFRESH) or (token_type is not None and kind != token_type):
        raise TokenInvalid()
    exp = claims.get("exp")
    # A number, and a finite one: JSON's 1e999 reads as infinity and NaN
    # compares false with everything, either a token that never expires.
    if (
        not isinstance(exp, int | float)
        or isinstance(exp, bool)
        or (isinstance(exp, float) and not math.isfinite(exp))
    ):
        raise TokenInvalid()
    if exp <= clock.now().timestamp():
        raise TokenInvalid()
    return claims


def _session_id(claims: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(claims["sid"]))
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


def session_authenticate(*, raw_access: str) -> tuple[User, DeviceSession, dict[str, Any]]:
    """The user and live session behind an access token, in one query."""
    token = _decode(ACCESS, raw_access)
    sid = _session_id(token)
    session = _live_api_session.get(sid)
    if session is None or session.expires_at <= clock.now():
        raise TokenInvalid()
    if str(session.user_id) != str(token.get("user_id")) or not session.user.is_active:
        raise TokenInvalid()
    return session.user, session, token


@metrics.refresh_counted
def session_refresh(*, raw_refresh: str, client: ClientInfo) -> TokenPair:
    """Rotate a refresh token (see the module docstring for reuse detection).

    The success path is two statements: the session (with its user) by
    primary key, and one conditional UPDATE that rotates it.
    """
    token = _decode(REFRESH, raw_refresh)
    sid = _session_id(token)
    jti = str(token.get("jti", ""))
    # Each statement stands alone (autocommit); on SQLite one that met a lock
    # is run again (authsite.db.retry_while_locked), on MySQL it waits.
    session = retry_while_locked(_api_session.get, sid)
    now = clock.now()
    if session is None or session.revoked_at is not None or session.expires_at <= now:
        raise TokenInvalid()
    user = session.user
    if str(session.user_id) != str(token.get("user_id")) or not user.is_active:
        raise TokenInvalid()

    if jti and jti == session.refresh_jti:
        ends_at = session_end(created_at=session.created_at, refreshed_at=now)
        access, refresh, new_jti, access_exp, refresh_exp = _mint(user, session, ends_at=ends_at)
        # The conditional UPDATE makes rotation atomic: of two concurrent
        # refreshes with the same token exactly one matches `refresh_jti`.
        updated = retry_while_locked(
            _rotate,
            sid=sid,
            jti=jti,
            values={
                "refresh_jti": new_jti,
                "previous_jti": jti,
                "rotated_at": now,
                "grace_used": False,
                "last_used_at": now,
                "expires_at": ends_at,
                "ip": client.ip,
                "user_agent": client.user_agent,
            },
        )
        if updated == 1:
            session.refresh_jti, session.expires_at = new_jti, ends_at
            return TokenPair(access, refresh, access_exp, refresh_exp, session)
        # Another request got there first: a refresh with the same token (the
        # grace below), or the end of the session — its revocation or the
        # account's deletion — which this refresh then answers as the same
        # refresh a moment later would, not as a theft or a 500.
        try:
            retry_while_locked(session.refresh_from_db)
        except DeviceSession.DoesNotExist:
            raise TokenInvalid() from None
        if session.revoked_at is not None:
            raise _ended(session.revoked_reason)
    grace = timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE)
    if (
        jti
        and jti == session.previous_jti
        and session.rotated_at is not None
        and now - session.rotated_at <= grace
        and not session.grace_used
    ):
        # The token spent a moment ago, presented again within the grace: the
        # client most likely lost the response. It gets the current refresh
        # token again (same jti, same end), once: the UPDATE claims the grace
        # for this rotation, so of concurrent replays one at most wins.
        claimed = retry_while_locked(
            DeviceSession.objects.filter(
                pk=sid,
                previous_jti=jti,
                refresh_jti=session.refresh_jti,
                grace_used=False,
                revoked_at__isnull=True,
            ).update,
            grace_used=True,
            last_used_at=now,
        )
        if claimed == 1:
            access, refresh, _jti, access_exp, refresh_exp = _mint(
                user, session, ends_at=session.expires_at, jti=session.refresh_jti
            )
            session.grace_used = True
            retry_while_locked(
                event_record, kind=SecurityEvent.TOKEN_GRACE_USED, user=user, client=client
            )
            return TokenPair(access, refresh, access_exp, refresh_exp, session)
    # A spent refresh token: someone holds a copy. End the whole session.
    revoked = retry_while_locked(
        DeviceSession.objects.filter(pk=sid, revoked_at__isnull=True).update,
        revoked_at=now,
        revoked_reason=REUSED,
    )
    if not revoked:
        # Ended meanwhile by another request: by a parallel replay's reuse
        # detection (reuse here too), or by something else (not a theft).
        reason = retry_while_locked(
            DeviceSession.objects.filter(pk=sid).values_list("revoked_reason", flat=True).first
        )
        raise _ended(reason)
    retry_while_locked(event_record, kind=SecurityEvent.TOKEN_REUSE, user=user, client=client)
    raise TokenReused()


# The ``revoked_reason`` of a session that reuse detection ended.
REUSED = "token_reused"


def _ended(reason: str | None) -> TokenInvalid | TokenReused:
    """The refusal of a refresh whose session another request just ended."""
    return TokenReused() if reason == REUSED else TokenInvalid()


def _rotate(*, sid: uuid.UUID, jti: str, values: dict[str, Any]) -> int:
    """``DeviceSession.objects.filter(pk=sid, refresh_jti=jti,
    revoked_at__isnull=True).update(**values)`` — the rotation of every
    refresh — without building the query through the ORM each time (a tenth
    of a refresh's CPU): the statement is written once per database vendor
    and set of columns, and each value prepared by its model field as the ORM
    prepares it. Returns the rows it matched (0 or 1)."""
    connection = connections[router.db_for_write(DeviceSession)]
    key = (connection.vendor, tuple(values))
    sql = _ROTATE_SQL.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        meta = DeviceSession._meta
        assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in values)
        sql = _ROTATE_SQL[key] = (
            f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - our own names
            f"WHERE {quote(meta.pk.column)} = %s AND {quote(meta.get_field('refresh_jti').column)} = %s "
            f"AND {quote(meta.get_field('revoked_at').column)} IS NULL"
        )
    meta = DeviceSession._meta
    params = [
        meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()
    ]
    params.append(meta.pk.get_db_prep_value(sid, connection, prepared=False))
    params.append(meta.get_field("refresh_jti").get_db_prep_value(jti, connection, prepared=False))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


_ROTATE_SQL: dict[tuple[str, tuple[str, ...]], str] = {}


def token_claims(*, raw_token: str) -> dict[str, Any]:
    """Claims of a valid access or refresh token whose session is live."""
    token = _decode(None, raw_token)
    sid = _session_id(token)
    # The same checks as the other two doors: an API session (a token naming
    # a web session is none of ours), of the user the token names.
    session = _live_api_session.get(sid)
    if session is None or session.expires_at <= clock.now() or not session.user.is_active:
        raise TokenInvalid()
    if str(session.user_id) != str(token.get("user_id")):
        raise TokenInvalid()
    if token.get("token_type") == REFRESH and token.get("jti") != session.refresh_jti:
        raise TokenInvalid()
    return dict(token)


def refresh_session_id(*, raw_refresh: str) -> uuid.UUID:
    """The session id of a valid refresh token (signature, expiry and type checked)."""
    return _session_id(_decode(REFRESH, raw_refresh))


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
    end_trust: bool = True,
) -> int:
    """Revoke every live session of the user (API and web), optionally but one,
    and end the sign-ins waiting at their second step: what their first factor
    proved (a password since reset, say) must not open a session afterwards
    (``tests/attacks/test_pending_second_step.py``).

    ``end_trust``: also bump the account's ``security_version``, which ends
    its "don't ask again on this browser" cookies and every sign-in whose
    password was checked before. Signing out everywhere, "this wasn't me",
    deactivation and staff do: a thief who holds the password and a trusted
    browser would otherwise sign in again without the second step until the
    password changed. The password flows bump it themselves (False)."""
    now = clock.now()
    if end_trust:
        User.objects.filter(pk=user.pk).update(security_version=F("security_version") + 1)
    sessions = DeviceSession.objects.filter(user=user, revoked_at__isnull=True)
    if except_session_id is not None:
        sessions = sessions.filter(~Q(pk=except_session_id))
    count = sessions.update(revoked_at=now, revoked_reason=reason)
    MfaChallenge.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
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
