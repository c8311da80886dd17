import pytest
from django.core import mail

from accounts.models import SecurityEvent, SignupAttempt, User
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


def _signup(api_client, body, status=201) -> dict:
    return assert_ok(api_client.post(SIGNUP, body, format="json"), status)


def test_signup_by_email_sends_a_code_to_the_email(api_client):
    data = _signup(api_client, {"email": "New@Example.com", "password": PASSWORD})
    assert data["channel"] == "email"
    assert data["destination"] == "n***@example.com"
    assert data["expires_in"] == 600 and data["resend_in"] == 30
    assert data["pending"] is None
    assert "otp" not in data  # never outside development
    assert "user_id" not in data  # no account exists until the code is entered
    assert len(data["signup_token"]) >= 32
    assert not User.objects.filter(email="new@example.com").exists()
    attempt = SignupAttempt.objects.get(email="new@example.com")
    assert attempt.token_hash != data["signup_token"]  # only its hash is kept
    assert attempt.password.startswith("argon2$")
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
    data = _signup(api_client, body)
    assert data["channel"] == "sms"
    assert data["destination"].endswith("3210")
    # The second address was sent a code of its own, and the answer says so.
    assert data["pending"] == {"channel": "email", "destination": "bo***@example.com"}
    email_code = last_code_for("both@example.com")
    code = last_code_for("+919876543210")
    session = assert_ok(
        api_client.post(VERIFY, {"signup_token": data["signup_token"], "otp": code}, format="json")
    )
    user = User.objects.get(phone="+919876543210")
    # The email is pending: not the account's until its own code is entered.
    assert user.email is None and user.pending_email == "both@example.com"
    assert session["user"]["pending_email"] == "both@example.com"
    profile = Profile.objects.get(user=user)
    assert profile.first_name == "John" and profile.gender == "male"
    assert str(profile.date_of_birth) == "1990-01-01"
    assert profile.attributes == {"profile_by": "Self", "religion": 1}
    # The email's code, sent at sign-up, now belongs to the account.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    assert_ok(
        api_client.post(
            "/api/v1/auth/contact/verify",
            {"email": "both@example.com", "otp": email_code},
            format="json",
        )
    )
    user.refresh_from_db()
    assert user.email == "both@example.com" and user.email_verified
    assert user.pending_email is None


def test_verify_makes_the_account_and_opens_a_session(api_client):
    data = _signup(api_client, {"email": "v@example.com", "password": PASSWORD})
    code = last_code_for("v@example.com")
    session = assert_ok(
        api_client.post(
            VERIFY,
            {"signup_token": data["signup_token"], "otp": code, "username": "Vee", "city": "Pune"},
            format="json",
        )
    )
    assert session["token_type"] == "Bearer"
    assert session["access"] and session["refresh"]
    assert session["user"]["email"] == "v@example.com"
    assert session["user"]["email_verified"] is True
    assert session["user"]["username"] == "vee"
    user = User.objects.get(email="v@example.com")
    assert user.email_verified_at is not None
    assert user.check_password(PASSWORD)
    assert user.profile.city == "Pune"
    assert not SignupAttempt.objects.filter(email="v@example.com").exists()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    assert assert_ok(api_client.get("/api/v1/auth/me"))["id"] == user.id
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.VERIFICATION).exists()
    # The sign-up's own event (recorded before the account existed) is the user's too.
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.SIGNUP).exists()


def test_verify_with_a_wrong_code_fails_and_makes_no_account(api_client):
    data = _signup(api_client, {"email": "w@example.com", "password": PASSWORD})
    code = last_code_for("w@example.com")
    assert_error(
        api_client.post(
            VERIFY, {"signup_token": data["signup_token"], "otp": wrong_code(code)}, format="json"
        ),
        400,
        "otp_invalid",
    )
    assert not User.objects.filter(email="w@example.com").exists()


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 129])
def test_verify_with_an_unknown_token_is_a_field_error(api_client, token):
    body = assert_error(
        api_client.post(VERIFY, {"signup_token": token, "otp": "123456"}, format="json"),
        400,
        "validation_error",
    )
    assert "signup_token" in body["errors"]


def test_an_expired_attempt_cannot_be_verified(api_client, clock, settings):
    data = _signup(api_client, {"email": "late@example.com", "password": PASSWORD})
    clock.advance(settings.SIGNUP_ATTEMPT_TTL + 1)
    body = assert_error(
        api_client.post(
            VERIFY, {"signup_token": data["signup_token"], "otp": "123456"}, format="json"
        ),
        400,
        "validation_error",
    )
    assert "signup_token" in body["errors"]


def test_signup_to_a_verified_address_answers_like_a_fresh_signup(api_client, user):
    fresh = api_client.post(
        SIGNUP, {"email": "fresh@example.com", "password": PASSWORD}, format="json"
    )
    taken = api_client.post(SIGNUP, {"email": user.email, "password": PASSWORD}, format="json")
    assert taken.status_code == fresh.status_code == 201
    fresh_body, taken_body = fresh.json(), taken.json()
    assert fresh_body["message"] == taken_body["message"]
    assert set(fresh_body["data"]) == set(taken_body["data"])
    # The owner is told; no second account, password unchanged.
    assert User.objects.filter(email=user.email).count() == 1
    user.refresh_from_db()
    assert user.check_password("Correct-Horse-9-Battery")
    notice = messages_to(user.email)[-1]
    assert "sign up" in notice.lower()
    # Nothing can complete that sign-up: not even a right guess of its code.
    attempt = SignupAttempt.objects.get(email=user.email)
    assert attempt.blocked
    assert_error(
        api_client.post(
            VERIFY,
            {"signup_token": taken_body["data"]["signup_token"], "otp": "000000"},
            format="json",
        ),
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


def test_a_second_signup_for_a_pending_address_is_an_attempt_of_its_own(api_client, clock):
    first = _signup(api_client, {"email": "p@example.com", "password": PASSWORD})
    first_code = last_code_for("p@example.com")
    clock.advance(31)
    new_password = "Another-Horse-7-Staple"
    second = _signup(api_client, {"email": "p@example.com", "password": new_password})
    assert SignupAttempt.objects.filter(email="p@example.com").count() == 2
    # Each completes only with its own code and token; the first still works.
    session = assert_ok(
        api_client.post(
            VERIFY, {"signup_token": first["signup_token"], "otp": first_code}, format="json"
        )
    )
    user = User.objects.get(pk=session["user"]["id"])
    assert user.check_password(PASSWORD) and not user.check_password(new_password)
    # The account now holds the address: the other attempt ended with it.
    assert not SignupAttempt.objects.filter(email="p@example.com").exists()
    assert_error(
        api_client.post(
            VERIFY,
            {"signup_token": second["signup_token"], "otp": last_code_for("p@example.com")},
            format="json",
        ),
        400,
        "validation_error",
    )


def test_signup_within_the_cooldown_is_refused_and_stores_nothing(api_client):
    _signup(api_client, {"email": "c@example.com", "password": PASSWORD})
    response = api_client.post(
        SIGNUP, {"email": "c@example.com", "password": "Another-Horse-7-Staple"}, format="json"
    )
    assert_error(response, 429, "otp_cooldown")
    assert int(response["Retry-After"]) > 0
    assert SignupAttempt.objects.filter(email="c@example.com").count() == 1


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
    assert not SignupAttempt.objects.filter(email="x@example.com").exists()


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


def test_a_username_taken_since_the_signup_is_asked_for_again_before_the_code_is_spent(
    api_client, make_user
):
    data = _signup(api_client, {"email": "x@example.com", "password": PASSWORD, "username": "pat"})
    make_user(email="quick@example.com", username="pat")
    code = last_code_for("x@example.com")
    body = assert_error(
        api_client.post(VERIFY, {"signup_token": data["signup_token"], "otp": code}, format="json"),
        400,
        "validation_error",
    )
    assert "username" in body["errors"]
    # The code was not spent: the same code with another username works.
    session = assert_ok(
        api_client.post(
            VERIFY,
            {"signup_token": data["signup_token"], "otp": code, "username": "pat2"},
            format="json",
        )
    )
    assert session["user"]["username"] == "pat2"


def test_sms_country_outside_the_allowed_list_is_refused_without_an_account(api_client, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["IN"]
    body = assert_error(
        api_client.post(SIGNUP, {"phone": "+12015550123", "password": PASSWORD}, format="json"),
        400,
        "validation_error",
    )
    assert "phone" in body["errors"]
    assert not SignupAttempt.objects.filter(phone="+12015550123").exists()


def test_signup_by_phone_then_verify_with_dialing_code(api_client, sms_outbox):
    started = _signup(
        api_client, {"phone": "98765 43210", "dialing_code": "+91", "password": PASSWORD}
    )
    code = last_code_for("+919876543210")
    assert sms_outbox[-1].body.rstrip().endswith(f"#{code}")
    data = assert_ok(
        api_client.post(
            VERIFY, {"signup_token": started["signup_token"], "otp": code}, format="json"
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
