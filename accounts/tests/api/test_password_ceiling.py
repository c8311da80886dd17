"""The consecutive-failure ceiling (SPEC §18.3): after
SIGNIN_MAX_CONSECUTIVE_FAILURES wrong passwords in a row the password stops
working — the right one then fails exactly like a wrong one — until a reset;
a success before the ceiling sets the count back to zero. Counted in the
database (a cache flush does not reset it)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.tests.helpers import assert_error, assert_ok, last_code_for, messages_to
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
WRONG = "Wrong-Horse-9-x"
CEILING = 6


@pytest.fixture(autouse=True)
def small_ceiling(settings):
    settings.SIGNIN_MAX_CONSECUTIVE_FAILURES = CEILING
    settings.LOGIN_FAILURE_LIMIT = 1000  # the windows of §14.3 out of the way
    settings.RATELIMITS = {**settings.RATELIMITS, "login_ip": "1000/m", "anon_ip": "1000/m"}


def login(api_client, password):
    return api_client.post(
        LOGIN, {"email": "alice@example.com", "password": password}, format="json"
    )


def test_the_ceilings_failure_blocks_the_password_until_a_reset(api_client, user):
    for _ in range(CEILING):
        wrong = assert_error(login(api_client, WRONG), 401, "invalid_credentials")
    cache.clear()  # the count lives in the database, not the cache
    right = login(api_client, STRONG_PASSWORD)
    assert right.status_code == 401
    assert right.json()["message"] == wrong["message"]
    assert right.json()["code"] == "invalid_credentials"
    locked = [m for m in messages_to(user.email) if "blocked" in m]
    assert len(locked) == 1
    login(api_client, WRONG)
    assert len([m for m in messages_to(user.email) if "blocked" in m]) == 1  # one notice
    # A reset restores it.
    assert_ok(api_client.post("/api/v1/auth/password/forgot", {"email": user.email}, format="json"))
    new = "Brand-New-Horse-8"
    assert_ok(
        api_client.post(
            "/api/v1/auth/password/reset",
            {"email": user.email, "otp": last_code_for(user.email), "new_password": new},
            format="json",
        )
    )
    assert_ok(login(api_client, new))


def test_a_success_before_the_ceiling_sets_the_count_back(api_client, user):
    for _ in range(CEILING - 1):
        assert_error(login(api_client, WRONG), 401, "invalid_credentials")
    assert_ok(login(api_client, STRONG_PASSWORD))
    user.refresh_from_db()
    assert user.password_failures == 0
    for _ in range(CEILING - 1):
        assert_error(login(api_client, WRONG), 401, "invalid_credentials")
    assert_ok(login(api_client, STRONG_PASSWORD))
