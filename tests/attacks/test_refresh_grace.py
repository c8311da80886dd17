"""Finding 7: a refresh token replayed within the reuse grace minted any
number of fresh pairs (50 of 50 in a parallel race), without an event, so a
thief holding it kept a branch of the session alive. SPEC §22.6: the grace
answer carries the session's current refresh ``jti`` (never a second live
token), once per rotation, recorded as an event."""

from __future__ import annotations

import jwt
import pytest
from django.test import Client

from accounts.models import DeviceSession, SecurityEvent
from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD
from tests.concurrency import run_concurrently

API = "/api/v1/auth"


def _jti(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def _sign_in(client) -> dict:
    response = client.post(
        f"{API}/login",
        {"email": VICTIM_EMAIL, "password": VICTIM_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]


def _refresh(client, token: str):
    return client.post(f"{API}/token/refresh", {"refresh": token}, content_type="application/json")


@pytest.mark.django_db
def test_the_grace_answer_carries_the_current_jti_once(api_client, victim, clock):
    first = _sign_in(api_client)
    rotated = _refresh(api_client, first["refresh"]).json()["data"]
    clock.advance(2)

    grace = _refresh(api_client, first["refresh"])
    assert grace.status_code == 200, grace.content
    grace_refresh = grace.json()["data"]["refresh"]
    session = DeviceSession.objects.get(pk=first["session_id"])
    # No second live token: the grace answer is the current refresh token again.
    assert _jti(grace_refresh) == _jti(rotated["refresh"]) == session.refresh_jti
    assert SecurityEvent.objects.filter(user=victim, kind="token_grace_used").count() == 1

    # A second replay within the same grace is reuse: the session ends.
    again = _refresh(api_client, first["refresh"])
    assert again.status_code == 401 and again.json()["code"] == "token_reused"
    assert _refresh(api_client, grace_refresh).status_code == 401
    assert _refresh(api_client, rotated["refresh"]).status_code == 401


@pytest.mark.django_db
def test_the_grace_answer_does_not_extend_the_session(api_client, victim, clock):
    first = _sign_in(api_client)
    rotated = _refresh(api_client, first["refresh"]).json()["data"]
    clock.advance(5)
    grace = _refresh(api_client, first["refresh"]).json()["data"]
    assert grace["refresh_expires_at"] == rotated["refresh_expires_at"]


@pytest.mark.django_db(transaction=True)
def test_a_parallel_replay_within_the_grace_never_forks_the_session(victim):
    client = Client()
    first = _sign_in(client)
    rotated = _refresh(client, first["refresh"])
    assert rotated.status_code == 200

    results = run_concurrently(lambda: _refresh(Client(), first["refresh"]), count=20)

    answered = [r for r in results if getattr(r, "status_code", None) == 200]
    assert len(answered) <= 1, [getattr(r, "status_code", r) for r in results]
    assert all(getattr(r, "status_code", None) in (200, 401) for r in results), results
    session = DeviceSession.objects.get(pk=first["session_id"])
    current = {session.refresh_jti}
    for response in answered:
        # Whatever was handed out is the one current token, never a new branch.
        assert _jti(response.json()["data"]["refresh"]) in current
    # The replays past the first were reuse: the session is over.
    assert session.revoked_at is not None
