"""A refresh that races the end of its own session: the session row is read
live, and before the rotating UPDATE runs, another request ends it — the
account is deleted (the row goes with it), or the session is revoked (a
password change elsewhere, "sign out everywhere", staff).

Found here: the deleted account's refresh answered a 500 (the refresh read
the vanished row again and ``DoesNotExist`` escaped), and the revoked
session's answered ``token_reused`` — telling an honest client that its
token had been stolen, when its session had simply been ended. Both now
answer ``token_invalid``, as the same refresh a moment later does; a replay
that finds its session ended *by* reuse detection still answers
``token_reused``.

The interleaving is made deterministic by ending the session inside the
rotation's first step (``tokens._rotate``), which is where a concurrent
request lands on MariaDB (the UPDATE waits for the other transaction's row
lock, then reads the row it left).
"""

from __future__ import annotations

import pytest

from accounts.models import DeviceSession, SecurityEvent
from accounts.services import account, tokens
from accounts.services.tokens import session_open
from authsite.client import ClientInfo
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"


@pytest.fixture
def pair(victim):
    return session_open(user=victim, client=ClientInfo(ip="203.0.113.10", user_agent="app"))


def _ending_inside_the_rotation(monkeypatch, end):
    rotate = tokens._rotate

    def rotate_after_the_end(**kwargs):
        end()
        return rotate(**kwargs)

    monkeypatch.setattr(tokens, "_rotate", rotate_after_the_end)


def _refresh(client, token: str):
    return client.post(f"{API}/token/refresh", {"refresh": token}, format="json")


def test_a_refresh_racing_the_accounts_deletion_is_token_invalid(
    api_client, victim, pair, monkeypatch
):
    _ending_inside_the_rotation(monkeypatch, lambda: account.account_remove(user=victim))
    response = _refresh(api_client, pair.refresh)
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "token_invalid"
    assert not DeviceSession.objects.filter(pk=pair.session.pk).exists()


@pytest.mark.parametrize("reason", ["password_changed", "logout", "staff"])
def test_a_refresh_racing_its_sessions_revocation_is_token_invalid_not_reuse(
    api_client, victim, pair, monkeypatch, reason
):
    _ending_inside_the_rotation(
        monkeypatch,
        lambda: tokens.sessions_revoke_all(user=victim, reason=reason, record=False),
    )
    response = _refresh(api_client, pair.refresh)
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "token_invalid"
    session = DeviceSession.objects.get(pk=pair.session.pk)
    assert session.revoked_reason == reason  # not rewritten as a theft
    assert not SecurityEvent.objects.filter(user=victim, kind=SecurityEvent.TOKEN_REUSE).exists()
    # And the rotation did not happen: the session's token is the one sent.
    assert session.refresh_jti == pair.session.refresh_jti


def test_a_replay_whose_session_reuse_detection_ended_is_still_reuse(
    api_client, victim, pair, monkeypatch
):
    """The other side of the fix: a racer that finds the session ended by
    reuse detection (a parallel replay's) is told ``token_reused``."""

    def reuse_elsewhere():
        DeviceSession.objects.filter(pk=pair.session.pk).update(
            revoked_at=pair.session.created_at, revoked_reason="token_reused"
        )

    _ending_inside_the_rotation(monkeypatch, reuse_elsewhere)
    response = _refresh(api_client, pair.refresh)
    assert response.status_code == 401
    assert response.json()["code"] == "token_reused"


@pytest.mark.django_db(transaction=True)
def test_refreshes_racing_revocations_answer_200_or_token_invalid(victim):
    """The same race for real, on threads (MariaDB: row locks; SQLite: the
    retried statements): each of eight sessions is refreshed while it is
    revoked. Every refresh answers 200 (it won, and its tokens died with the
    revocation) or ``token_invalid`` — never ``token_reused``, never a 500 —
    and no reuse is recorded. Before the fix it failed on SQLite in two runs
    of three (``token_reused``); on MariaDB the deterministic tests above
    show it."""
    import itertools
    import threading

    from rest_framework.test import APIClient

    pairs = [
        session_open(user=victim, client=ClientInfo(ip="203.0.113.10", user_agent="app"))
        for _ in range(8)
    ]
    jobs = itertools.chain.from_iterable((("refresh", p), ("revoke", p)) for p in pairs)
    lock = threading.Lock()

    def work():
        with lock:
            kind, pair = next(jobs)
        if kind == "revoke":
            return tokens.session_revoke(
                user=victim, session_id=pair.session.pk, client=ClientInfo(), reason="logout"
            )
        return _refresh(APIClient(), pair.refresh)

    results = run_concurrently(work, count=16)
    answers = [r for r in results if hasattr(r, "status_code")]
    assert len(answers) == 8 and all(r is True for r in results if not hasattr(r, "status_code"))
    for answer in answers:
        assert answer.status_code in (200, 401), answer.content
        if answer.status_code == 401:
            assert answer.json()["code"] == "token_invalid", answer.content
    assert not DeviceSession.objects.filter(user=victim, revoked_at__isnull=True).exists()
    assert not SecurityEvent.objects.filter(user=victim, kind=SecurityEvent.TOKEN_REUSE).exists()
