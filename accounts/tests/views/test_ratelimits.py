"""The pages count the same named per-IP limits as the API (SPEC §11)."""

import pytest

from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_limits(settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "login_ip": "2/m", "code_request_ip": "2/m"}
    return settings.RATELIMITS


def assert_429_page(response):
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 0 < wait <= 60
    html = response.content.decode()
    assert "Too many requests." in html
    assert "again later" not in html  # the wait is said once, in seconds
    assert f"Try again in {wait} second" in html


def test_sign_in_is_limited_per_ip(browser, user, tight_limits):
    for _ in range(2):
        browser.post("/accounts/login/", {"identifier": user.email, "password": "Wrong-9-x"})
    assert_429_page(
        browser.post("/accounts/login/", {"identifier": user.email, "password": STRONG_PASSWORD})
    )


def test_the_page_and_the_api_share_the_counter(browser, api_client, user, tight_limits):
    browser.post("/accounts/login/", {"identifier": user.email, "password": "Wrong-9-x"})
    api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": "Wrong-9-x"}, format="json"
    )
    assert_429_page(
        browser.post("/accounts/login/", {"identifier": user.email, "password": STRONG_PASSWORD})
    )


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/accounts/password/forgot/", {"identifier": "x{}@example.com"}),
        ("/accounts/login/code/", {"identifier": "x{}@example.com"}),
        (
            "/accounts/signup/",
            {"email": "x{}@example.com", "password": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
        ),
    ],
)
def test_code_requests_are_limited_per_ip(browser, tight_limits, path, data):
    for n in range(2):
        response = browser.post(path, {k: v.format(n) for k, v in data.items()})
        assert response.status_code == 302
    assert_429_page(browser.post(path, {k: v.format(9) for k, v in data.items()}))


def test_a_get_is_never_counted(browser, tight_limits):
    for _ in range(5):
        assert browser.get("/accounts/login/").status_code == 200


def test_limits_can_be_switched_off(browser, user, tight_limits, settings):
    settings.RATELIMIT_ENABLE = False
    for _ in range(4):
        response = browser.post(
            "/accounts/login/", {"identifier": user.email, "password": "Wrong-9-x"}
        )
        assert response.status_code == 200
