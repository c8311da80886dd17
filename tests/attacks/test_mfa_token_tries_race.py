"""SPEC §16.1: five wrong second-factor tries kill the ``mfa_token``.

Found by an attacker's pass on MariaDB: ten wrong TOTP codes sent at once
for one token got seven checked. The token's live tries were read when it
was looked up and counted only after the factor was checked, so every
request in flight passed the look-up. Each of them also counted toward the
factor's consecutive-failure ceiling (§18.3).

Played here without threads: the fifth wrong try is being checked when
another one arrives for the same token (a second request, made from inside
the first one's check)."""

from __future__ import annotations

import pyotp
import pytest

from accounts.models import Authenticator, MfaChallenge, SecurityEvent
from accounts.services import mfa, signin
from authsite import clock as clock_module
from authsite.client import ClientInfo
from authsite.errors import OtpInvalid, TokenInvalid
from conftest import STRONG_PASSWORD, CommitAPIClient

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"


def _token_of_an_account_with_totp(api_client, user, clock) -> tuple[str, str]:
    session = api_client.post(
        f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
    ).json()["data"]
    owner = CommitAPIClient()
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    secret = owner.post(f"{API}/mfa/totp/setup", format="json").json()["data"]["secret"]
    code = pyotp.TOTP(secret).at(clock_module.now().timestamp())
    assert owner.post(f"{API}/mfa/totp/confirm", {"code": code}, format="json").status_code == 200
    clock.advance(60)
    again = api_client.post(
        f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
    )
    assert again.json()["code"] == "mfa_required"
    return again.json()["data"]["mfa_token"], secret


def _wrong(api_client, token: str):
    return api_client.post(
        f"{API}/mfa/verify",
        {"mfa_token": token, "method": "totp", "code": "000000"},
        format="json",
    )


def test_a_try_in_flight_while_the_fifth_is_checked_gets_no_check(
    api_client, user, clock, settings, monkeypatch
):
    token, _secret = _token_of_an_account_with_totp(api_client, user, clock)
    for _ in range(settings.MFA_MAX_ATTEMPTS - 1):
        assert _wrong(api_client, token).json()["code"] == "otp_invalid"

    checks = []
    other = []
    check = mfa.factor_check

    def check_while_another_try_arrives(**kwargs):
        checks.append(kwargs["code"])
        if len(checks) == 1:
            try:
                signin.signin_mfa(
                    mfa_token=token,
                    method="totp",
                    code="111111",
                    client=ClientInfo(),
                    kind=signin.API,
                )
            except (OtpInvalid, TokenInvalid) as exc:
                other.append(exc.code)
        return check(**kwargs)

    monkeypatch.setattr(mfa, "factor_check", check_while_another_try_arrives)
    fifth = _wrong(api_client, token)

    assert fifth.json()["code"] == "otp_invalid"
    assert fifth.json()["data"]["attempts_left"] == 0
    assert other == ["token_invalid"]
    assert checks == ["000000"]  # the try in flight was never checked
    assert MfaChallenge.objects.get().failures == settings.MFA_MAX_ATTEMPTS
    totp = Authenticator.objects.get(user=user, kind=Authenticator.Kind.TOTP)
    assert totp.failures == settings.MFA_MAX_ATTEMPTS
    assert SecurityEvent.objects.filter(kind="mfa_failed").count() == settings.MFA_MAX_ATTEMPTS


def test_a_refused_method_costs_no_try(api_client, user, clock, settings):
    # A try that checks no factor (a method this account does not have) is
    # given back.
    token, secret = _token_of_an_account_with_totp(api_client, user, clock)
    for _ in range(settings.MFA_MAX_ATTEMPTS + 1):
        response = api_client.post(
            f"{API}/mfa/verify",
            {"mfa_token": token, "method": "code", "code": "123456"},
            format="json",
        )
        assert response.json()["code"] == "validation_error"
    assert MfaChallenge.objects.get().failures == 0
    right = pyotp.TOTP(secret).at(clock_module.now().timestamp())
    response = api_client.post(
        f"{API}/mfa/verify", {"mfa_token": token, "method": "totp", "code": right}, format="json"
    )
    assert response.status_code == 200, response.content
