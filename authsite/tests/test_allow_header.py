"""The ``Allow`` header of the API names only the methods it serves.

OPTIONS answers 405 under ``/api/`` (no DRF metadata: it is not the SPEC
§5.1 envelope), so no answer may list it in ``Allow``: a client that reads
``Allow`` (RFC 9110 §10.2.1) and sends OPTIONS got the 405 it had just been
told would not come."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

SAMPLES = {"int": "1", "uuid": "00000000-0000-4000-8000-000000000001"}


def _sample(match: re.Match) -> str:
    return SAMPLES.get(match.group(1) or "str", "x")


def _api_paths() -> list[str]:
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern).lstrip("^").rstrip("$")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                found.append("/" + re.sub(r"<(?:(\w+):)?\w+>", _sample, prefix + route))

    walk(get_resolver().url_patterns, "")
    return [path for path in found if path.startswith("/api/v1/")]


API_PATHS = _api_paths()


def test_the_walk_finds_the_api():
    assert "/api/v1/auth/me" in API_PATHS
    assert "/api/v1/auth/events/1/not-me" in API_PATHS
    assert f"/api/v1/auth/sessions/{SAMPLES['uuid']}" in API_PATHS
    assert "/api/v1/schema" in API_PATHS
    assert len(API_PATHS) > 40


@pytest.mark.django_db
@pytest.mark.parametrize("path", API_PATHS)
def test_options_is_refused_and_never_offered(auth_client, path):
    response = auth_client.options(path)
    assert response.status_code == 405, response.content
    assert response.json()["code"] == "method_not_allowed"
    allowed = {method.strip() for method in response["Allow"].split(",")}
    assert "OPTIONS" not in allowed
    assert allowed, "a 405 names the methods that are served"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/auth/me", "/api/v1/auth/login", "/api/v1/config"])
def test_no_answer_offers_options(auth_client, path):
    response = auth_client.get(path)
    assert "OPTIONS" not in response.get("Allow", "")
    served = auth_client.delete(path)  # none of them serves DELETE
    assert served.status_code == 405
    assert "OPTIONS" not in served["Allow"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("get", "/api/v1/auth/me", 200, "GET, HEAD"),
        ("get", "/api/v1/config", 200, "GET, HEAD"),
        ("post", "/api/v1/auth/login", 400, "POST"),
        ("get", "/api/v1/auth/events", 200, "GET, HEAD"),  # a generic (list) view
        ("get", "/api/v1/schema", 200, "GET, HEAD"),  # drf-spectacular's, found by a review
        ("get", "/api/v1/docs", 200, "GET, HEAD"),
    ],
)
def test_allow_is_sent_with_a_405_only(auth_client, method, path, status, allow):
    # RFC 9110 §10.2.1: a 405 must name the methods; any other answer may,
    # and every byte of every API answer costs (issue 21).
    response = getattr(auth_client, method)(path, {}, format="json")
    assert response.status_code == status, response.content
    assert "Allow" not in response
    refused = auth_client.put(path, {}, format="json")
    assert refused.status_code == 405
    assert refused.json()["code"] == "method_not_allowed"
    assert refused["Allow"] == allow


@pytest.mark.django_db
def test_a_cors_preflight_is_still_answered(auth_client, settings):
    # The preflight is django-cors-headers' (a middleware), never the view's.
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    response = auth_client.options(
        "/api/v1/auth/login",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://app.example"
