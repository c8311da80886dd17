"""The pages-only block of MIDDLEWARE (authsite.middleware.PagesOnlyMiddleware):
API requests and the probes skip the browser's middleware — sessions, CSRF,
locale, auth, messages, web sessions, the second-factor policy, the device
cookie — and keep everything SPEC §5.1, §11, §14 and §20 ask of them; pages
keep every one of those middleware, CSRF first of all."""

from __future__ import annotations

import pytest
from django.contrib.admin.checks import check_dependencies
from django.core.checks.security.csrf import check_csrf_middleware
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from authsite.client import DEVICE_COOKIE

pytestmark = pytest.mark.django_db

# What each browser middleware leaves on a request it handled.
BROWSER_MARKS = {
    "session": "SessionMiddleware",
    "LANGUAGE_CODE": "LocaleMiddleware",
    "_messages": "MessageMiddleware",
    "auser": "AuthenticationMiddleware",
    "device_id": "DeviceCookieMiddleware",
}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def marks(response) -> set[str]:
    request = response.wsgi_request
    return {name for name in BROWSER_MARKS if name in request.__dict__}


def assert_machine_answer(response) -> None:
    assert marks(response) == set(), "browser middleware ran"
    assert "CSRF_COOKIE" not in response.wsgi_request.META
    assert not response.cookies, dict(response.cookies)
    assert "Cookie" not in response.get("Vary", "")
    for name, value in SECURITY_HEADERS.items():
        assert response[name] == value, name
    assert "no-store" in response["Cache-Control"]
    assert len(response["X-Request-ID"]) == 32


def test_an_authenticated_api_call_skips_the_browser_middleware(auth_client, user):
    response = auth_client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["data"]["id"] == user.id
    assert_machine_answer(response)
    # DRF authenticated the request from its bearer token, by itself.
    assert response.wsgi_request.user == user


def test_api_errors_keep_the_envelope_and_headers(api_client):
    for response in (
        api_client.get("/api/v1/auth/me"),  # DRF: not_authenticated
        api_client.get("/api/v1/no-such-endpoint"),  # URL resolution: not_found
        api_client.post("/api/v1/auth/login", {}, format="json"),  # validation_error
    ):
        body = response.json()
        assert body["success"] is False
        assert body["code"] in ("not_authenticated", "not_found", "validation_error")
        assert body["request_id"] == response["X-Request-ID"]
        assert_machine_answer(response)


def test_the_probes_skip_the_browser_middleware(client):
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_machine_answer(response)


def test_an_unknown_host_is_still_refused_on_the_api(api_client):
    response = api_client.get("/api/v1/auth/me", HTTP_HOST="evil.example.com")
    assert response.status_code == 400


def test_pages_go_through_every_browser_middleware(web_client):
    response = web_client.get("/accounts/login/")
    assert response.status_code == 200
    assert marks(response) == set(BROWSER_MARKS)
    assert DEVICE_COOKIE in response.cookies
    assert "csrftoken" in response.cookies
    for name, value in SECURITY_HEADERS.items():
        assert response[name] == value, name


def test_page_posts_still_need_their_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post(
        "/accounts/login/", {"identifier": user.email, "password": "Correct-Horse-9-Battery"}
    )
    assert refused.status_code == 403
    page = browser.get("/accounts/login/")
    token = page.cookies["csrftoken"].value
    signed_in = browser.post(
        "/accounts/login/",
        {
            "identifier": user.email,
            "password": "Correct-Horse-9-Battery",
            "csrfmiddlewaretoken": token,
        },
    )
    assert signed_in.status_code == 302


def test_a_session_cookie_does_not_sign_an_api_call_in(web_client, user):
    web_client.post(
        "/accounts/login/", {"identifier": user.email, "password": "Correct-Horse-9-Battery"}
    )
    assert web_client.get("/accounts/sessions/").status_code == 200  # signed in, as a browser
    response = web_client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "session" not in response.wsgi_request.__dict__


def test_djangos_checks_still_see_the_browser_middleware():
    # The admin's (session, auth and messages middleware: admin.E408-E410) and
    # the deploy check's CSRF middleware (security.W003) look in MIDDLEWARE.
    admin_errors = [e.id for e in check_dependencies() if e.id.startswith("admin.E4")]
    assert admin_errors == []
    assert check_csrf_middleware(None) == []


@override_settings(
    MIDDLEWARE=[
        "authsite.middleware.PagesOnlyMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
    ]
)
def test_a_block_without_its_end_is_refused_at_start_up():
    with pytest.raises(ImproperlyConfigured, match="PagesOnlyEndMiddleware"):
        Client().get("/healthz")
