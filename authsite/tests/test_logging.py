"""Logs an operator can follow (SPEC §20.1): a request id on every line of a
request, in the ``X-Request-ID`` header and in every error envelope; JSON
lines with ``LOG_FORMAT=json``; and no password, code or token in any line."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
import socket

import pytest
from django.conf import settings as django_settings
from django.db import connection

from accounts.tests.helpers import assert_error, assert_ok
from authsite.logging import JsonFormatter, TextFormatter, logging_config
from authsite.testing.logs import Records
from otp.delivery import wait_for_deliveries

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
SIGNUP = "/api/v1/auth/signup"
SIGNUP_VERIFY = "/api/v1/auth/signup/verify"
REFRESH = "/api/v1/auth/token/refresh"
FORGOT = "/api/v1/auth/password/forgot"
RESET = "/api/v1/auth/password/reset"
OTP_REQUEST = "/api/v1/auth/otp/request"
FRESH_ID = re.compile(r"[0-9a-f]{32}")


class Log:
    """What the console handler of ``logging_config`` wrote, line by line."""

    def __init__(self, buffer: io.StringIO, log_format: str) -> None:
        self.buffer = buffer
        self.format = log_format

    @property
    def lines(self) -> list[str]:
        return self.buffer.getvalue().splitlines()

    @property
    def entries(self) -> list[dict]:
        assert self.format == "json"
        return [json.loads(line) for line in self.lines]

    def requests(self) -> list[dict]:
        return [e for e in self.entries if e["logger"] == "authsite.request"]


def _configure(log_format: str) -> Log:
    logging.config.dictConfig(logging_config(log_format=log_format, level="DEBUG"))
    buffer = io.StringIO()
    (handler,) = logging.getLogger().handlers
    handler.setStream(buffer)
    return Log(buffer, log_format)


@pytest.fixture
def json_log():
    """The site's logging as ``LOG_FORMAT=json`` configures it, written to a buffer."""
    yield _configure("json")
    logging.config.dictConfig(django_settings.LOGGING)


@pytest.fixture
def text_log():
    yield _configure("text")
    logging.config.dictConfig(django_settings.LOGGING)


def login(client, email: str, password: str, **extra):
    return client.post(LOGIN, {"email": email, "password": password}, format="json", **extra)


# --- request ids and request lines -------------------------------------------------------


def test_each_request_writes_one_json_line_with_its_request_id(api_client, user, json_log):
    refused = login(api_client, user.email, "Wrong-Horse-9-x")
    signed_in = login(api_client, user.email, "Correct-Horse-9-Battery")
    access = assert_ok(signed_in)["access"]
    me = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")
    assert_ok(me)

    lines = json_log.requests()
    assert len(lines) == 3
    for line, response in zip(lines, (refused, signed_in, me), strict=True):
        assert line["request_id"] == response["X-Request-ID"]
        assert FRESH_ID.fullmatch(line["request_id"])
        assert line["status"] == response.status_code
        assert line["level"] == "INFO"
        assert line["client_ip"] == "127.0.0.1"
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["time"].endswith("Z") and isinstance(line["pid"], int)
    assert [(e["method"], e["path"], e["view"]) for e in lines] == [
        ("POST", LOGIN, "accounts_api:login"),
        ("POST", LOGIN, "accounts_api:login"),
        ("GET", ME, "accounts_api:me"),
    ]
    # The user id is there once the request's authentication has loaded the user.
    assert [e["user_id"] for e in lines] == [None, None, user.pk]
    # Django's own line about the refused sign-in belongs to the same request.
    unauthorized = [e for e in json_log.entries if e["logger"] == "django.request"]
    assert [e["request_id"] for e in unauthorized] == [refused["X-Request-ID"]]
    assert unauthorized[0]["path"] == LOGIN
    # Every line is one JSON object, and each request got its own id.
    assert len({e["request_id"] for e in lines}) == 3


def test_text_lines_carry_the_request_id(api_client, text_log):
    response = api_client.get("/api/v1/no-such-endpoint")
    request_lines = [line for line in text_log.lines if " authsite.request " in line]
    assert len(request_lines) == 1
    assert f"[{response['X-Request-ID']}] GET /api/v1/no-such-endpoint 404 " in request_lines[0]


def test_a_newline_in_the_path_cannot_forge_a_log_line(api_client, text_log):
    api_client.get("/api/v1/x%0A2026-01-01 00:00:00 CRITICAL forged")
    assert not any(line.startswith("2026-01-01") for line in text_log.lines)
    assert any("/api/v1/x\\n2026-01-01" in line for line in text_log.lines)


@pytest.mark.urls("authsite.tests.urls")
def test_without_request_lines_only_a_5xx_is_written_and_the_access_log_gets_view_and_user(
    api_client, user, json_log, settings
):
    """Under gunicorn with its access log on (gunicorn.conf.py sets
    REQUEST_LOG=false) the access line is the request line: the site writes
    none of its own but for a 5xx, and leaves the view and the user id in the
    environ, where the access log reads them."""
    settings.REQUEST_LOG = False
    access = assert_ok(login(api_client, user.email, "Correct-Horse-9-Battery"))["access"]
    me = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")
    assert_ok(me)
    assert json_log.requests() == []
    assert me.wsgi_request.META["authsite.view"] == "accounts_api:me"
    assert me.wsgi_request.META["authsite.user_id"] == user.pk
    assert me.wsgi_request.META["authsite.client_ip"] == "127.0.0.1"

    api_client.raise_request_exception = False
    boom = api_client.get("/api/v1/test/boom")

    assert boom.status_code == 500
    (line,) = json_log.requests()
    assert line["level"] == "ERROR" and line["status"] == 500
    assert line["request_id"] == boom["X-Request-ID"]
    assert "authsite.user_id" not in boom.wsgi_request.META


def test_probes_are_logged_at_debug_only(client, json_log):
    client.get("/healthz")
    (line,) = json_log.requests()
    assert line["level"] == "DEBUG" and line["path"] == "/healthz"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: login(c, "nobody@example.com", "Wrong-Horse-9-x"), id="drf-401"),
        pytest.param(lambda c: c.post(LOGIN, {"email": "x"}, format="json"), id="validation"),
        pytest.param(lambda c: c.get("/api/v1/no-such-endpoint"), id="url-404"),
        pytest.param(lambda c: c.delete(LOGIN), id="method-405"),
        pytest.param(lambda c: c.get(ME), id="not-authenticated"),
    ],
)
def test_every_error_envelope_carries_the_request_id_of_its_header(api_client, call):
    first, second = call(api_client), call(api_client)
    for response in (first, second):
        body = response.json()
        assert body["success"] is False
        assert body["request_id"] == response["X-Request-ID"]
        assert FRESH_ID.fullmatch(body["request_id"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_pages_get_the_header_too(web_client):
    response = web_client.get("/accounts/login/")
    assert response.status_code == 200
    assert FRESH_ID.fullmatch(response["X-Request-ID"])


# --- X-Request-ID from a proxy -------------------------------------------------------------


def test_a_trusted_proxy_request_id_is_honoured(api_client, settings, json_log):
    settings.TRUSTED_PROXY_COUNT = 1
    response = login(
        api_client,
        "nobody@example.com",
        "Wrong-Horse-9-x",
        HTTP_X_REQUEST_ID="lb-7f3a9c:01/trace=ab",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    assert_error(response, 401, "invalid_credentials")
    assert response["X-Request-ID"] == "lb-7f3a9c:01/trace=ab"
    assert response.json()["request_id"] == "lb-7f3a9c:01/trace=ab"
    (line,) = json_log.requests()
    assert line["request_id"] == "lb-7f3a9c:01/trace=ab"
    assert line["client_ip"] == "203.0.113.7"


def test_an_untrusted_request_id_is_replaced(api_client, settings, json_log):
    settings.TRUSTED_PROXY_COUNT = 0
    response = login(
        api_client, "nobody@example.com", "Wrong-Horse-9-x", HTTP_X_REQUEST_ID="chosen-by-client"
    )
    assert response["X-Request-ID"] != "chosen-by-client"
    assert FRESH_ID.fullmatch(response["X-Request-ID"])
    assert response.json()["request_id"] == response["X-Request-ID"]
    (line,) = json_log.requests()
    assert line["request_id"] == response["X-Request-ID"]
    assert "chosen-by-client" not in json_log.buffer.getvalue()


@pytest.mark.parametrize(
    "incoming",
    [
        "two words",
        "line\nbreak",
        'quote"d',
        "semi;colon",
        "x" * 129,
        "",
        "caf\u00e9",
    ],
)
def test_a_request_id_not_shaped_like_an_id_is_replaced_even_from_a_trusted_proxy(
    api_client, settings, incoming
):
    settings.TRUSTED_PROXY_COUNT = 1
    response = api_client.get("/api/v1/no-such-endpoint", HTTP_X_REQUEST_ID=incoming)
    assert FRESH_ID.fullmatch(response["X-Request-ID"])
    assert response.json()["request_id"] == response["X-Request-ID"]


# --- the delivery pool ---------------------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_the_delivery_pool_logs_under_the_id_of_the_request_that_sent_the_message(
    api_client, settings, json_log, closed_port
):
    settings.OTP_DELIVERY_MODE = "thread"
    sent = api_client.post(OTP_REQUEST, {"email": "pool@example.com"}, format="json")
    assert_ok(sent)
    assert wait_for_deliveries(timeout=10)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    failed = api_client.post(OTP_REQUEST, {"email": "fail@example.com"}, format="json")
    assert_ok(failed)
    assert wait_for_deliveries(timeout=10)

    pool = [e for e in json_log.entries if e["logger"] == "otp.delivery"]
    assert [(e["level"], e["request_id"]) for e in pool] == [
        ("INFO", sent["X-Request-ID"]),
        ("WARNING", failed["X-Request-ID"]),
    ]
    assert pool[0]["message"].startswith("Message sent: channel=email")
    assert pool[1]["message"].startswith("Delivery failed: channel=email")


# --- no secret in any line ----------------------------------------------------------------


@pytest.fixture
def every_record():
    """Every record any logger writes, SQL statements with their parameters included."""
    handler = Records()
    root = logging.getLogger()
    sql = logging.getLogger("django.db.backends")
    saved = (root.level, sql.level, connection.force_debug_cursor)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    sql.setLevel(logging.DEBUG)
    connection.force_debug_cursor = True
    yield handler.records
    connection.force_debug_cursor = saved[2]
    sql.setLevel(saved[1])
    root.setLevel(saved[0])
    root.removeHandler(handler)


def test_no_password_code_or_token_in_any_log_line(api_client, settings, every_record):
    settings.OTP_EXPOSE_IN_RESPONSE = True
    email, password, new_password = "journey@example.com", "Journey-Horse-9-!", "Later-Horse-7-?"
    secrets: list[str] = [password, new_password, "Wrong-Horse-9-x"]

    def post(path, body, status=200):
        return assert_ok(api_client.post(path, body, format="json"), status)

    signup = post(SIGNUP, {"email": email, "password": password}, status=201)
    token = signup["signup_token"]
    secrets += [signup["otp"], token]
    wrong = f"{(int(signup['otp']) + 1) % 10**6:06d}"
    assert_error(
        api_client.post(SIGNUP_VERIFY, {"signup_token": token, "otp": wrong}, format="json"),
        400,
        "otp_invalid",
    )
    session = post(SIGNUP_VERIFY, {"signup_token": token, "otp": signup["otp"]})
    secrets += [session["access"], session["refresh"]]
    assert_error(login(api_client, email, "Wrong-Horse-9-x"), 401, "invalid_credentials")
    signed_in = assert_ok(login(api_client, email, password))
    secrets += [signed_in["access"], signed_in["refresh"]]
    refreshed = post(REFRESH, {"refresh": signed_in["refresh"]})
    secrets += [refreshed["access"], refreshed["refresh"]]
    me = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {refreshed['access']}")
    assert_ok(me)
    forgot = post(FORGOT, {"email": email})
    secrets.append(forgot["otp"])
    post(RESET, {"email": email, "otp": forgot["otp"], "new_password": new_password})
    after = assert_ok(login(api_client, email, new_password))
    secrets += [after["access"], after["refresh"]]

    records = every_record
    # The capture saw the journey: a request line for each of its 10 requests,
    # the messages (two codes, the notice of the reset), and the SQL with its
    # parameters.
    assert sum(r.name == "authsite.request" for r in records) == 10
    assert sum(r.name == "otp.delivery" for r in records) == 3
    assert any(r.name == "django.db.backends" for r in records)
    formatters = (JsonFormatter(), TextFormatter())
    for record in records:
        shown = [record.getMessage(), repr(record.args), repr(record.__dict__)]
        shown += [formatter.format(record) for formatter in formatters]
        text = "\n".join(shown)
        for secret in secrets:
            # A code is digits: found only as a number of its own, not inside
            # the digits of a float (a duration such as 5.028968999795325
            # once held a code).
            pattern = (
                rf"(?<!\d){re.escape(secret)}(?!\d)" if secret.isdigit() else re.escape(secret)
            )
            assert not re.search(pattern, text), (record.name, record.getMessage()[:200])
