"""Finding 5: sign-up told a fresh address from a verified account's: two
sign-ups to a fresh address returned the same user id, to a verified
account's address two different ones. SPEC §22.2: one answer for a fresh
address, an address with pending attempts and a verified account's."""

from __future__ import annotations

import pytest

from tests.attacks.corpus import ATTACKER_PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v1/auth/signup"


def _signup(api_client, email: str):
    return api_client.post(SIGNUP, {"email": email, "password": ATTACKER_PASSWORD}, format="json")


def _shape(response) -> tuple:
    body = response.json()
    data = body["data"]
    return (
        response.status_code,
        body["message"],
        sorted(data),
        data["channel"],
        data["expires_in"],
        data["resend_in"],
    )


def test_repeated_signups_tell_nothing_about_the_address(api_client, make_user, clock):
    make_user(email="taken@example.com")
    answers = {}
    for email in ("fresh@example.com", "taken@example.com"):
        first = _signup(api_client, email)
        clock.advance(31)
        second = _signup(api_client, email)
        clock.advance(31)
        assert first.status_code == second.status_code == 201
        answers[email] = (first, second)

    fresh, taken = answers["fresh@example.com"], answers["taken@example.com"]
    assert _shape(fresh[0]) == _shape(fresh[1]) == _shape(taken[0]) == _shape(taken[1])
    for response in (*fresh, *taken):
        data = response.json()["data"]
        assert "user_id" not in data
        assert data["signup_token"]
    # Every answer carries a token of its own: none repeats, whoever holds the address.
    tokens = {r.json()["data"]["signup_token"] for r in (*fresh, *taken)}
    assert len(tokens) == 4


def test_an_address_with_a_pending_attempt_answers_like_a_fresh_one(api_client, clock):
    pending_first = _signup(api_client, "pending@example.com")
    clock.advance(31)
    pending_again = _signup(api_client, "pending@example.com")
    fresh = _signup(api_client, "another@example.com")
    assert _shape(pending_first) == _shape(pending_again) == _shape(fresh)
