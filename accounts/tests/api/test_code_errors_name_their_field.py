"""A refused code names the field it came in (SPEC §5.1's example:
``{"code": "otp_invalid", ..., "errors": {"otp": ["..."]}}``), so a client
can show the message under the box the user typed the code into."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.tests.api.test_mfa import bearer, login, mfa_token, totp_now, verify
from accounts.tests.helpers import assert_error, assert_ok, last_code_for, wrong_code
from conftest import CommitAPIClient

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"


def assert_code_refused(response, code: str, field: str) -> dict:
    body = assert_error(response, 400, code)
    assert body["errors"] == {field: [body["message"]]}, body
    return body


def test_a_wrong_sign_in_code_names_otp(api_client, user):
    assert_ok(api_client.post(f"{API}/otp/request", {"email": user.email}, format="json"))
    wrong = wrong_code(last_code_for(user.email))
    body = assert_code_refused(
        api_client.post(f"{API}/otp/verify", {"email": user.email, "otp": wrong}, format="json"),
        "otp_invalid",
        "otp",
    )
    # What the error said before stays: the tries left.
    assert body["data"]["attempts_left"] == settings.OTP_MAX_ATTEMPTS - 1


def test_a_code_out_of_tries_names_otp(api_client, user):
    assert_ok(api_client.post(f"{API}/otp/request", {"email": user.email}, format="json"))
    code = last_code_for(user.email)
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        api_client.post(
            f"{API}/otp/verify", {"email": user.email, "otp": wrong_code(code)}, format="json"
        )
    assert_code_refused(
        api_client.post(f"{API}/otp/verify", {"email": user.email, "otp": code}, format="json"),
        "otp_attempts_exceeded",
        "otp",
    )


def test_a_wrong_sign_up_code_names_otp(api_client):
    email = "newcomer@example.com"
    data = assert_ok(
        api_client.post(
            f"{API}/signup", {"email": email, "password": "Correct-Horse-9!"}, format="json"
        ),
        201,
    )
    wrong = wrong_code(last_code_for(email))
    assert_code_refused(
        api_client.post(
            f"{API}/signup/verify",
            {"signup_token": data["signup_token"], "otp": wrong},
            format="json",
        ),
        "otp_invalid",
        "otp",
    )


def test_a_wrong_reset_code_names_otp(api_client, user):
    assert_ok(api_client.post(f"{API}/password/forgot", {"email": user.email}, format="json"))
    wrong = wrong_code(last_code_for(user.email))
    assert_code_refused(
        api_client.post(
            f"{API}/password/forgot/verify", {"email": user.email, "otp": wrong}, format="json"
        ),
        "otp_invalid",
        "otp",
    )


def test_a_wrong_authenticator_code_names_code(auth_client):
    secret = assert_ok(auth_client.post(f"{API}/mfa/totp/setup", format="json"))["secret"]
    wrong = wrong_code(totp_now(secret))
    assert_code_refused(
        auth_client.post(f"{API}/mfa/totp/confirm", {"code": wrong}, format="json"),
        "otp_invalid",
        "code",
    )


def test_a_wrong_second_step_names_code(user, api_client):
    client = bearer(CommitAPIClient(), assert_ok(login(api_client, user.email))["access"])
    secret = assert_ok(client.post(f"{API}/mfa/totp/setup", format="json"))["secret"]
    assert_ok(client.post(f"{API}/mfa/totp/confirm", {"code": totp_now(secret)}, format="json"))
    token = mfa_token(api_client, user.email)["mfa_token"]
    assert_code_refused(
        verify(api_client, token, "totp", wrong_code(totp_now(secret))), "otp_invalid", "code"
    )


def test_errors_the_service_named_are_kept(api_client):
    # A refusal that already names its fields keeps them (a validation error
    # on the code's shape names otp itself).
    body = assert_error(
        api_client.post(
            f"{API}/otp/verify", {"email": "a@example.com", "otp": "12-34"}, format="json"
        ),
        400,
        "validation_error",
    )
    assert set(body["errors"]) == {"otp"}
