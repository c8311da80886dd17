import pytest

from accounts.models import SecurityEvent
from accounts.tests.helpers import assert_error, assert_ok, comparable_content

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
PASSWORD = "Correct-Horse-9-Battery"


@pytest.fixture
def hasher_calls(monkeypatch):
    """Count every run of the password hasher (encode or verify)."""
    from django.contrib.auth.hashers import Argon2PasswordHasher as hasher_class

    calls = {"count": 0}
    original_encode, original_verify = hasher_class.encode, hasher_class.verify

    def encode(self, *args, **kwargs):
        calls["count"] += 1
        return original_encode(self, *args, **kwargs)

    def verify(self, *args, **kwargs):
        calls["count"] += 1
        return original_verify(self, *args, **kwargs)

    monkeypatch.setattr(hasher_class, "encode", encode)
    monkeypatch.setattr(hasher_class, "verify", verify)
    return calls


@pytest.mark.parametrize(
    "body",
    [
        {"identifier": "alice@example.com"},
        {"email": "ALICE@example.com"},
        {"identifier": "+919876543210"},
        {"phone": "9876543210", "dialing_code": "91"},
        {"identifier": "9876543210", "dialing_code": "+91"},
        {"identifier": "alice_1"},
        {"username": "Alice_1"},
    ],
)
def test_login_by_email_phone_or_username(api_client, make_user, body):
    user = make_user(email="alice@example.com", phone="+919876543210", username="alice_1")
    data = assert_ok(api_client.post(LOGIN, {**body, "password": PASSWORD}, format="json"))
    assert data["user"]["id"] == user.id
    assert data["token_type"] == "Bearer"
    assert {"access", "refresh", "expires_at", "refresh_expires_at", "user"} <= set(data)
    assert set(data["user"]) == {
        "id",
        "email",
        "phone",
        "username",
        "email_verified",
        "phone_verified",
        "pending_email",
        "pending_phone",
    }
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {data['access']}")
    assert assert_ok(api_client.get("/api/v1/auth/me"))["id"] == user.id


def test_unknown_identifier_and_wrong_password_are_byte_identical(api_client, user, hasher_calls):
    hasher_calls["count"] = 0
    wrong = api_client.post(
        LOGIN, {"email": user.email, "password": "Wrong-Horse-9-x"}, format="json"
    )
    wrong_calls = hasher_calls["count"]
    hasher_calls["count"] = 0
    unknown = api_client.post(
        LOGIN, {"email": "nobody@example.com", "password": "Wrong-Horse-9-x"}, format="json"
    )
    unknown_calls = hasher_calls["count"]
    assert_error(wrong, 401, "invalid_credentials")
    assert wrong.status_code == unknown.status_code
    assert comparable_content(wrong) == comparable_content(unknown)
    assert wrong_calls == unknown_calls == 1


def test_passwordless_account_costs_one_hash_too(api_client, make_user, hasher_calls):
    make_user(email="nopass@example.com", password=None)
    hasher_calls["count"] = 0
    response = api_client.post(
        LOGIN, {"email": "nopass@example.com", "password": "Wrong-Horse-9-x"}, format="json"
    )
    assert_error(response, 401, "invalid_credentials")
    assert hasher_calls["count"] == 1


def test_unverified_account_is_told_only_after_the_right_password(api_client, make_user):
    make_user(email="unv@example.com", verified=False)
    assert_error(
        api_client.post(
            LOGIN, {"email": "unv@example.com", "password": "Wrong-9-Horse-x"}, format="json"
        ),
        401,
        "invalid_credentials",
    )
    body = assert_error(
        api_client.post(LOGIN, {"email": "unv@example.com", "password": PASSWORD}, format="json"),
        403,
        "account_not_verified",
    )
    assert body["data"]["verification"] == {"channel": "email", "destination": "u***@example.com"}


def test_inactive_account_is_told_only_after_the_right_password(api_client, make_user):
    make_user(email="off@example.com", is_active=False)
    wrong = api_client.post(
        LOGIN, {"email": "off@example.com", "password": "Wrong-9-Horse-x"}, format="json"
    )
    unknown = api_client.post(
        LOGIN, {"email": "no@example.com", "password": "Wrong-9-Horse-x"}, format="json"
    )
    assert comparable_content(wrong) == comparable_content(unknown)
    assert_error(
        api_client.post(LOGIN, {"email": "off@example.com", "password": PASSWORD}, format="json"),
        403,
        "account_inactive",
    )


def test_password_is_compared_exactly(api_client, make_user):
    long_password = "Aa1!" + "x" * 124
    make_user(email="long@example.com", password=long_password)
    assert len(long_password) == 128
    assert_ok(
        api_client.post(
            LOGIN, {"email": "long@example.com", "password": long_password}, format="json"
        )
    )
    for attempt in (
        long_password[:64],
        long_password.upper(),
        long_password + " ",
        " " + long_password,
    ):
        assert_error(
            api_client.post(
                LOGIN, {"email": "long@example.com", "password": attempt}, format="json"
            ),
            401,
            "invalid_credentials",
        )


def test_a_one_megabyte_password_is_a_fast_400(api_client, user, hasher_calls):
    hasher_calls["count"] = 0
    response = api_client.post(
        LOGIN, {"email": user.email, "password": "A1!" + "x" * 1_000_000}, format="json"
    )
    assert_error(response, 400, "validation_error")
    assert hasher_calls["count"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"password": PASSWORD},
        {"email": "a@example.com", "phone": "+919876543210", "password": PASSWORD},
        {"email": "not-an-email", "password": PASSWORD},
        {"identifier": "a@example.com"},
        {"identifier": ["a@example.com"], "password": PASSWORD},
        {"phone": "12", "password": PASSWORD},
    ],
)
def test_bad_login_bodies_are_validation_errors(api_client, body):
    assert_error(api_client.post(LOGIN, body, format="json"), 400, "validation_error")


def test_login_records_security_events(api_client, user):
    api_client.post(LOGIN, {"email": user.email, "password": "Wrong-9-Horse-x"}, format="json")
    api_client.post(LOGIN, {"email": user.email, "password": PASSWORD}, format="json")
    kinds = list(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert SecurityEvent.LOGIN_FAILURE in kinds and SecurityEvent.LOGIN_SUCCESS in kinds
    for event in SecurityEvent.objects.all():
        assert "Horse" not in event.identifier + event.user_agent
        assert event.identifier in ("", "al***@example.com")


def test_login_updates_last_login(api_client, user):
    assert user.last_login is None
    api_client.post(LOGIN, {"email": user.email, "password": PASSWORD}, format="json")
    user.refresh_from_db()
    assert user.last_login is not None
