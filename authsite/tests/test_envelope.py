import logging

import pytest

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_unknown_api_path_is_a_404_envelope(api_client):
    assert_error(api_client.get("/api/v1/no-such-endpoint"), 404, "not_found")


def test_unknown_path_outside_the_api_is_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_wrong_method_is_a_405_envelope(auth_client):
    assert_error(auth_client.delete("/api/v1/auth/me"), 405, "method_not_allowed")


@pytest.mark.urls("authsite.tests.urls")
def test_malformed_json_is_a_400_validation_error(api_client):
    response = api_client.generic(
        "POST", "/api/v1/test/echo", data='{"email": "a@b.c", ', content_type="application/json"
    )
    body = assert_error(response, 400, "validation_error")
    assert body["errors"]


def test_missing_bearer_token_is_not_authenticated(api_client):
    response = api_client.get("/api/v1/auth/me")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_malformed_authorization_header_is_not_authenticated(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token abc")
    assert_error(api_client.get("/api/v1/auth/me"), 401, "not_authenticated")


def test_garbage_bearer_token_is_not_authenticated(api_client):
    # SPEC §5.1: "no or malformed bearer token" (token_invalid is for a JWT
    # that is expired, forged, of the wrong type or revoked).
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert_error(api_client.get("/api/v1/auth/me"), 401, "not_authenticated")


@pytest.mark.urls("authsite.tests.urls")
def test_unexpected_exception_is_a_500_envelope_without_details(api_client, caplog):
    with caplog.at_level(logging.ERROR, logger="authsite.api"):
        response = api_client.get("/api/v1/test/boom")
    body = assert_error(response, 500, "server_error")
    text = response.content.decode()
    assert "secret detail" not in text
    assert "SELECT" not in text and "SECRET_KEY" not in text and "Traceback" not in text
    # Nothing but the envelope, and the request id that finds the log lines.
    assert set(body) == {"success", "code", "message", "request_id"}
    assert body["request_id"] == response["X-Request-ID"]
    # …but the traceback is in the log for the operators.
    assert any(record.exc_info for record in caplog.records)


@pytest.mark.urls("authsite.tests.urls")
def test_database_outage_is_a_503_envelope(api_client):
    response = api_client.get("/api/v1/test/db-down")
    assert_error(response, 503, "service_unavailable")
    assert "MySQL" not in response.content.decode()


def test_success_envelope_shape(auth_client, user):
    response = auth_client.get("/api/v1/auth/me")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert isinstance(body["message"], str)
    assert body["data"]["id"] == user.id


@pytest.mark.urls("authsite.tests.urls")
def test_form_encoded_body_is_a_415_envelope(api_client):
    response = api_client.post("/api/v1/test/echo", {"a": "b"}, format="multipart")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.urls("authsite.tests.urls")
@pytest.mark.parametrize(
    "raw",
    [
        '{"password": "\\ud800"}',
        '{"n": 1e999}',
        '{"n": NaN}',
        '{"n": Infinity}',
        "[" * 40 + "]" * 40,
        "[" * 100_000,
        '{"n": ' + "9" * 5000 + "}",
    ],
    ids=["lone-surrogate", "float-overflow", "nan", "infinity", "deep", "very-deep", "huge-int"],
)
def test_json_that_cannot_be_stored_is_a_400_not_a_500(api_client, raw):
    response = api_client.generic(
        "POST", "/api/v1/test/echo", data=raw, content_type="application/json"
    )
    body = assert_error(response, 400, "validation_error")
    assert list(body["errors"]) == ["non_field_errors"]


@pytest.mark.urls("authsite.tests.urls")
def test_a_huge_integer_is_refused_in_our_words_not_pythons(api_client):
    # Found by an outside audit: the message named sys.set_int_max_str_digits().
    raw = '{"n": ' + "9" * 5000 + "}"
    response = api_client.generic(
        "POST", "/api/v1/test/echo", data=raw, content_type="application/json"
    )
    body = assert_error(response, 400, "validation_error")
    text = response.content.decode()
    assert "sys." not in text and "digits" not in text, body
    assert body["errors"] == {"non_field_errors": ["JSON parse error - number out of range"]}
