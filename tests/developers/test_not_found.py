"""SPEC §19.1: every path under /api/ that no route serves answers the JSON
``not_found`` envelope, in development (DEBUG) as in production — never
Django's HTML debug page."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import resolve

from accounts.tests.helpers import comparable_json
from authsite.views import api_not_found

pytestmark = pytest.mark.django_db

MALFORMED = [
    ("get", "/api/v1/nothing-here"),
    ("get", "/api/nothing-here"),
    ("post", "/api/v1/auth/login/"),  # a trailing slash
    ("get", "/api/v1/auth/me/"),
    ("delete", "/api/v1/auth/sessions/not-a-uuid"),  # a malformed path parameter
    ("delete", "/api/v1/auth/sessions/123"),
    ("post", "/api/v1/auth/events/abc/not-me"),
    ("post", "/api/v1/auth/events/1.5/not-me"),
    ("get", "/api/v1/schema/"),
]


def _assert_not_found(response) -> None:
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert comparable_json(response) == {
        "success": False,
        "code": "not_found",
        "message": "Not found.",
    }


@pytest.mark.parametrize(("method", "path"), MALFORMED)
def test_unrouted_api_paths_answer_the_envelope_with_debug_on(client, method, path):
    # Django's debug 404 page is what DEBUG shows for a Resolver404: these
    # paths resolve to the API's own fallback instead.
    assert resolve(path).func is api_not_found
    with override_settings(DEBUG=True):
        response = getattr(client, method)(path, HTTP_AUTHORIZATION="Bearer junk")
    _assert_not_found(response)


@pytest.mark.parametrize(("method", "path"), MALFORMED[:3])
def test_unrouted_api_paths_answer_the_envelope_with_debug_off(client, method, path):
    _assert_not_found(getattr(client, method)(path))


def test_a_known_path_without_its_slash_is_not_redirected(client):
    # APPEND_SLASH must not turn /api/v1/auth into a redirect to an HTML page.
    with override_settings(DEBUG=True):
        _assert_not_found(client.post("/api/v1/auth", {}, content_type="application/json"))


def test_pages_keep_the_html_404(client):
    with override_settings(DEBUG=False):
        response = client.get("/accounts/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# Found by an outside audit: answers under /api/ that were not the envelope.


def _assert_envelope(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["success"] is False and body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]


@pytest.mark.parametrize("debug", [True, False])
def test_a_host_the_site_does_not_serve_answers_the_envelope_under_api(client, debug):
    # DEBUG turned Django's DisallowedHost into its HTML debug page, settings
    # and all: what a phone on the network of a `make run` met.
    with override_settings(DEBUG=debug, ALLOWED_HOSTS=["testserver"]):
        response = client.get("/api/v1/auth/me", HTTP_HOST="api.example.com")
        _assert_envelope(response, 400, "validation_error")
        assert response.json()["message"] == (
            "This server does not answer for the host the request names."
        )
        assert "ALLOWED_HOSTS" not in response.content.decode()
        # Pages keep Django's answer.
        page = client.get("/accounts/login/", HTTP_HOST="api.example.com")
        assert page.status_code == 400
        assert page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("post", "/api/v1/schema", {}, 405, "method_not_allowed"),
        ("post", "/api/v1/docs", {}, 405, "method_not_allowed"),
        ("get", "/api/v1/schema?format=xml", {}, 404, "not_found"),
        ("get", "/api/v1/schema", {"HTTP_ACCEPT": "text/html"}, 406, "not_acceptable"),
    ],
)
def test_the_schema_and_the_docs_answer_errors_in_the_envelope(
    client, method, path, headers, status, code
):
    with override_settings(DEBUG=True):
        response = getattr(client, method)(path, **headers)
    _assert_envelope(response, status, code)


def test_the_schema_and_the_docs_still_answer_their_documents(client):
    schema = client.get("/api/v1/schema")
    assert schema.status_code == 200
    assert schema["Content-Type"].startswith("application/vnd.oai.openapi")
    assert client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()["openapi"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and docs["Content-Type"].startswith("text/html")
