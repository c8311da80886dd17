"""Content negotiation of the API (authsite.negotiation): the shortcut for
``Accept: application/json``, ``*/*`` or none answers as DRF would, and a
client that accepts only something else still gets the 406 envelope."""

from __future__ import annotations

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from authsite.negotiation import JsonFirstContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "text/html, application/json;q=0.9",
    "application/*",
]


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize(
    "renderers", [[JSONRenderer()], [BrowsableAPIRenderer(), JSONRenderer()]], ids=["json", "two"]
)
def test_the_shortcut_chooses_what_drf_chooses(accept, renderers):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    request = Request(APIRequestFactory().get("/api/v1/auth/me", **headers))
    ours = JsonFirstContentNegotiation().select_renderer(request, renderers)
    drfs = DefaultContentNegotiation().select_renderer(request, renderers)
    assert ours == drfs


@pytest.mark.django_db
@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_json_clients_get_json(auth_client, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = auth_client.get("/api/v1/auth/me", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["text/html", "application/xml", ""])
def test_a_client_that_accepts_no_json_gets_406(auth_client, accept):
    response = auth_client.get("/api/v1/auth/me", HTTP_ACCEPT=accept)
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"
