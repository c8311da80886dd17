"""The request pools ``make bench`` builds are real requests: each body of a
pool signs in through the API once, and only once (as the bench counts it)."""

from __future__ import annotations

import argparse
import json

import pytest

from bench import seed

pytestmark = pytest.mark.django_db


def test_the_passkey_login_pool_signs_in_each_user_once(tmp_path, api_client):
    out = tmp_path / "passkeys.jsonl"
    result = seed.cmd_passkeys(argparse.Namespace(count=3, batch=1, out=str(out)))
    assert result["written"] == 3
    bodies = [json.loads(line) for line in out.read_text().splitlines()]
    emails = set()
    for body in bodies:
        response = api_client.post("/api/v1/auth/passkeys/login", body, format="json")
        assert response.status_code == 200, response.content
        emails.add(response.json()["data"]["user"]["email"])
    assert emails == {f"passkey1-{i}@bench.example" for i in range(3)}
    replay = api_client.post("/api/v1/auth/passkeys/login", bodies[0], format="json")
    assert (replay.status_code, replay.json()["code"]) == (400, "passkey_invalid")


def test_the_mfa_pool_completes_each_second_step(tmp_path, api_client):
    out = tmp_path / "mfa.jsonl"
    seed.cmd_mfa(argparse.Namespace(count=2, batch=1, at_offset=0.0, out=str(out)))
    for line in out.read_text().splitlines():
        response = api_client.post("/api/v1/auth/mfa/verify", json.loads(line), format="json")
        assert response.status_code == 200, response.content
