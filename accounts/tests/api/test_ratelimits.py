"""Rate limits (SPEC §11, §14 rule 3)."""

import pytest

from accounts.tests.helpers import assert_error, assert_ok

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
PASSWORD = "Correct-Horse-9-Battery"


def _attempt(api_client, email, password, n):
    return api_client.post(
        LOGIN,
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=f"10.0.{n // 250}.{n % 250 + 1}",
    )


@pytest.mark.parametrize("email", ["alice@example.com", "nobody@example.com"])
def test_failures_per_identifier_lock_whatever_the_ip(api_client, user, settings, email):
    limit = settings.LOGIN_FAILURE_LIMIT
    for n in range(limit):
        assert_error(_attempt(api_client, email, "Wrong-Horse-9-x", n), 401, "invalid_credentials")
    response = _attempt(api_client, email, "Wrong-Horse-9-x", limit)
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) == settings.LOGIN_LOCKOUT_BASE
    # Even the right password waits (when the account exists).
    response = _attempt(api_client, email, PASSWORD, limit + 1)
    assert_error(response, 429, "rate_limited")


def test_unknown_identifier_sees_the_same_sequence(api_client, user, settings):
    def run(email):
        out = []
        for n in range(settings.LOGIN_FAILURE_LIMIT + 1):
            response = _attempt(api_client, email, "Wrong-Horse-9-x", n)
            out.append((response.status_code, response.json()["code"], response.get("Retry-After")))
        return out

    assert run("alice@example.com") == run("nobody@example.com")


def test_the_lock_grows_with_further_failures(api_client, user, settings, clock):
    limit = settings.LOGIN_FAILURE_LIMIT
    for n in range(limit):
        _attempt(api_client, user.email, "Wrong-Horse-9-x", n)
    clock.advance(settings.LOGIN_LOCKOUT_BASE + 1)
    assert_error(
        _attempt(api_client, user.email, "Wrong-Horse-9-x", 100), 401, "invalid_credentials"
    )
    response = _attempt(api_client, user.email, "Wrong-Horse-9-x", 101)
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) == 2 * settings.LOGIN_LOCKOUT_BASE


def test_a_success_resets_the_count(api_client, user, settings):
    for n in range(settings.LOGIN_FAILURE_LIMIT - 1):
        _attempt(api_client, user.email, "Wrong-Horse-9-x", n)
    assert_ok(_attempt(api_client, user.email, PASSWORD, 50))
    for n in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert_error(
            _attempt(api_client, user.email, "Wrong-Horse-9-x", 60 + n), 401, "invalid_credentials"
        )


def test_a_locked_user_can_still_reset_the_password(api_client, user, settings):
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        _attempt(api_client, user.email, "Wrong-Horse-9-x", n)
    assert_ok(api_client.post("/api/v1/auth/password/forgot", {"email": user.email}, format="json"))


def test_per_ip_limit_on_sign_in(api_client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "login_ip": "3/m"}
    for n in range(3):
        api_client.post(
            LOGIN,
            {"email": f"u{n}@example.com", "password": "x"},
            format="json",
            REMOTE_ADDR="10.9.9.9",
        )
    response = api_client.post(
        LOGIN, {"email": "u9@example.com", "password": "x"}, format="json", REMOTE_ADDR="10.9.9.9"
    )
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    # Another IP is not affected.
    other = api_client.post(
        LOGIN, {"email": "u9@example.com", "password": "x"}, format="json", REMOTE_ADDR="10.9.9.10"
    )
    assert other.status_code != 429


def test_per_ip_limit_on_every_unauthenticated_post(api_client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "anon_ip": "2/m"}
    for _ in range(2):
        api_client.post(
            "/api/v1/auth/token/verify", {"token": "x"}, format="json", REMOTE_ADDR="10.8.8.8"
        )
    assert_error(
        api_client.post(
            "/api/v1/auth/token/verify", {"token": "x"}, format="json", REMOTE_ADDR="10.8.8.8"
        ),
        429,
        "rate_limited",
    )


def test_ratelimit_enable_false_switches_ip_limits_off(api_client, settings):
    settings.RATELIMIT_ENABLE = False
    settings.RATELIMITS = {**settings.RATELIMITS, "anon_ip": "1/m"}
    for _ in range(3):
        response = api_client.post("/api/v1/auth/token/verify", {"token": "x"}, format="json")
        assert response.status_code == 401


def test_forwarded_for_is_ignored_without_trusted_proxies(api_client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "anon_ip": "2/m"}
    for n in range(2):
        api_client.post(
            "/api/v1/auth/token/verify",
            {"token": "x"},
            format="json",
            REMOTE_ADDR="10.7.7.7",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}",
        )
    response = api_client.post(
        "/api/v1/auth/token/verify",
        {"token": "x"},
        format="json",
        REMOTE_ADDR="10.7.7.7",
        HTTP_X_FORWARDED_FOR="1.2.3.99",
    )
    assert_error(response, 429, "rate_limited")


def test_trusted_proxy_count_picks_the_client_from_forwarded_for(api_client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATELIMITS = {**settings.RATELIMITS, "anon_ip": "2/m"}
    for _ in range(2):
        api_client.post(
            "/api/v1/auth/token/verify",
            {"token": "x"},
            format="json",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="5.5.5.5",
        )
    assert_error(
        api_client.post(
            "/api/v1/auth/token/verify",
            {"token": "x"},
            format="json",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="5.5.5.5",
        ),
        429,
        "rate_limited",
    )
    # A different client behind the same proxy has its own count.
    other = api_client.post(
        "/api/v1/auth/token/verify",
        {"token": "x"},
        format="json",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    assert other.status_code == 401
