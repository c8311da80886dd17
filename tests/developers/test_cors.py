"""SPEC §19.4: CORS for browser apps on the origins of CORS_ALLOWED_ORIGINS,
on /api/ only (django-cors-headers)."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("allowed_origin"),
]

APP = "https://app.example.com"
OTHER = "https://evil.example.net"


@pytest.fixture
def allowed_origin():
    with override_settings(CORS_ALLOWED_ORIGINS=[APP]):
        yield


def _preflight(client, path: str, origin: str, method: str, headers: str):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


@pytest.mark.parametrize(
    ("path", "method", "headers"),
    [
        ("/api/v1/auth/login", "POST", "content-type"),
        ("/api/v1/auth/me", "GET", "authorization"),
        # SPEC §18.4's device header (found by an outside audit: refused).
        ("/api/v1/auth/login", "POST", "x-device-id"),
    ],
)
def test_a_preflight_from_an_allowed_origin_is_answered(client, path, method, headers):
    response = _preflight(client, path, APP, method, headers)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert method in response["Access-Control-Allow-Methods"]
    assert headers in response["Access-Control-Allow-Headers"]
    assert int(response["Access-Control-Max-Age"]) > 0
    # Bearer tokens, no cookies: credentials are not allowed.
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/me"])
def test_a_preflight_from_another_origin_gets_no_cors_headers(client, path):
    response = _preflight(client, path, OTHER, "POST", "authorization, content-type")
    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_an_answer_to_an_allowed_origin_exposes_retry_after(client):
    response = client.get("/api/v1/config", HTTP_ORIGIN=APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert "Retry-After" in response["Access-Control-Expose-Headers"]


def test_pages_get_no_cors_headers(client):
    for path in ("/accounts/login/", "/"):
        response = client.get(path, HTTP_ORIGIN=APP)
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]
        preflight = _preflight(client, path, APP, "POST", "content-type")
        assert "Access-Control-Allow-Origin" not in preflight


def test_no_origin_is_allowed_by_default(client):
    with override_settings(CORS_ALLOWED_ORIGINS=[]):
        response = _preflight(client, "/api/v1/auth/login", APP, "POST", "content-type")
    assert "Access-Control-Allow-Origin" not in response


def test_an_answer_without_origin_varies_on_origin_and_allows_none(auth_client):
    # What django-cors-headers answers a request without Origin (a mobile
    # client's): Vary: origin, so a shared cache keeps the two apart, and no
    # CORS header. authsite.middleware.CorsMiddleware gives it without
    # reading every request header (issue 21).
    response = auth_client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert "origin" in response["Vary"].lower()
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    # Nothing on the way built request.headers (the dict of every header):
    # the mobile client's hot path reads the environ alone.
    assert "headers" not in response.wsgi_request.__dict__


def test_an_empty_origin_is_no_origin(auth_client):
    response = auth_client.get("/api/v1/auth/me", HTTP_ORIGIN="")
    assert "origin" in response["Vary"].lower()
    assert "Access-Control-Allow-Origin" not in response


def test_a_page_answer_does_not_vary_on_origin(client):
    response = client.get("/accounts/login/")
    assert "origin" not in response.get("Vary", "").lower()


@pytest.mark.parametrize("origin", [None, ""])
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/auth/me"), ("post", "/api/v1/auth/login"), ("get", "/accounts/login/")],
)
def test_without_origin_the_answer_is_django_cors_headers_own(rf, origin, method, path):
    # The subclass answers a request without Origin itself; the library's
    # add_response_headers must give the same headers (a release that adds
    # one for such requests would show here).
    from corsheaders.middleware import CorsMiddleware as Library
    from django.http import HttpResponse

    from authsite.middleware import CorsMiddleware

    extra = {} if origin is None else {"HTTP_ORIGIN": origin}
    answers = []
    for middleware in (CorsMiddleware, Library):
        request = getattr(rf, method)(path, **extra)
        response = HttpResponse("x", headers={"Vary": "Accept-Language"})
        instance = middleware(lambda r, answer=response: answer)
        assert instance.check_preflight(request) is None
        answers.append(dict(instance.add_response_headers(request, response).items()))
    assert answers[0] == answers[1]
