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


def test_token_session_data_is_what_the_token_session_serializer_says(user):
    from accounts.api.serializers import (
        CodeLoginSessionSerializer,
        TokenSessionSerializer,
        token_session_data,
    )
    from accounts.services.tokens import session_open
    from authsite.client import ClientInfo

    pair = session_open(user=user, client=ClientInfo())
    fields = {
        "access": pair.access,
        "refresh": pair.refresh,
        "token_type": "Bearer",
        "expires_at": pair.expires_at,
        "refresh_expires_at": pair.refresh_expires_at,
        "session_id": pair.session.pk,
        "user": pair.session.user,
    }
    for built, expected in (
        (token_session_data(pair), TokenSessionSerializer(fields).data),
        (
            token_session_data(pair, created=True),
            CodeLoginSessionSerializer({**fields, "created": True}).data,
        ),
    ):
        assert built == dict(expected)
        assert list(built) == list(expected)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "validation_error"),
        ({"refresh": ""}, 400, "validation_error"),
        ({"refresh": None}, 400, "validation_error"),
        ({"refresh": "x" * 4097}, 400, "validation_error"),
        ({"refresh": "a\u0000b"}, 400, "validation_error"),
        ({"refresh": "not.a.token"}, 401, "token_invalid"),
        ([], 400, "validation_error"),
    ],
)
def test_refresh_input_is_checked_as_the_serializer_checks_it(api_client, body, status, code):
    response = api_client.post("/api/v1/auth/token/refresh", body, format="json")
    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def test_a_refresh_token_with_spaces_around_it_still_refreshes(api_client, user):
    first = assert_ok(
        api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
        )
    )
    padded = {"refresh": f"  {first['refresh']}\n"}
    assert_ok(api_client.post("/api/v1/auth/token/refresh", padded, format="json"))
