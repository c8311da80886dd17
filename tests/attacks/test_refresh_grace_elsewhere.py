"""The refresh grace (SPEC §22.6) seen by a thief who copied the owner's
refresh token: the owner refreshes, and the thief presents the spent token
from another IP and another user agent within ``JWT_REFRESH_REUSE_GRACE``.

The grace does not look at the address: a client that lost the response of
its refresh has often lost it *because* its network changed (Wi-Fi to
mobile), so a new IP is no sign of theft there. What keeps the grace from
being a thief's way in:

- its answer is the owner's current refresh token again (the same ``jti``):
  the two hold one token, so whichever refreshes next spends it, and the
  other's next refresh, past the grace, is reuse — the whole session ends;
- it is recorded as ``token_grace_used`` with the address and user agent that
  used it, so the owner sees the stranger's on their activity page.

Guard (the property holds): fails when reuse detection stops ending the
session, or the grace mints a token of its own ``jti`` (checked by taking
each out).
"""

from __future__ import annotations

import pytest

from accounts.models import DeviceSession, SecurityEvent
from tests.attacks.test_refresh_grace import _jti, _refresh, _sign_in

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
OWNER = {"REMOTE_ADDR": "203.0.113.10", "HTTP_USER_AGENT": "OwnerApp/1.0 (iPhone)"}
THIEF = {"REMOTE_ADDR": "198.51.100.66", "HTTP_USER_AGENT": "curl/8.5"}


def _refresh_as(client, token: str, who: dict):
    return client.post(f"{API}/token/refresh", {"refresh": token}, format="json", **who)


@pytest.mark.parametrize("next_to_refresh", ["owner", "thief"])
def test_a_thief_in_the_grace_is_found_out_at_the_next_refresh(
    api_client, victim, clock, next_to_refresh
):
    first = _sign_in(api_client)
    owner = _refresh_as(api_client, first["refresh"], OWNER).json()["data"]
    clock.advance(3)
    stolen = _refresh_as(api_client, first["refresh"], THIEF)
    assert stolen.status_code == 200, stolen.content
    thief = stolen.json()["data"]
    # One live refresh token, held by both.
    assert _jti(thief["refresh"]) == _jti(owner["refresh"])
    event = SecurityEvent.objects.get(user=victim, kind=SecurityEvent.TOKEN_GRACE_USED)
    assert (event.ip, event.user_agent) == (THIEF["REMOTE_ADDR"], THIEF["HTTP_USER_AGENT"])

    clock.advance(3600)
    first_one, second_one = (owner, thief) if next_to_refresh == "owner" else (thief, owner)
    who = (OWNER, THIEF) if next_to_refresh == "owner" else (THIEF, OWNER)
    assert _refresh_as(api_client, first_one["refresh"], who[0]).status_code == 200
    clock.advance(60)
    reused = _refresh_as(api_client, second_one["refresh"], who[1])
    assert reused.status_code == 401 and reused.json()["code"] == "token_reused"
    session = DeviceSession.objects.get(pk=first["session_id"])
    assert session.revoked_at is not None and session.revoked_reason == "token_reused"
    # Every token of the session is dead, the thief's and the owner's alike.
    for pair in (owner, thief):
        me = api_client.get(f"{API}/me", HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
        assert me.status_code == 401


def test_a_thief_past_the_grace_ends_the_session(api_client, victim, clock):
    first = _sign_in(api_client)
    owner = _refresh_as(api_client, first["refresh"], OWNER).json()["data"]
    clock.advance(60)
    stolen = _refresh_as(api_client, first["refresh"], THIEF)
    assert stolen.status_code == 401 and stolen.json()["code"] == "token_reused"
    assert _refresh(api_client, owner["refresh"]).status_code == 401
