import pytest
from django.core import mail

from accounts.models import SecurityEvent, User
from accounts.tests.helpers import (
    CODE_RE,
    assert_error,
    assert_ok,
    last_code_for,
    messages_to,
    wrong_code,
)
from profiles.models import Profile

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v1/auth/signup"
VERIFY = "/api/v1/auth/signup/verify"
PASSWORD = "Correct-Horse-9-Battery"


def test_signup_by_email_sends_a_code_to_the_email(api_client):
    data = assert_ok(
        api_client.post(SIGNUP, {"email": "New@Example.com", "password": PASSWORD}, format="json"),
        201,
    )
    assert data["channel"] == "email"
    assert data["destination"] == "n***@example.com"
    assert data["expires_in"] == 600 and data["resend_in"] == 30
    assert "otp" not in data  # never outside development
    user = User.objects.get(email="new@example.com")
    assert data["user_id"] == user.id
    assert not user.is_verified
    assert last_code_for("new@example.com")


def test_signup_with_phone_and_email_sends_the_code_to_the_phone(api_client, sms_outbox):
    body = {
        "email": "both@example.com",
        "phone": "9876543210",
        "dialing_code": "91",
        "password": PASSWORD,
        "first_name": "John",
        "gender": "male",
        "date_of_birth": "1990-01-01",
        "attributes": {"profile_by": "Self", "religion": 1},
    }
    data = assert_ok(api_client.post(SIGNUP, body, format="json"), 201)
    assert data["channel"] == "sms"
    assert data["destination"].endswith("3210")
    user = User.objects.get(phone="+919876543210")
    # The email is pending: not the account's until its own code is entered.
    assert user.email is None
    assert last_code_for("+919876543210")
    assert last_code_for("both@example.com")
    profile = Profile.objects.get(user=user)
    assert profile.first_name == "John" and profile.gender == "male"
    assert profile.attributes == {"profile_by": "Self", "religion": 1}


def test_verify_marks_the_channel_verified_and_opens_a_session(api_client):
    api_client.post(SIGNUP, {"email": "v@example.com", "password": PASSWORD}, format="json")
    code = last_code_for("v@example.com")
    data = assert_ok(
        api_client.post(
            VERIFY,
            {"email": "v@example.com", "otp": code, "username": "Vee", "city": "Pune"},
            format="json",
        )
    )
    assert data["token_type"] == "Bearer"
    assert data["access"] and data["refresh"]
    assert data["user"]["email"] == "v@example.com"
    assert data["user"]["email_verified"] is True
    assert data["user"]["username"] == "vee"
    user = User.objects.get(email="v@example.com")
    assert user.email_verified_at is not None
    assert user.profile.city == "Pune"
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {data['access']}")
    assert assert_ok(api_client.get("/api/v1/auth/me"))["id"] == user.id
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.VERIFICATION).exists()


def test_verify_with_a_wrong_code_fails_and_keeps_the_account_unverified(api_client):
    api_client.post(SIGNUP, {"email": "w@example.com", "password": PASSWORD}, format="json")
    code = last_code_for("w@example.com")
    assert_error(
        api_client.post(VERIFY, {"email": "w@example.com", "otp": wrong_code(code)}, format="json"),
        400,
        "otp_invalid",
    )
    assert not User.objects.get(email="w@example.com").is_verified


def test_signup_to_a_verified_address_answers_like_a_fresh_signup(api_client, user):
    fresh = api_client.post(
        SIGNUP, {"email": "fresh@example.com", "password": PASSWORD}, format="json"
    )
    taken = api_client.post(SIGNUP, {"email": user.email, "password": PASSWORD}, format="json")
    assert taken.status_code == fresh.status_code == 201
    fresh_body, taken_body = fresh.json(), taken.json()
    assert fresh_body["message"] == taken_body["message"]
    assert set(fresh_body["data"]) == set(taken_body["data"])
    assert type(fresh_body["data"]["user_id"]) is type(taken_body["data"]["user_id"])
    assert taken_body["data"]["user_id"] != user.id
    # The owner is told; no second account, password unchanged.
    assert User.objects.filter(email=user.email).count() == 1
    user.refresh_from_db()
    assert user.check_password("Correct-Horse-9-Battery")
    notice = messages_to(user.email)[-1]
    assert "sign up" in notice.lower()
    # The notice carries no code that could verify anything.
    assert_error(
        api_client.post(VERIFY, {"email": user.email, "otp": "000000"}, format="json"),
        400,
        "otp_invalid",
    )


def test_signup_can_reveal_existing_accounts_when_configured(api_client, user, settings):
    settings.ACCOUNT_SIGNUP_REVEALS_EXISTING = True
    assert_error(
        api_client.post(SIGNUP, {"email": user.email, "password": PASSWORD}, format="json"),
        409,
        "account_exists",
    )


def test_signup_over_a_pending_account_replaces_its_password(api_client, clock):
    api_client.post(SIGNUP, {"email": "p@example.com", "password": PASSWORD}, format="json")
    clock.advance(31)
    new_password = "Another-Horse-7-Staple"
    assert_ok(
        api_client.post(
            SIGNUP, {"email": "p@example.com", "password": new_password}, format="json"
        ),
        201,
    )
    user = User.objects.get(email="p@example.com")
    assert user.check_password(new_password)
    assert User.objects.filter(email="p@example.com").count() == 1
    code = last_code_for("p@example.com")
    assert_ok(api_client.post(VERIFY, {"email": "p@example.com", "otp": code}, format="json"))


def test_signup_within_the_cooldown_is_refused_and_changes_nothing(api_client):
    api_client.post(SIGNUP, {"email": "c@example.com", "password": PASSWORD}, format="json")
    response = api_client.post(
        SIGNUP, {"email": "c@example.com", "password": "Another-Horse-7-Staple"}, format="json"
    )
    assert_error(response, 429, "otp_cooldown")
    assert int(response["Retry-After"]) > 0
    assert User.objects.get(email="c@example.com").check_password(PASSWORD)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"phone": "12", "password": PASSWORD}, "phone"),
        ({"email": "x@example.com"}, "password"),
        ({"email": "x@example.com", "password": "short"}, "password"),
        ({"email": "x@example.com", "password": "alllowercase-and-long"}, "password"),
        ({"email": "x@example.com", "password": PASSWORD, "username": "9 bad name"}, "username"),
        ({"email": "x@example.com", "password": PASSWORD, "gender": "robot"}, "gender"),
        (
            {"email": "x@example.com", "password": PASSWORD, "date_of_birth": "2999-01-01"},
            "date_of_birth",
        ),
    ],
)
def test_signup_validation_errors_name_the_field(api_client, body, field):
    body = assert_error(api_client.post(SIGNUP, body, format="json"), 400, "validation_error")
    assert field in body["errors"]
    assert not User.objects.filter(email="x@example.com").exists()


def test_password_rejection_gives_reasons(api_client):
    body = assert_error(
        api_client.post(SIGNUP, {"email": "x@example.com", "password": "abc"}, format="json"),
        400,
        "validation_error",
    )
    assert any("short" in m for m in body["errors"]["password"])


def test_taken_username_is_a_field_error(api_client, make_user):
    make_user(email="owner@example.com", username="taken")
    body = assert_error(
        api_client.post(
            SIGNUP,
            {"email": "x@example.com", "password": PASSWORD, "username": "TAKEN"},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "username" in body["errors"]


def test_sms_country_outside_the_allowed_list_is_refused_without_an_account(api_client, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["IN"]
    body = assert_error(
        api_client.post(SIGNUP, {"phone": "+12015550123", "password": PASSWORD}, format="json"),
        400,
        "validation_error",
    )
    assert "phone" in body["errors"]
    assert not User.objects.filter(phone="+12015550123").exists()


def test_signup_by_phone_then_verify_with_dialing_code(api_client, sms_outbox):
    assert_ok(
        api_client.post(
            SIGNUP,
            {"phone": "98765 43210", "dialing_code": "+91", "password": PASSWORD},
            format="json",
        ),
        201,
    )
    code = last_code_for("+919876543210")
    assert sms_outbox[-1].body.rstrip().endswith(f"#{code}")
    data = assert_ok(
        api_client.post(
            VERIFY, {"phone": "9876543210", "dialing_code": "91", "otp": code}, format="json"
        )
    )
    assert data["user"]["phone"] == "+919876543210"
    assert data["user"]["phone_verified"] is True


def test_the_notice_to_a_verified_address_holds_no_code(api_client, user):
    mail.outbox.clear()
    api_client.post(SIGNUP, {"email": user.email, "password": PASSWORD}, format="json")
    notices = messages_to(user.email)
    assert len(notices) == 1
    assert CODE_RE.search(notices[0]) is None
