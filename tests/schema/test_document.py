"""The OpenAPI document covers the whole API, so fuzzing it leaves nothing out."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

# Documentation endpoints, not API operations: they are how the schema is read.
DOCUMENTATION = {"/api/v1/schema", "/api/v1/docs"}
METHODS = ("get", "post", "put", "patch", "delete")


def _api_routes(patterns, prefix: str = "/"):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.startswith("/api/"):
            yield re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), entry.callback


def _operations_served() -> set[tuple[str, str]]:
    served = set()
    for path, callback in _api_routes(get_resolver().url_patterns):
        if path in DOCUMENTATION:
            continue
        view = getattr(callback, "cls", None)
        assert view is not None, f"{path} is not a DRF view: it answers outside the envelope"
        served |= {(path, method) for method in METHODS if hasattr(view, method)}
    return served


def _operations_documented() -> set[tuple[str, str]]:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def test_every_api_operation_is_in_the_schema():
    served = _operations_served()
    assert len(served) >= 27
    assert served == _operations_documented()


@pytest.mark.django_db
def test_the_schema_and_its_docs_page_are_served(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert docs["Content-Type"].startswith("text/html")
