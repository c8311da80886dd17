"""SPEC §5.1's two 401s and the public endpoints' indifference to a bearer
token they do not need.

- ``not_authenticated``: "no or malformed bearer token" — a token that is not
  a JWT at all is malformed, like a header without one;
- ``token_invalid``: "expired, bad signature, wrong type, revoked session";
- ``/auth/otp/resend`` is public (only its ``contact_change`` purpose needs
  the token): a client that attaches its old token to every call still gets
  its sign-in or reset code after the session ended."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.tests.helpers import assert_error, assert_ok
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"


@pytest.mark.parametrize(
    "token",
    ["abc", "not.a-jwt", "a.b.c.d", "%%%.%%%.%%%", "bm90IGpzb24.eyJ9.c2ln", "e30.e30"],
)
def test_a_token_that_is_no_jwt_is_not_authenticated(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error(api_client.get(f"{API}/me"), 401, "not_authenticated")


def test_a_jwt_with_a_bad_signature_is_token_invalid(auth_client):
    header, payload, signature = auth_client.token_pair.access.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    auth_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert_error(auth_client.get(f"{API}/me"), 401, "token_invalid")


def test_an_expired_token_is_token_invalid(auth_client, clock):
    clock.advance(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() + 1)
    assert_error(auth_client.get(f"{API}/me"), 401, "token_invalid")


@pytest.mark.parametrize("purpose", ["login", "password_reset"])
def test_a_resend_ignores_a_dead_token(auth_client, user, clock, purpose):
    clock.advance(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() + 1)
    body = {"purpose": purpose, "email": user.email}
    assert_ok(auth_client.post(f"{API}/otp/resend", body, format="json"))
    auth_client.credentials(HTTP_AUTHORIZATION="Bearer abc")
    clock.advance(settings.OTP_RESEND_COOLDOWN + 1)
    assert_ok(auth_client.post(f"{API}/otp/resend", body, format="json"))


def test_a_contact_change_resend_still_needs_a_live_token(auth_client, clock):
    clock.advance(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() + 1)
    body = {"purpose": "contact_change", "email": "new@example.com"}
    assert_error(auth_client.post(f"{API}/otp/resend", body, format="json"), 401, "token_invalid")
    auth_client.credentials()
    assert_error(
        auth_client.post(f"{API}/otp/resend", body, format="json"), 401, "not_authenticated"
    )


def test_mfa_required_closes_me_but_not_logout(user, api_client, settings):
    settings.MFA_REQUIRED = True
    session = assert_ok(
        api_client.post(
            f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        )
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    # SPEC §16.5: every endpoint but the setup ones.
    assert_error(api_client.get(f"{API}/me"), 403, "mfa_setup_required")
    # Signing out is always possible (README: a client must be able to leave).
    assert_ok(api_client.post(f"{API}/logout", {"refresh": session["refresh"]}, format="json"))
