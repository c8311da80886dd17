"""SPEC §19.5: the user object shows a pending address, sign-up says a second
code went to it, and a cooldown refusal says how many seconds are left — the
same number as Retry-After."""

from __future__ import annotations

import re

import pytest

from accounts.tests.helpers import assert_ok, last_code_for

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-9-Battery"


def test_signup_says_a_second_code_went_to_the_pending_address(api_client, sms_outbox):
    response = api_client.post(
        "/api/v1/auth/signup",
        {"phone": "+919876543210", "email": "both@example.com", "password": PASSWORD},
        format="json",
    )
    data = assert_ok(response, 201)
    assert data["pending"] == {"channel": "email", "destination": "bo***@example.com"}
    message = response.json()["message"]
    assert "We also sent a code to your email address" in message
    assert last_code_for("both@example.com")

    session = assert_ok(
        api_client.post(
            "/api/v1/auth/signup/verify",
            {"signup_token": data["signup_token"], "otp": last_code_for("+919876543210")},
            format="json",
        )
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    me = assert_ok(api_client.get("/api/v1/auth/me"))
    assert me["email"] is None
    assert me["pending_email"] == "both@example.com"
    assert me["pending_phone"] is None


def test_a_single_address_signup_mentions_no_second_code(api_client):
    response = api_client.post(
        "/api/v1/auth/signup", {"email": "one@example.com", "password": PASSWORD}, format="json"
    )
    assert assert_ok(response, 201)["pending"] is None
    assert response.json()["message"] == "Enter the code we sent to finish signing up."


def test_a_phone_being_added_is_pending_in_the_user_object(auth_client, sms_outbox):
    assert_ok(
        auth_client.post(
            "/api/v1/auth/contact/change",
            {"phone": "+919812345678", "password": PASSWORD},
            format="json",
        )
    )
    me = assert_ok(auth_client.get("/api/v1/auth/me"))
    assert me["pending_phone"] == "+919812345678"
    assert me["phone"] is None and me["email"] == "alice@example.com"
    # Once its code is entered it is the account's, and no longer pending.
    user = assert_ok(
        auth_client.post(
            "/api/v1/auth/contact/verify",
            {"phone": "+919812345678", "otp": last_code_for("+919812345678")},
            format="json",
        )
    )
    assert user["phone"] == "+919812345678" and user["pending_phone"] is None


def test_the_cooldown_message_says_the_seconds_of_retry_after(api_client, user, clock):
    body = {"email": "alice@example.com"}
    assert_ok(api_client.post("/api/v1/auth/otp/request", body, format="json"))
    clock.advance(12)
    response = api_client.post("/api/v1/auth/otp/request", body, format="json")
    assert response.status_code == 429
    error = response.json()
    assert error["code"] == "otp_cooldown"
    assert response["Retry-After"] == "18"
    assert error["message"] == (
        "Please wait before requesting another code. Try again in 18 seconds."
    )
    clock.advance(17)
    response = api_client.post("/api/v1/auth/otp/request", body, format="json")
    assert response["Retry-After"] == "1"
    assert response.json()["message"].endswith("Try again in 1 second.")


def test_every_wait_of_the_api_is_in_its_message(api_client, settings):
    # rate_limited too: the number in the text is Retry-After's.
    settings.RATELIMITS = {**settings.RATELIMITS, "login_ip": "1/m"}
    body = {"email": "nobody@example.com", "password": PASSWORD}
    api_client.post("/api/v1/auth/login", body, format="json")
    response = api_client.post("/api/v1/auth/login", body, format="json")
    assert response.status_code == 429
    seconds = re.search(r"Try again in (\d+) seconds?\.", response.json()["message"])
    assert seconds and seconds.group(1) == response["Retry-After"]
    # Said once (found by an outside audit: "Try again later. Try again in 59 seconds.").
    assert response.json()["message"] == f"Too many requests. {seconds.group(0)}"


def test_the_cooldown_page_says_the_seconds_too(web_client, user, clock):
    web_client.post("/accounts/login/code/", {"identifier": "alice@example.com"})
    clock.advance(5)
    response = web_client.post("/accounts/login/code/", {"identifier": "alice@example.com"})
    assert "Try again in 25 seconds." in response.content.decode()
