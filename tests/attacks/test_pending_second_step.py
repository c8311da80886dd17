"""A second step left waiting survived the owner's password reset: the thief
who had the password (and phished one authenticator code later) finished a
sign-in the owner had already shut the door on. A reset, a password change
and "sign out everywhere" end the account's pending second steps too: what
their first factor proved no longer opens anything. SPEC §16.1, §14 rule 6."""

from __future__ import annotations

import pyotp
import pytest

from accounts.tests.helpers import assert_error, assert_ok, last_code_for
from authsite import clock
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"


def _totp(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock.now().timestamp())


@pytest.fixture
def secret(user, api_client) -> str:
    """``user`` (the owner) with an authenticator app."""
    access = assert_ok(
        api_client.post(
            f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        )
    )["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    setup = assert_ok(api_client.post(f"{API}/mfa/totp/setup", format="json"))
    assert_ok(
        api_client.post(f"{API}/mfa/totp/confirm", {"code": _totp(setup["secret"])}, format="json")
    )
    api_client.credentials()
    return setup["secret"]


def _password_step(client, user) -> str:
    body = assert_error(
        client.post(
            f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        ),
        401,
        "mfa_required",
    )
    return body["data"]["mfa_token"]


def test_a_reset_ends_the_thiefs_pending_second_step(user, secret, api_client, clock):
    from rest_framework.test import APIClient

    thief = APIClient()
    token = _password_step(thief, user)
    assert_ok(api_client.post(f"{API}/password/forgot", {"email": user.email}, format="json"))
    assert_ok(
        api_client.post(
            f"{API}/password/reset",
            {
                "email": user.email,
                "otp": last_code_for(user.email),
                "new_password": "Owners-New-Horse-9-x",
            },
            format="json",
        )
    )
    clock.advance(30)  # the next authenticator step: a code not used yet
    refused = thief.post(
        f"{API}/mfa/verify",
        {"mfa_token": token, "method": "totp", "code": _totp(secret)},
        format="json",
    )
    assert_error(refused, 401, "token_invalid")


def test_signing_out_everywhere_ends_pending_second_steps(user, secret, api_client, clock):
    from rest_framework.test import APIClient

    thief = APIClient()
    token = _password_step(thief, user)
    clock.advance(30)
    owner = APIClient()
    owner_token = _password_step(owner, user)
    owner_access = assert_ok(
        owner.post(
            f"{API}/mfa/verify",
            {"mfa_token": owner_token, "method": "totp", "code": _totp(secret)},
            format="json",
        )
    )["access"]
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {owner_access}")
    assert_ok(owner.post(f"{API}/logout", {"all": True}, format="json"))
    clock.advance(30)
    refused = thief.post(
        f"{API}/mfa/verify",
        {"mfa_token": token, "method": "totp", "code": _totp(secret)},
        format="json",
    )
    assert_error(refused, 401, "token_invalid")
