import pytest
from django.core import mail

from accounts.models import User
from accounts.tests.helpers import (
    CODE_RE,
    assert_error,
    assert_ok,
    last_code_for,
    messages_to,
    wrong_code,
)

pytestmark = pytest.mark.django_db

REQUEST = "/api/v1/auth/otp/request"
VERIFY = "/api/v1/auth/otp/verify"
RESEND = "/api/v1/auth/otp/resend"


def test_code_login_for_an_existing_account(api_client, user):
    data = assert_ok(api_client.post(REQUEST, {"email": user.email}, format="json"))
    assert data["channel"] == "email" and data["destination"] == "al***@example.com"
    code = last_code_for(user.email)
    session = assert_ok(api_client.post(VERIFY, {"email": user.email, "otp": code}, format="json"))
    assert session["created"] is False
    assert session["user"]["id"] == user.id
    # Single use.
    assert_error(
        api_client.post(VERIFY, {"email": user.email, "otp": code}, format="json"),
        400,
        "otp_invalid",
    )


def test_code_login_by_phone_with_dialing_code(api_client, make_user, sms_outbox):
    user = make_user(phone="+919876543210")
    assert_ok(
        api_client.post(REQUEST, {"phone": "9876543210", "dialing_code": "91"}, format="json")
    )
    code = last_code_for("+919876543210")
    session = assert_ok(
        api_client.post(VERIFY, {"phone": "+91 98765 43210", "otp": code}, format="json")
    )
    assert session["user"]["id"] == user.id


def test_first_code_of_an_unknown_address_creates_the_account(api_client):
    assert_ok(api_client.post(REQUEST, {"email": "newbie@example.com"}, format="json"))
    code = last_code_for("newbie@example.com")
    session = assert_ok(
        api_client.post(VERIFY, {"email": "newbie@example.com", "otp": code}, format="json")
    )
    assert session["created"] is True
    user = User.objects.get(email="newbie@example.com")
    assert user.email_verified and not user.has_usable_password()
    assert hasattr(user, "profile")


def test_unknown_address_without_account_creation_gets_a_notice(api_client, settings):
    settings.OTP_LOGIN_CREATES_ACCOUNT = False
    assert_ok(api_client.post(REQUEST, {"email": "ghost@example.com"}, format="json"))
    notice = messages_to("ghost@example.com")[-1]
    assert CODE_RE.search(notice) is None
    assert_error(
        api_client.post(VERIFY, {"email": "ghost@example.com", "otp": "123456"}, format="json"),
        400,
        "otp_invalid",
    )
    assert not User.objects.filter(email="ghost@example.com").exists()


def test_code_request_answers_identically_for_known_unknown_and_inactive(api_client, make_user):
    make_user(email="known@example.com")
    make_user(email="gone@example.com", is_active=False)
    bodies = []
    for email in ("known@example.com", "unknown@example.com", "gone@example.com"):
        response = api_client.post(REQUEST, {"email": email}, format="json")
        assert response.status_code == 200
        body = response.json()
        body["data"]["destination"] = body["data"]["destination"].split("@")[1]
        bodies.append(body)
    assert bodies[0] == bodies[1] == bodies[2]
    # The inactive account was sent nothing.
    assert messages_to("gone@example.com") == []


def test_unverified_account_becomes_verified_by_a_login_code(api_client, make_user):
    user = make_user(email="unv@example.com", verified=False)
    api_client.post(REQUEST, {"email": user.email}, format="json")
    assert_ok(
        api_client.post(
            VERIFY, {"email": user.email, "otp": last_code_for(user.email)}, format="json"
        )
    )
    user.refresh_from_db()
    assert user.email_verified


def test_inactive_account_cannot_sign_in_with_a_code(api_client, make_user):
    make_user(email="gone@example.com", is_active=False)
    api_client.post(REQUEST, {"email": "gone@example.com"}, format="json")
    assert_error(
        api_client.post(VERIFY, {"email": "gone@example.com", "otp": "123456"}, format="json"),
        400,
        "otp_invalid",
    )


def test_five_wrong_codes_kill_the_code(api_client, user):
    api_client.post(REQUEST, {"email": user.email}, format="json")
    code = last_code_for(user.email)
    for _attempt in range(4):
        assert_error(
            api_client.post(VERIFY, {"email": user.email, "otp": wrong_code(code)}, format="json"),
            400,
            "otp_invalid",
        )
    assert_error(
        api_client.post(VERIFY, {"email": user.email, "otp": wrong_code(code)}, format="json"),
        400,
        "otp_attempts_exceeded",
    )
    assert_error(
        api_client.post(VERIFY, {"email": user.email, "otp": code}, format="json"),
        400,
        "otp_attempts_exceeded",
    )


def test_resend_honours_the_cooldown_and_kills_the_previous_code(api_client, user, clock):
    api_client.post(REQUEST, {"email": user.email}, format="json")
    first = last_code_for(user.email)
    response = api_client.post(RESEND, {"email": user.email, "purpose": "login"}, format="json")
    body = assert_error(response, 429, "otp_cooldown")
    assert response["Retry-After"] == "30"
    assert "30" in body["message"] or int(response["Retry-After"]) == 30
    clock.advance(31)
    assert_ok(api_client.post(RESEND, {"email": user.email, "purpose": "login"}, format="json"))
    second = last_code_for(user.email)
    if second != first:
        assert_error(
            api_client.post(VERIFY, {"email": user.email, "otp": first}, format="json"),
            400,
            "otp_invalid",
        )
    assert_ok(api_client.post(VERIFY, {"email": user.email, "otp": second}, format="json"))


def test_hourly_send_cap(api_client, user, clock):
    for _ in range(4):
        assert_ok(api_client.post(RESEND, {"email": user.email, "purpose": "login"}, format="json"))
        clock.advance(31)
    response = api_client.post(RESEND, {"email": user.email, "purpose": "login"}, format="json")
    assert_error(response, 429, "otp_send_limit")
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("purpose", ["login", "password_reset"])
def test_resend_for_each_public_purpose_answers_the_same(api_client, purpose):
    data = assert_ok(
        api_client.post(RESEND, {"email": "anyone@example.com", "purpose": purpose}, format="json")
    )
    assert data["channel"] == "email"


def test_resend_for_signup_sends_a_new_code_for_the_attempt(api_client, clock):
    started = assert_ok(
        api_client.post(
            "/api/v1/auth/signup",
            {"email": "pending@example.com", "password": "Correct-Horse-9-Battery"},
            format="json",
        ),
        201,
    )
    clock.advance(31)
    mail.outbox.clear()
    assert_ok(
        api_client.post(
            RESEND, {"signup_token": started["signup_token"], "purpose": "signup"}, format="json"
        )
    )
    code = last_code_for("pending@example.com")
    assert_ok(
        api_client.post(
            "/api/v1/auth/signup/verify",
            {"signup_token": started["signup_token"], "otp": code},
            format="json",
        )
    )


@pytest.mark.parametrize(
    "body",
    [
        {"purpose": "signup"},
        {"purpose": "signup", "email": "pending@example.com"},
        {"purpose": "signup", "signup_token": "unknown"},
    ],
)
def test_resend_for_signup_needs_a_live_signup_token(api_client, body):
    response = assert_error(api_client.post(RESEND, body, format="json"), 400, "validation_error")
    assert "signup_token" in response["errors"]


def test_resend_contact_change_needs_a_token(api_client):
    assert_error(
        api_client.post(
            RESEND, {"email": "x@example.com", "purpose": "contact_change"}, format="json"
        ),
        401,
        "not_authenticated",
    )


def test_resend_with_an_unknown_purpose_is_a_validation_error(api_client):
    body = assert_error(
        api_client.post(RESEND, {"email": "x@example.com", "purpose": "teleport"}, format="json"),
        400,
        "validation_error",
    )
    assert "purpose" in body["errors"]


def test_codes_are_exposed_only_in_development(api_client, settings, user):
    settings.OTP_EXPOSE_IN_RESPONSE = True
    data = assert_ok(api_client.post(REQUEST, {"email": user.email}, format="json"))
    assert data["otp"] == last_code_for(user.email)


def test_a_wrong_code_says_the_tries_it_has_left(api_client, user):
    assert_ok(api_client.post(REQUEST, {"email": user.email}, format="json"))
    wrong = wrong_code(last_code_for(user.email))
    body = assert_error(
        api_client.post(VERIFY, {"email": user.email, "otp": wrong}, format="json"),
        400,
        "otp_invalid",
    )
    assert body["data"] == {"attempts_left": 4}
    assert body["message"] == "Invalid or expired code. 4 tries left."
