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
