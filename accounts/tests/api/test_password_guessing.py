"""A stolen access token is no unlimited password oracle: the endpoints that
ask for the current password share the sign-in lockout (SPEC §14 rule 3)."""

import pytest

from accounts.tests.helpers import assert_error, assert_ok

pytestmark = pytest.mark.django_db

WRONG = "Wrong-Horse-9-x"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "post",
            "/api/v1/auth/password/change",
            {"current_password": WRONG, "new_password": "Brand-New-Horse-8"},
        ),
        ("post", "/api/v1/auth/contact/change", {"email": "new@example.com", "password": WRONG}),
        ("delete", "/api/v1/auth/account", {"password": WRONG}),
    ],
)
def test_current_password_guesses_lock_like_sign_in(
    auth_client, api_client, user, settings, method, path, body
):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = getattr(auth_client, method)(path, body, format="json")
        assert_error(response, 400, "current_password_incorrect")
    response = getattr(auth_client, method)(path, body, format="json")
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    # The account's password sign-in is locked as well, whatever the IP.
    locked = api_client.post(
        "/api/v1/auth/login",
        {"email": user.email, "password": "Correct-Horse-9-Battery"},
        format="json",
        REMOTE_ADDR="10.4.4.4",
    )
    assert_error(locked, 429, "rate_limited")


def test_a_password_change_with_the_right_password_clears_the_count(auth_client, settings):
    path = "/api/v1/auth/password/change"
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        body = {"current_password": WRONG, "new_password": "Brand-New-Horse-8"}
        assert_error(auth_client.post(path, body, format="json"), 400, "current_password_incorrect")
    fresh = assert_ok(
        auth_client.post(
            path,
            {"current_password": "Correct-Horse-9-Battery", "new_password": "Brand-New-Horse-8"},
            format="json",
        )
    )
    auth_client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        body = {"current_password": WRONG, "new_password": "Another-Horse-7-x"}
        assert_error(auth_client.post(path, body, format="json"), 400, "current_password_incorrect")
