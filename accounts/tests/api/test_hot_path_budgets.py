"""The hot paths' statements (issue 21), through the real HTTP stack: an
authenticated ``GET /auth/me`` is the one query that loads session and user
together; a refresh that rotates, with reuse detection, is two (the session
with its user, then the conditional UPDATE that rotates it)."""

import pytest

from accounts.tests.helpers import assert_ok

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-9-Battery"


def test_me_is_one_statement(auth_client, user, django_assert_num_queries):
    with django_assert_num_queries(1):
        data = assert_ok(auth_client.get("/api/v1/auth/me"))
    assert data["id"] == user.id


def test_refresh_with_rotation_is_at_most_two_statements(
    api_client, user, clock, django_assert_max_num_queries
):
    first = assert_ok(
        api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
        )
    )
    with django_assert_max_num_queries(2):
        second = assert_ok(
            api_client.post(
                "/api/v1/auth/token/refresh", {"refresh": first["refresh"]}, format="json"
            )
        )
    assert second["refresh"] != first["refresh"]
    # It rotated: past the grace, the spent token is reuse and ends the session.
    clock.advance(60)
    reused = api_client.post(
        "/api/v1/auth/token/refresh", {"refresh": first["refresh"]}, format="json"
    )
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_reused"


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "alice@example.com"},
        {"phone": "+919876543210", "verified": False},
        {"email": "bob@example.com", "phone": "+919876543211", "username": "bob"},
    ],
)
def test_me_answers_exactly_what_the_user_serializer_says(make_user, api_client, fields):
    from accounts.api.serializers import UserSerializer
    from accounts.services.tokens import session_open
    from authsite.client import ClientInfo

    user = make_user(**fields)
    user.pending_email = "new@example.com" if "phone" in fields else None
    user.save(update_fields=["pending_email"])
    pair = session_open(user=user, client=ClientInfo())
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    response = api_client.get("/api/v1/auth/me")
    assert response.status_code == 200
    expected = dict(UserSerializer(user).data)
    answered = response.json()["data"]
    assert answered == expected
    assert list(answered) == list(expected)  # the same order too
