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
