"""Breached passwords (SPEC §18.2): the Have I Been Pwned range API, asked
through a local stub server — never the internet.

The stub checks every request it gets: a GET of ``/range/<5 upper-case hex>``
with ``Add-Padding: true`` and our User-Agent, nothing else; a request that
breaks the rule is answered 400 and fails the test at teardown.
"""

from __future__ import annotations

import hashlib
import http.server
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts.tests.helpers import assert_error, assert_ok, last_code_for, with_second_factor
from accounts.validators import BREACH_CHECK_USER_AGENT
from authsite.tests.test_settings import _start
from conftest import STRONG_PASSWORD

SIGNUP = "/api/v1/auth/signup"
CHANGE = "/api/v1/auth/password/change"
FORGOT = "/api/v1/auth/password/forgot"
RESET = "/api/v1/auth/password/reset"
LOGIN = "/api/v1/auth/login"

# Both pass every local rule (length, complexity, not common, not numeric).
BREACHED = "Listed-Horse-7-Pass"
FRESH = "Unlisted-Pony-8-Word"

BREACH_MESSAGE = (
    "This password has appeared in a data breach, so attackers try it early. "
    "Please choose a different one."
)
UNAVAILABLE_MESSAGE = (
    "We could not check this password against known data breaches right now. "
    "Please try again in a few minutes."
)
RANGE_PATH = re.compile(r"/range/[0-9A-F]{5}")


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw: str  # request line and headers, as received


@dataclass
class RangeStub:
    """A stand-in for the range API. ``behaviour``: ok, slow, drip, 500,
    garbage, redirect. ``ranges`` holds the listed suffixes per prefix."""

    url: str = ""
    behaviour: str = "ok"
    ranges: dict[str, dict[str, int]] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def listing(self, password: str, count: int) -> None:
        digest = sha1(password)
        self.ranges.setdefault(digest[:5], {})[digest[5:]] = count

    def body(self, prefix: str) -> bytes:
        lines = dict(self.ranges.get(prefix, {}))
        for _ in range(20):  # padding, as the real API adds with Add-Padding
            lines.setdefault(secrets.token_hex(18)[:35].upper(), 0)
        lines.update({secrets.token_hex(18)[:35].upper(): 12})  # someone else's breach
        return "\r\n".join(f"{s}:{c}" for s, c in lines.items()).encode()

    def check(self, request: SeenRequest) -> list[str]:
        problems = []
        if request.method != "GET":
            problems.append(f"method {request.method}")
        if not RANGE_PATH.fullmatch(request.path):
            problems.append(f"path {request.path!r} is not /range/<5 upper-case hex>")
        if request.headers.get("add-padding") != "true":
            problems.append("no Add-Padding: true")
        if request.headers.get("user-agent") != BREACH_CHECK_USER_AGENT:
            problems.append(f"user agent {request.headers.get('user-agent')!r}")
        if request.headers.get("content-length", "0") != "0":
            problems.append("a request body")
        return problems


def _handler_for(stub: RangeStub):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep the test output clean
            pass

        def _answer(self, status: int, body: bytes, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            seen = SeenRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                raw=self.requestline + "\n" + str(self.headers),
            )
            stub.requests.append(seen)
            problems = stub.check(seen)
            if problems:
                stub.violations.extend(problems)
                self._answer(400, b"bad request")
                return
            prefix = self.path.rsplit("/", 1)[-1]
            match stub.behaviour:
                case "ok":
                    self._answer(200, stub.body(prefix))
                case "slow":
                    stub.release.wait(10)
                    self._answer(200, stub.body(prefix))
                case "drip":
                    body = stub.body(prefix)
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    for line in body.splitlines(keepends=True):
                        if stub.release.wait(0.1):
                            return
                        self.wfile.write(line)
                        self.wfile.flush()
                case "500":
                    self._answer(500, b"Internal Server Error")
                case "garbage":
                    self._answer(200, b"<html><body>Service temporarily unavailable</body></html>")
                case "redirect":
                    self._answer(302, b"", Location=f"{stub.url}/elsewhere/{prefix}")

        do_GET = do_POST = do_PUT = _handle

    return Handler


@pytest.fixture
def range_stub(settings):
    """The range API on a free local port; the breach check points at it
    (mode fail_closed unless a test says otherwise, timeout 1 s)."""
    stub = RangeStub()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(stub))
    server.daemon_threads = True
    server.block_on_close = False
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.PASSWORD_BREACH_API_URL = stub.url
    settings.PASSWORD_BREACH_CHECK = "fail_closed"
    settings.PASSWORD_BREACH_TIMEOUT = 1.0
    try:
        yield stub
    finally:
        stub.release.set()
        server.shutdown()
        server.server_close()
    assert stub.violations == [], stub.violations


def assert_only_the_prefix_left(stub: RangeStub, password: str) -> None:
    digest = sha1(password)
    assert stub.requests, "the range API was not asked"
    for request in stub.requests:
        assert request.path == f"/range/{digest[:5]}"
        assert digest[5:] not in request.raw.upper()
        assert digest[5:11] not in request.raw.upper()
        assert password not in request.raw


def signup(client, password: str, email: str = "new@example.com"):
    return client.post(SIGNUP, {"email": email, "password": password}, format="json")


# --- Every door that sets a password asks -----------------------------------------------


@pytest.mark.django_db
def test_api_signup_refuses_a_breached_password(api_client, range_stub):
    range_stub.listing(BREACHED, 3861493)
    body = assert_error(signup(api_client, BREACHED), 400, "validation_error")
    assert body["errors"] == {"password": [BREACH_MESSAGE]}
    assert not get_user_model().objects.filter(email="new@example.com").exists()
    assert len(range_stub.requests) == 1
    assert_only_the_prefix_left(range_stub, BREACHED)


@pytest.mark.django_db
def test_api_password_change_refuses_a_breached_password(auth_client, user, range_stub):
    range_stub.listing(BREACHED, 12)
    response = auth_client.post(
        CHANGE, {"current_password": STRONG_PASSWORD, "new_password": BREACHED}, format="json"
    )
    body = assert_error(response, 400, "validation_error")
    assert body["errors"] == {"new_password": [BREACH_MESSAGE]}
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert_only_the_prefix_left(range_stub, BREACHED)


@pytest.mark.django_db
def test_api_password_reset_refuses_a_breached_password_and_keeps_the_code(
    api_client, user, range_stub
):
    range_stub.listing(BREACHED, 1)
    assert_ok(api_client.post(FORGOT, {"email": user.email}, format="json"))
    code = last_code_for(user.email)
    reset = {"email": user.email, "otp": code, "new_password": BREACHED}
    body = assert_error(api_client.post(RESET, reset, format="json"), 400, "validation_error")
    assert body["errors"] == {"new_password": [BREACH_MESSAGE]}
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert_only_the_prefix_left(range_stub, BREACHED)
    assert len(range_stub.requests) == 1  # asked once per reset, not once per look
    # The code was not spent: the same code sets a password that is not listed.
    assert_ok(api_client.post(RESET, {**reset, "new_password": FRESH}, format="json"))
    user.refresh_from_db()
    assert user.check_password(FRESH)


@pytest.mark.django_db
def test_a_reset_with_a_wrong_code_never_asks_the_range_api(api_client, user, range_stub):
    range_stub.listing(BREACHED, 1)
    reset = {"email": "nobody@example.com", "otp": "123456", "new_password": BREACHED}
    assert_error(api_client.post(RESET, reset, format="json"), 400, "otp_invalid")
    assert range_stub.requests == []


@pytest.mark.django_db
def test_admin_set_password_form_refuses_a_breached_password(make_user, user, range_stub):
    staff = with_second_factor(
        make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    )
    admin = Client()
    admin.force_login(staff)
    range_stub.listing(BREACHED, 7)
    response = admin.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"usable_password": "true", "password1": BREACHED, "password2": BREACHED},
    )
    assert response.status_code == 200  # the form again, with the reason
    assert response.context["form"].errors == {"password2": [BREACH_MESSAGE]}
    assert BREACH_MESSAGE in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert_only_the_prefix_left(range_stub, BREACHED)


# --- What the answer means ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_password_absent_from_the_range_is_accepted(api_client, range_stub):
    range_stub.listing(BREACHED, 5)  # a neighbour may share the prefix; it is not ours
    assert_ok(signup(api_client, FRESH), 201)
    assert len(range_stub.requests) == 1
    assert_only_the_prefix_left(range_stub, FRESH)


@pytest.mark.django_db
def test_a_password_only_on_a_count_zero_padding_line_is_accepted(api_client, range_stub):
    range_stub.listing(FRESH, 0)
    assert_ok(signup(api_client, FRESH), 201)
    assert len(range_stub.requests) == 1


@pytest.mark.django_db
def test_the_refusal_is_the_same_whatever_the_count(api_client, range_stub):
    range_stub.listing(BREACHED, 1)
    once = assert_error(signup(api_client, BREACHED), 400, "validation_error")
    range_stub.listing(BREACHED, 10_000_000)
    often = assert_error(signup(api_client, BREACHED), 400, "validation_error")
    assert once["errors"] == often["errors"] == {"password": [BREACH_MESSAGE]}


@pytest.mark.django_db
def test_a_password_refused_by_a_local_rule_never_reaches_the_network(api_client, range_stub):
    range_stub.listing("Sh0rt!", 99)
    body = assert_error(signup(api_client, "Sh0rt!"), 400, "validation_error")
    assert any("too short" in reason for reason in body["errors"]["password"])
    assert BREACH_MESSAGE not in body["errors"]["password"]
    assert range_stub.requests == []


# --- When the range API fails ------------------------------------------------------------

OUTAGES = ["slow", "drip", "500", "garbage", "redirect"]


@pytest.mark.django_db
@pytest.mark.parametrize("outage", OUTAGES)
def test_fail_open_lets_the_password_through_and_logs_a_warning(
    api_client, range_stub, settings, caplog, outage
):
    settings.PASSWORD_BREACH_CHECK = "fail_open"
    settings.PASSWORD_BREACH_TIMEOUT = 0.3
    range_stub.behaviour = outage
    range_stub.listing(BREACHED, 3)  # listed, but the answer never arrives intact
    with caplog.at_level(logging.WARNING, logger="authsite.accounts.breaches"):
        assert_ok(signup(api_client, BREACHED), 201)
    warnings = [r for r in caplog.records if r.name == "authsite.accounts.breaches"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "accepted unchecked" in warnings[0].getMessage()
    digest = sha1(BREACHED)
    for record in caplog.records:  # no password, no hash, not even its prefix
        text = record.getMessage()
        assert BREACHED not in text and digest[:5] not in text.upper()
    assert len(range_stub.requests) == 1  # a redirect is not followed


@pytest.mark.django_db
@pytest.mark.parametrize("outage", OUTAGES)
def test_fail_closed_refuses_with_its_own_reason(api_client, range_stub, settings, outage):
    settings.PASSWORD_BREACH_TIMEOUT = 0.3
    range_stub.behaviour = outage
    body = assert_error(signup(api_client, FRESH), 400, "validation_error")
    assert body["errors"] == {"password": [UNAVAILABLE_MESSAGE]}
    assert not get_user_model().objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("outage", ["ok", *OUTAGES])
def test_off_never_asks(api_client, range_stub, settings, outage):
    settings.PASSWORD_BREACH_CHECK = "off"
    range_stub.behaviour = outage
    range_stub.listing(BREACHED, 3)
    assert_ok(signup(api_client, BREACHED), 201)
    assert range_stub.requests == []


@pytest.mark.django_db
@pytest.mark.parametrize("outage", ["slow", "drip"])
def test_a_slow_range_api_costs_the_request_no_more_than_the_timeout(
    api_client, range_stub, settings, outage
):
    settings.PASSWORD_BREACH_TIMEOUT = 0.3
    range_stub.behaviour = outage  # slow: never answers; drip: a line every 0.1 s
    started = time.monotonic()
    assert_error(signup(api_client, FRESH), 400, "validation_error")
    assert time.monotonic() - started < 1.5


@pytest.mark.django_db
def test_connection_refused_is_an_outage(api_client, settings):
    # Test settings point the check at a closed local port (the discard port).
    settings.PASSWORD_BREACH_CHECK = "fail_closed"
    body = assert_error(signup(api_client, FRESH), 400, "validation_error")
    assert body["errors"] == {"password": [UNAVAILABLE_MESSAGE]}
    settings.PASSWORD_BREACH_CHECK = "fail_open"
    assert_ok(signup(api_client, FRESH, email="other@example.com"), 201)


# --- Defaults ----------------------------------------------------------------------------

_SHOW = "import django; django.setup()\nfrom django.conf import settings\n"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DEBUG": "false", "SECRET_KEY": "s" * 50, "JWT_SIGNING_KEY": "j" * 50}, "fail_open"),
        ({"DEBUG": "true"}, "off"),
        ({"DEBUG": "true", "PASSWORD_BREACH_CHECK": "fail_closed"}, "fail_closed"),
    ],
    ids=["production", "debug", "set"],
)
def test_the_default_mode_is_fail_open_in_production_and_off_with_debug(env, expected):
    script = _SHOW + (
        "print(settings.PASSWORD_BREACH_CHECK, settings.PASSWORD_BREACH_API_URL,"
        " settings.PASSWORD_BREACH_TIMEOUT)"
    )
    unset = dict.fromkeys(
        ["PASSWORD_BREACH_CHECK", "PASSWORD_BREACH_API_URL", "PASSWORD_BREACH_TIMEOUT"]
    )
    result = _start({**unset, **env}, script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [expected, "https://api.pwnedpasswords.com", "2.0"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PASSWORD_BREACH_CHECK", "on"),
        ("PASSWORD_BREACH_API_URL", "file:///etc/passwd"),
        ("PASSWORD_BREACH_TIMEOUT", "soon"),
    ],
)
def test_a_bad_breach_setting_stops_start_up_naming_it(name, value):
    result = _start({"DEBUG": "true", name: value})
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} must be" in result.stderr


def test_the_test_settings_never_ask_the_internet(settings):
    assert settings.PASSWORD_BREACH_CHECK == "off"
    assert settings.PASSWORD_BREACH_API_URL.startswith("http://127.0.0.1:")
