"""Findings 3 and 4: an account made by a stranger's sign-up survived its
address owner's later verification with the stranger's password on it.
SPEC §22.2 to §22.4."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.tests.helpers import last_code_for
from tests.attacks.corpus import ATTACKER_PASSWORD, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
OWNER = "owner@example.com"


def _signup(api_client, password: str, **extra):
    response = api_client.post(
        f"{API}/signup", {"email": OWNER, "password": password, **extra}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["data"]


def _verify(api_client, signup: dict, code: str):
    body = {"email": OWNER, "otp": code}
    if "signup_token" in signup:
        body["signup_token"] = signup["signup_token"]
    return api_client.post(f"{API}/signup/verify", body, format="json")


def _login(api_client, password: str):
    return api_client.post(f"{API}/login", {"email": OWNER, "password": password}, format="json")


def test_a_strangers_signup_does_not_survive_the_owners_code_signin(api_client):
    _signup(api_client, ATTACKER_PASSWORD, username="squatter", first_name="Mallory")

    # The owner of the address signs in with a code sent to it.
    api_client.post(f"{API}/otp/request", {"email": OWNER}, format="json")
    owner = api_client.post(
        f"{API}/otp/verify", {"email": OWNER, "otp": last_code_for(OWNER)}, format="json"
    )
    assert owner.status_code == 200, owner.content
    account = User.objects.get(email=OWNER)
    assert owner.json()["data"]["user"]["id"] == account.id

    # The stranger's password, username and profile are not the owner's.
    assert _login(api_client, ATTACKER_PASSWORD).status_code == 401
    assert not account.has_usable_password()
    assert account.username != "squatter"
    assert account.profile.first_name == ""


def test_a_second_signup_neither_takes_over_nor_kills_the_first(api_client, clock):
    owners = _signup(api_client, VICTIM_PASSWORD)
    owners_code = last_code_for(OWNER)
    clock.advance(31)  # past the resend cooldown
    strangers = _signup(api_client, ATTACKER_PASSWORD)
    strangers_code = last_code_for(OWNER)  # the newest code in the owner's inbox
    assert strangers_code != owners_code

    # Two attempts, two tokens: the stranger's sign-up did not join the owner's.
    assert owners.get("signup_token") and strangers.get("signup_token")
    assert owners["signup_token"] != strangers["signup_token"]
    assert "user_id" not in owners and "user_id" not in strangers

    # The owner types the newest code on their own verify page: it is not theirs.
    assert _verify(api_client, owners, strangers_code).status_code == 400
    # Their own code still works (the stranger's sign-up did not kill it) …
    response = _verify(api_client, owners, owners_code)
    assert response.status_code == 200, response.content
    # … and the account holds the owner's password, not the stranger's.
    assert _login(api_client, ATTACKER_PASSWORD).status_code == 401
    assert _login(api_client, VICTIM_PASSWORD).status_code == 200
    # The stranger's attempt ended with the owner's account.
    assert _verify(api_client, strangers, strangers_code).status_code != 200


def test_an_attempt_never_becomes_an_account_without_its_code(api_client):
    _signup(api_client, ATTACKER_PASSWORD)
    assert not User.objects.filter(email=OWNER).exists()
    assert _login(api_client, ATTACKER_PASSWORD).status_code == 403


def test_signup_verify_needs_the_attempts_token(api_client):
    _signup(api_client, ATTACKER_PASSWORD)
    code = last_code_for(OWNER)
    # Someone who holds the code but not the token (the code alone is not enough).
    response = api_client.post(f"{API}/signup/verify", {"email": OWNER, "otp": code}, format="json")
    assert response.status_code == 400
    assert not User.objects.filter(email=OWNER).exists()
