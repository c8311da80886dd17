"""What the schema fuzz found, pinned down one by one."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def document():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["page_size=abc", "page_size=0", "page_size=101", "page=last"])
def test_events_refuse_page_parameters_the_schema_does_not_allow(auth_client, query):
    response = auth_client.get(f"/api/v1/auth/events?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["errors"]) == {query.split("=")[0]}


@pytest.mark.django_db
def test_events_page_parameters_within_the_schema_are_served(auth_client):
    response = auth_client.get("/api/v1/auth/events?page=1&page_size=100")
    assert response.status_code == 200
    assert auth_client.get("/api/v1/auth/events?page=2").json()["code"] == "not_found"


def test_page_parameters_are_documented_as_positive_integers(document):
    parameters = {
        p["name"]: p["schema"]
        for p in document["paths"]["/api/v1/auth/events"]["get"]["parameters"]
    }
    assert parameters["page"] == {"type": "integer", "minimum": 1, "maximum": 999_999_999}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100}


@pytest.mark.django_db
def test_options_answers_405_in_the_envelope(api_client):
    # DRF's OPTIONS metadata is not the SPEC §5.1 envelope.
    response = api_client.options("/api/v1/auth/login")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_account_deletion_documents_its_body(document):
    # The body is optional: a session with a recent authentication needs
    # neither field (SPEC §16.4); both are still documented for the rest.
    operation = document["paths"]["/api/v1/auth/account"]["delete"]
    assert not operation["requestBody"].get("required")
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    schemas = document["components"]["schemas"]
    schema = schemas[body["$ref"].rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"password", "otp"}
    assert not schema.get("required")


def test_an_empty_date_of_birth_is_documented(document):
    schemas = document["components"]["schemas"]
    for name in ("ProfileRequest", "PatchedProfileRequest", "SignupWithEmailRequest"):
        date = schemas[name]["properties"]["date_of_birth"]
        assert date["nullable"] is True
        assert {"type": "string", "enum": [""]} in date["oneOf"]


def test_the_token_is_optional_for_code_resend(document):
    # Only `contact_change` codes need it; the schema must not demand it.
    security = document["paths"]["/api/v1/auth/otp/resend"]["post"]["security"]
    assert {} in security
