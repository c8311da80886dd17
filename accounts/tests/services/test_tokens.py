"""Token sessions (SPEC §5.2, §14 rule 8, §18.1, §22.6): ``accounts/services/tokens.py``.

One row per device; access and refresh tokens bound to it by ``sid``; refresh
rotates, a spent refresh token presented again ends the session except once
within the grace (and then with the *current* token); definite lifetimes."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings as django_settings

from accounts.models import DeviceSession, SecurityEvent
from accounts.services import tokens
from accounts.services.tokens import (
    TokenPair,
    refresh_session_id,
    session_authenticate,
    session_end,
    session_open,
    session_refresh,
    session_revoke,
    sessions_live,
    sessions_revoke_all,
    token_claims,
)
from accounts.services.websessions import web_session_open
from accounts.tests.services.support import CLIENT, PHONE_NUMBER, event_kinds
from authsite.client import ClientInfo
from authsite.errors import TokenInvalid, TokenReused
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db

OTHER_DEVICE = ClientInfo(ip="198.51.100.9", user_agent="other-device/2.0")


def _claims(raw: str) -> dict:
    return jwt.decode(raw, options={"verify_signature": False})


def _refresh(raw: str, client: ClientInfo = CLIENT) -> TokenPair:
    return session_refresh(raw_refresh=raw, client=client)


@pytest.fixture
def pair(user, clock) -> TokenPair:
    return session_open(user=user, client=CLIENT)


# --- opening ------------------------------------------------------------------------------------


def test_a_session_row_is_opened_and_holds_no_token(user, clock, settings):
    pair = session_open(user=user, client=CLIENT)
    row = DeviceSession.objects.get()
    assert (row.kind, row.user, row.ip, row.user_agent) == (
        "api",
        user,
        CLIENT.ip,
        "service-tests/1.0",
    )
    assert row.created_at == row.last_used_at == clock.current
    assert row.refresh_jti == _claims(pair.refresh)["jti"]
    assert (row.previous_jti, row.rotated_at, row.revoked_at) == ("", None, None)
    stored = " ".join(str(getattr(row, f.attname)) for f in row._meta.fields)
    assert pair.access not in stored and pair.refresh not in stored
    assert pair.session == row


def test_a_session_ends_at_the_earlier_of_its_absolute_and_idle_ends(user, clock, settings):
    settings.JWT_SESSION_MAX_AGE = 100
    settings.JWT_SESSION_IDLE_TIMEOUT = 40
    pair = session_open(user=user, client=CLIENT)
    assert pair.session.expires_at == clock.current + timedelta(seconds=40)
    assert pair.refresh_expires_at == pair.session.expires_at
    # No token outlives its session: the access token ends with it too.
    assert pair.expires_at == pair.session.expires_at
    assert session_end(
        created_at=clock.current, refreshed_at=clock.current + timedelta(seconds=90)
    ) == clock.current + timedelta(seconds=100)


def test_the_access_token_lives_an_hour_and_the_refresh_token_as_long_as_the_session(
    pair, clock, settings
):
    assert pair.expires_at == clock.current + timedelta(seconds=settings.JWT_ACCESS_TTL)
    assert pair.refresh_expires_at == clock.current + timedelta(
        seconds=min(settings.JWT_SESSION_MAX_AGE, settings.JWT_SESSION_IDLE_TIMEOUT)
    )


def test_the_claims_name_the_user_and_the_session(make_user, clock):
    account = make_user(email="claims@example.com", phone=PHONE_NUMBER, username="claims")
    pair = session_open(user=account, client=CLIENT)
    for raw, kind in ((pair.access, "access"), (pair.refresh, "refresh")):
        claims = token_claims(raw_token=raw)
        assert claims["token_type"] == kind
        assert claims["user_id"] == account.pk
        assert claims["sid"] == str(pair.session.pk)
        assert (claims["email"], claims["phone"], claims["username"]) == (
            "claims@example.com",
            PHONE_NUMBER,
            "claims",
        )
        assert claims["jti"]
    assert _claims(pair.access)["jti"] != _claims(pair.refresh)["jti"]


def test_tokens_are_signed_with_the_jwt_key_not_the_secret_key(pair):
    jwt.decode(pair.access, django_settings.JWT_SIGNING_KEY, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(pair.access, django_settings.SECRET_KEY, algorithms=["HS256"])


# --- the bearer check ------------------------------------------------------------------------------


def test_a_live_sessions_access_token_gives_its_user_and_session(user, pair):
    found, session, claims = session_authenticate(raw_access=pair.access)
    assert (found, session.pk, claims["sid"]) == (user, pair.session.pk, str(pair.session.pk))


def test_a_refresh_token_is_no_bearer_token(pair):
    with pytest.raises(TokenInvalid) as caught:
        session_authenticate(raw_access=pair.refresh)
    assert (caught.value.code, caught.value.status) == ("token_invalid", 401)


def _forged(
    raw: str, *, header: dict | None = None, payload: dict | None = None, unsigned: bool = False
) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    head, body, signature = raw.split(".")
    decoded = _claims(raw)
    new_head = part(header) if header is not None else head
    new_body = part({**decoded, **payload}) if payload is not None else body
    return f"{new_head}.{new_body}.{'' if unsigned else signature}"


@pytest.mark.parametrize(
    "broken",
    [
        lambda raw: None,
        lambda raw: "",
        lambda raw: 12345,
        lambda raw: "not.a.token",
        lambda raw: raw + "x" * 5000,
        lambda raw: raw[:-2] + ("AA" if not raw.endswith("AA") else "BB"),
        lambda raw: _forged(raw, payload={"user_id": 1}),
        lambda raw: _forged(raw, header={"alg": "none", "typ": "JWT"}, unsigned=True),
        lambda raw: jwt.encode(
            _claims(raw), "another-key-entirely-0123456789abcdef", algorithm="HS256"
        ),
        lambda raw: jwt.encode(
            {k: v for k, v in _claims(raw).items() if k != "sid"},
            django_settings.JWT_SIGNING_KEY,
            algorithm="HS256",
        ),
    ],
    ids=[
        "none",
        "empty",
        "not-a-string",
        "garbage",
        "too-long",
        "bad-signature",
        "edited-payload",
        "alg-none",
        "other-key",
        "no-sid",
    ],
)
def test_anything_but_a_token_we_signed_is_refused(pair, broken):
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=broken(pair.access))


def test_an_access_token_dies_with_its_lifetime(pair, clock, settings):
    clock.advance(settings.JWT_ACCESS_TTL - 1)
    session_authenticate(raw_access=pair.access)
    clock.advance(1)
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=pair.access)


def test_an_access_token_dies_with_its_session(user, pair):
    session_revoke(user=user, session_id=pair.session.pk, client=CLIENT)
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=pair.access)


def test_an_access_token_of_a_session_past_its_end_is_refused(pair, clock):
    DeviceSession.objects.update(expires_at=clock.current)
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=pair.access)


def test_an_access_token_of_a_disabled_user_is_refused(user, pair):
    user.is_active = False
    user.save(update_fields=["is_active"])
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=pair.access)


def test_a_token_naming_another_user_than_its_sessions_is_refused(make_user, user, pair):
    other = make_user(email="other@example.com")
    access, *_rest = tokens._mint(other, pair.session, ends_at=pair.session.expires_at)
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=access)


def test_a_web_session_is_no_token_session(user, clock):
    web = web_session_open(user=user, client=CLIENT)
    access, refresh, *_rest = tokens._mint(user, web, ends_at=web.expires_at)
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=access)
    with pytest.raises(TokenInvalid):
        _refresh(refresh)


# --- token_claims (token verify) ---------------------------------------------------------------------


def test_a_spent_refresh_token_no_longer_verifies(pair):
    _refresh(pair.refresh)
    with pytest.raises(TokenInvalid):
        token_claims(raw_token=pair.refresh)
    token_claims(raw_token=pair.access)  # the access token of the session still does


def test_no_token_of_a_revoked_session_or_disabled_user_verifies(user, pair):
    user.is_active = False
    user.save(update_fields=["is_active"])
    with pytest.raises(TokenInvalid):
        token_claims(raw_token=pair.access)
    user.is_active = True
    user.save(update_fields=["is_active"])
    session_revoke(user=user, session_id=pair.session.pk, client=CLIENT)
    for raw in (pair.access, pair.refresh):
        with pytest.raises(TokenInvalid):
            token_claims(raw_token=raw)


def test_the_session_id_of_a_refresh_token(pair):
    assert refresh_session_id(raw_refresh=pair.refresh) == pair.session.pk
    with pytest.raises(TokenInvalid):
        refresh_session_id(raw_refresh=pair.access)


# --- refresh: rotation ---------------------------------------------------------------------------


def test_a_refresh_rotates_the_token_and_records_the_device(pair, clock):
    clock.advance(60)
    rotated = _refresh(pair.refresh, OTHER_DEVICE)
    old_jti, new_jti = _claims(pair.refresh)["jti"], _claims(rotated.refresh)["jti"]
    assert new_jti != old_jti
    row = DeviceSession.objects.get()
    assert (row.refresh_jti, row.previous_jti, row.rotated_at, row.grace_used) == (
        new_jti,
        old_jti,
        clock.current,
        False,
    )
    assert (row.last_used_at, row.ip, row.user_agent) == (
        clock.current,
        OTHER_DEVICE.ip,
        OTHER_DEVICE.user_agent,
    )
    assert rotated.session.pk == pair.session.pk
    session_authenticate(raw_access=rotated.access)
    assert event_kinds() == []


def test_an_access_token_cannot_refresh(pair):
    with pytest.raises(TokenInvalid):
        _refresh(pair.access)


def test_a_refresh_moves_the_idle_end_but_never_the_absolute_one(user, clock, settings):
    settings.JWT_SESSION_MAX_AGE = 100
    settings.JWT_SESSION_IDLE_TIMEOUT = 40
    start = clock.current
    current = session_open(user=user, client=CLIENT)
    ends = []
    for _ in range(3):
        clock.advance(30)
        current = _refresh(current.refresh)
        ends.append(current.refresh_expires_at - start)
        assert current.expires_at <= current.refresh_expires_at
        assert DeviceSession.objects.get().expires_at == current.refresh_expires_at
    assert ends == [timedelta(seconds=70), timedelta(seconds=100), timedelta(seconds=100)]
    clock.advance(10)  # 100 s after sign-in
    with pytest.raises(TokenInvalid):
        _refresh(current.refresh)


def test_a_session_not_refreshed_for_its_idle_timeout_is_over(user, clock, settings):
    settings.JWT_SESSION_IDLE_TIMEOUT = 40
    pair = session_open(user=user, client=CLIENT)
    clock.advance(40)
    with pytest.raises(TokenInvalid):
        _refresh(pair.refresh)
    assert sessions_live(user=user) == []


def test_a_revoked_session_or_a_disabled_user_cannot_refresh(user, pair):
    other = session_open(user=user, client=CLIENT)
    session_revoke(user=user, session_id=pair.session.pk, client=CLIENT)
    with pytest.raises(TokenInvalid):
        _refresh(pair.refresh)
    user.is_active = False
    user.save(update_fields=["is_active"])
    with pytest.raises(TokenInvalid):
        _refresh(other.refresh)
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.TOKEN_REUSE).exists()


# --- refresh: reuse and the grace --------------------------------------------------------------------


def test_a_spent_refresh_token_after_the_grace_ends_the_whole_session(user, pair, clock, settings):
    rotated = _refresh(pair.refresh)
    clock.advance(settings.JWT_REFRESH_REUSE_GRACE + 1)
    with pytest.raises(TokenReused) as caught:
        _refresh(pair.refresh)
    assert (caught.value.code, caught.value.status) == ("token_reused", 401)
    row = DeviceSession.objects.get()
    assert (row.revoked_at, row.revoked_reason) == (clock.current, "token_reused")
    assert event_kinds(user) == [SecurityEvent.TOKEN_REUSE]
    # The thief's copy and the honest client's current token are both dead.
    with pytest.raises(TokenInvalid):
        _refresh(rotated.refresh)
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=rotated.access)


def test_within_the_grace_the_token_just_spent_gets_the_current_one_again_once(user, pair, clock):
    rotated = _refresh(pair.refresh)
    clock.advance(5)
    again = _refresh(pair.refresh)
    # Not a new branch: the session's current refresh token, with the same end.
    assert _claims(again.refresh)["jti"] == _claims(rotated.refresh)["jti"]
    assert again.refresh_expires_at == rotated.refresh_expires_at
    row = DeviceSession.objects.get()
    assert (row.refresh_jti, row.grace_used, row.revoked_at) == (
        _claims(rotated.refresh)["jti"],
        True,
        None,
    )
    session_authenticate(raw_access=again.access)
    assert event_kinds(user) == [SecurityEvent.TOKEN_GRACE_USED]
    # A second replay is reuse.
    with pytest.raises(TokenReused):
        _refresh(pair.refresh)
    assert DeviceSession.objects.get().revoked_reason == "token_reused"


def test_after_the_grace_answer_the_current_token_rotates_as_usual(pair, clock):
    rotated = _refresh(pair.refresh)
    again = _refresh(pair.refresh)
    clock.advance(1)
    third = _refresh(again.refresh)
    assert _claims(third.refresh)["jti"] not in {
        _claims(rotated.refresh)["jti"],
        _claims(pair.refresh)["jti"],
    }
    # Each rotation gives one grace of its own.
    fourth = _refresh(again.refresh)
    assert _claims(fourth.refresh)["jti"] == _claims(third.refresh)["jti"]


def test_a_token_spent_two_rotations_ago_is_reuse_even_within_the_grace(pair, clock):
    second = _refresh(pair.refresh)
    _refresh(second.refresh)
    with pytest.raises(TokenReused):
        _refresh(pair.refresh)


# --- revoking and listing ------------------------------------------------------------------------


def test_revoking_ones_own_session_records_it(user, pair, clock):
    assert session_revoke(user=user, session_id=pair.session.pk, client=CLIENT) is True
    row = DeviceSession.objects.get()
    assert (row.revoked_at, row.revoked_reason) == (clock.current, "revoked")
    assert event_kinds(user) == [SecurityEvent.SESSION_REVOKED]
    # Already revoked: nothing more happens.
    assert session_revoke(user=user, session_id=pair.session.pk, client=CLIENT) is False
    assert event_kinds(user) == [SecurityEvent.SESSION_REVOKED]


def test_a_logout_is_recorded_as_a_logout(user, pair):
    session_revoke(user=user, session_id=pair.session.pk, client=CLIENT, reason="logout")
    assert event_kinds(user) == [SecurityEvent.LOGOUT]


def test_nobody_revokes_another_users_session(make_user, pair):
    other = make_user(email="other@example.com")
    assert session_revoke(user=other, session_id=pair.session.pk, client=CLIENT) is False
    assert DeviceSession.objects.get().revoked_at is None
    assert event_kinds() == []


def test_revoking_all_ends_token_and_web_sessions_but_the_one_kept(make_user, user, clock):
    kept = session_open(user=user, client=CLIENT).session
    others = [
        session_open(user=user, client=CLIENT).session,
        web_session_open(user=user, client=CLIENT),
    ]
    someone = session_open(user=make_user(email="other@example.com"), client=CLIENT).session
    assert sessions_revoke_all(user=user, client=CLIENT, except_session_id=kept.pk) == 2
    for session in (kept, someone, *others):
        session.refresh_from_db()
    assert kept.revoked_at is None and someone.revoked_at is None
    assert all(s.revoked_reason == "revoked" for s in others)
    assert event_kinds(user) == [SecurityEvent.SESSION_REVOKED]


def test_revoking_all_records_one_event_only_when_asked_and_only_if_something_ended(user):
    assert sessions_revoke_all(user=user, client=CLIENT) == 0
    session_open(user=user, client=CLIENT)
    assert sessions_revoke_all(user=user, client=CLIENT, record=False) == 1
    assert event_kinds() == []
    session_open(user=user, client=CLIENT)
    session_open(user=user, client=CLIENT)
    assert sessions_revoke_all(user=user, client=CLIENT, reason="logout") == 2
    assert event_kinds(user) == [SecurityEvent.LOGOUT]


def test_the_live_sessions_are_the_users_unrevoked_unexpired_ones_latest_first(
    make_user, user, clock, settings
):
    settings.JWT_SESSION_IDLE_TIMEOUT = 100
    stale = session_open(user=user, client=CLIENT).session
    clock.advance(50)
    revoked = session_open(user=user, client=CLIENT).session
    session_revoke(user=user, session_id=revoked.pk, client=CLIENT)
    older = session_open(user=user, client=CLIENT).session
    clock.advance(10)
    newer = web_session_open(user=user, client=CLIENT)
    session_open(user=make_user(email="other@example.com"), client=CLIENT)
    assert [s.pk for s in sessions_live(user=user)] == [newer.pk, older.pk, stale.pk]
    clock.advance(45)  # the first session's idle end has passed
    assert [s.pk for s in sessions_live(user=user)] == [newer.pk, older.pk]


# --- concurrency ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_of_one_token_rotate_once_and_never_fork(user):
    pair = session_open(user=user, client=CLIENT)
    results = run_concurrently(lambda: _refresh(pair.refresh), count=2)
    assert all(isinstance(r, TokenPair) for r in results), results
    row = DeviceSession.objects.get()
    assert row.revoked_at is None
    assert row.previous_jti == _claims(pair.refresh)["jti"]  # one rotation
    assert {_claims(r.refresh)["jti"] for r in results} == {row.refresh_jti}


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_a_spent_token_get_at_most_one_answer(user):
    pair = session_open(user=user, client=CLIENT)
    rotated = _refresh(pair.refresh)
    results = run_concurrently(lambda: _refresh(pair.refresh), count=6)
    answered = [r for r in results if isinstance(r, TokenPair)]
    assert len(answered) <= 1, results
    assert all(isinstance(r, TokenPair | TokenReused | TokenInvalid) for r in results), results
    for answer in answered:
        assert _claims(answer.refresh)["jti"] == _claims(rotated.refresh)["jti"]
    assert DeviceSession.objects.get().revoked_reason == "token_reused"
    assert SecurityEvent.objects.filter(kind=SecurityEvent.TOKEN_REUSE).count() == 1
