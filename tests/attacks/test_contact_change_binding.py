"""SPEC §22.7: a contact-change code belongs to the account that asked for it.
Another account asking for the same address must neither kill that code nor
spend its hourly cap."""

from __future__ import annotations

import pytest

from accounts.services.tokens import session_open
from accounts.tests.helpers import last_code_for
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD, CommitAPIClient

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
NEW = "new-address@example.com"


def _client_for(user):
    client = CommitAPIClient()
    pair = session_open(user=user, client=ClientInfo(ip="10.0.0.1"))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    client.post(f"{API}/reauthenticate", {"password": STRONG_PASSWORD}, format="json")
    return client


def _change(client):
    return client.post(
        f"{API}/contact/change", {"email": NEW, "password": STRONG_PASSWORD}, format="json"
    )


def test_another_accounts_request_does_not_kill_the_code(make_user, clock):
    owner = make_user(email="owner@example.com")
    other = make_user(email="other@example.com")
    owner_client, other_client = _client_for(owner), _client_for(other)

    assert _change(owner_client).status_code == 200
    owners_code = last_code_for(NEW)
    clock.advance(31)
    assert _change(other_client).status_code == 200

    response = owner_client.post(
        f"{API}/contact/verify", {"email": NEW, "otp": owners_code}, format="json"
    )
    assert response.status_code == 200, response.content
    owner.refresh_from_db()
    assert owner.email == NEW


def test_another_accounts_requests_do_not_spend_the_cap(make_user, clock, settings):
    owner = make_user(email="owner@example.com")
    other = make_user(email="other@example.com")
    owner_client, other_client = _client_for(owner), _client_for(other)
    for _ in range(settings.OTP_MAX_SENDS_PER_HOUR):
        assert _change(other_client).status_code == 200
        clock.advance(31)
    assert _change(owner_client).status_code == 200
