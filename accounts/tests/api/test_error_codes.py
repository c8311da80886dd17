"""The error codes of SPEC §5.1 that each public endpoint can return, seen
from outside (the mechanics are tested in otp/tests and the other files)."""

import pytest

from accounts.tests.helpers import assert_error, assert_ok, last_code_for, wrong_code

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-9-Battery"

PUBLIC_POSTS = {
    "/api/v1/auth/signup": {"email": "rl@example.com", "password": PASSWORD},
    "/api/v1/auth/signup/verify": {"email": "rl@example.com", "otp": "123456"},
    "/api/v1/auth/login": {"email": "rl@example.com", "password": PASSWORD},
    "/api/v1/auth/otp/request": {"email": "rl@example.com"},
    "/api/v1/auth/otp/verify": {"email": "rl@example.com", "otp": "123456"},
    "/api/v1/auth/otp/resend": {"email": "rl@example.com", "purpose": "login"},
    "/api/v1/auth/password/forgot": {"email": "rl@example.com"},
    "/api/v1/auth/password/forgot/verify": {"email": "rl@example.com", "otp": "123456"},
    "/api/v1/auth/password/reset": {
        "email": "rl@example.com",
        "otp": "123456",
        "new_password": PASSWORD,
    },
    "/api/v1/auth/token/refresh": {"refresh": "x"},
    "/api/v1/auth/token/verify": {"token": "x"},
}


@pytest.mark.parametrize("path", list(PUBLIC_POSTS))
def test_every_unauthenticated_post_is_rate_limited_per_ip(api_client, settings, clock, path):
    settings.RATELIMITS = {name: "1/m" for name in settings.RATELIMITS}
    first = api_client.post(path, PUBLIC_POSTS[path], format="json", REMOTE_ADDR="10.1.1.1")
    assert first.status_code != 429
    clock.advance(31)  # past any code cooldown: what answers now is the per-IP limit
    response = api_client.post(path, PUBLIC_POSTS[path], format="json", REMOTE_ADDR="10.1.1.1")
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1


@pytest.mark.parametrize("path", list(PUBLIC_POSTS))
def test_every_public_post_answers_validation_error_to_an_empty_body(api_client, path):
    body = assert_error(api_client.post(path, {}, format="json"), 400, "validation_error")
    assert body["errors"]


@pytest.mark.parametrize(
    ("request_path", "verify_path", "purpose"),
    [
        ("/api/v1/auth/otp/request", "/api/v1/auth/otp/verify", "login"),
        ("/api/v1/auth/password/forgot", "/api/v1/auth/password/forgot/verify", "password_reset"),
    ],
)
def test_the_daily_failure_budget_locks_the_destination(
    api_client, user, clock, settings, request_path, verify_path, purpose
):
    failures = 0
    while failures < settings.OTP_MAX_FAILURES_PER_DAY:
        assert_ok(api_client.post(request_path, {"email": user.email}, format="json"))
        code = last_code_for(user.email)
        for _ in range(4):
            if failures == settings.OTP_MAX_FAILURES_PER_DAY:
                break
            response = api_client.post(
                verify_path, {"email": user.email, "otp": wrong_code(code)}, format="json"
            )
            failures += 1
            assert response.status_code in (400, 429)
        clock.advance(16 * 60)  # a new hour-slot for sends, well inside the 24 h
    response = api_client.post(request_path, {"email": user.email}, format="json")
    assert_error(response, 429, "otp_locked")
    assert int(response["Retry-After"]) > 0


def test_signup_verify_dies_after_five_wrong_codes(api_client):
    started = api_client.post(
        "/api/v1/auth/signup", {"email": "five@example.com", "password": PASSWORD}, format="json"
    ).json()["data"]
    token = started["signup_token"]
    code = last_code_for("five@example.com")
    verify = "/api/v1/auth/signup/verify"
    for _ in range(4):
        assert_error(
            api_client.post(
                verify, {"signup_token": token, "otp": wrong_code(code)}, format="json"
            ),
            400,
            "otp_invalid",
        )
    assert_error(
        api_client.post(verify, {"signup_token": token, "otp": wrong_code(code)}, format="json"),
        400,
        "otp_attempts_exceeded",
    )
    assert_error(
        api_client.post(verify, {"signup_token": token, "otp": code}, format="json"),
        400,
        "otp_attempts_exceeded",
    )


def test_a_login_code_cannot_reset_a_password(api_client, user):
    api_client.post("/api/v1/auth/otp/request", {"email": user.email}, format="json")
    code = last_code_for(user.email)
    assert_error(
        api_client.post(
            "/api/v1/auth/password/reset",
            {"email": user.email, "otp": code, "new_password": "Brand-New-Horse-8"},
            format="json",
        ),
        400,
        "otp_invalid",
    )
    # …and the login code still signs in.
    assert_ok(
        api_client.post(
            "/api/v1/auth/otp/verify", {"email": user.email, "otp": code}, format="json"
        )
    )
