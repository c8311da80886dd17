"""gunicorn.conf.py's access log: the client IP as the site decides it
(``TRUSTED_PROXY_COUNT``, ``authsite.client``), never the proxy's, and the
request id; no query string. (Under a real gunicorn: tests/integration.)"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from gunicorn.config import Config

from authsite.testing import env_absent

CONFIG_FILE = django_settings.BASE_DIR / "gunicorn.conf.py"


@pytest.fixture
def config(monkeypatch, tmp_path):
    # The file makes a metrics directory when none is set: give it one, so
    # this process's environment is left as it was.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    # The file sets REQUEST_LOG when the access log is on: removed again after.
    env_absent(monkeypatch, "REQUEST_LOG")
    spec = importlib.util.spec_from_file_location("authsite_gunicorn_conf", CONFIG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def access_line(config, environ: dict, *, request_id: str | None = "rid-1") -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", config.access_log_format)
    logger = config.AccessLogger(cfg)
    # gunicorn's access handler, writing to a buffer instead of stdout.
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter(logger.access_fmt))
    saved = list(logger.access_log.handlers)
    for old in saved:
        logger.access_log.removeHandler(old)
    logger.access_log.addHandler(handler)
    headers = [("Content-Type", "application/json")]
    if request_id:
        headers.append(("X-Request-ID", request_id))
    resp = SimpleNamespace(status="401 Unauthorized", headers=headers, sent=121)
    base = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/auth/login",
        "QUERY_STRING": "token=secret-in-query",
        "RAW_URI": "/api/v1/auth/login?token=secret-in-query",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_USER_AGENT": "curl/8",
    }
    try:
        logger.access(
            resp, SimpleNamespace(headers=[]), {**base, **environ}, timedelta(milliseconds=12)
        )
    finally:
        logger.access_log.removeHandler(handler)
        for old in saved:
            logger.access_log.addHandler(old)
    (line,) = buffer.getvalue().splitlines()
    return line


def test_the_text_access_line_shows_the_client_behind_a_trusted_proxy(config, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    line = access_line(config, {"HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.7"})
    assert line.startswith("203.0.113.7 - [")
    assert '"POST /api/v1/auth/login HTTP/1.1" 401 121 12ms "curl/8" request_id=rid-1 ' in line
    assert "secret-in-query" not in line and "10.0.0.5" not in line


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(config, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    line = access_line(config, {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}, request_id=None)
    assert line.startswith("10.0.0.5 - [")
    # A request the site never saw (or no user): "-".
    assert line.endswith("request_id=- view=- user=-")


def test_the_access_line_takes_the_ip_the_site_worked_out(config, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    line = access_line(config, {"authsite.client_ip": "192.0.2.44"})
    assert line.startswith("192.0.2.44 - [")


def test_the_json_access_line(config, settings, monkeypatch):
    settings.TRUSTED_PROXY_COUNT = 1
    monkeypatch.setattr(config, "LOG_FORMAT", "json")
    line = access_line(config, {"HTTP_X_FORWARDED_FOR": "203.0.113.7"})
    entry = json.loads(line)
    assert entry["logger"] == "gunicorn.access"
    assert entry["client_ip"] == "203.0.113.7"
    assert entry["request_id"] == "rid-1"
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/api/v1/auth/login", 401)
    assert entry["bytes"] == 121 and entry["duration_ms"] == 12.0
    assert entry["view"] is None and entry["user_id"] is None
    assert "secret-in-query" not in line


SEEN_BY_THE_SITE = {"authsite.view": "accounts_api:me", "authsite.user_id": 24095074825908}


def test_the_access_line_names_the_view_and_the_user_the_site_saw(config, settings, monkeypatch):
    """The site writes no request line of its own under gunicorn (below): the
    access line carries what that line had, the view and the user id."""
    line = access_line(config, SEEN_BY_THE_SITE)
    assert line.endswith("request_id=rid-1 view=accounts_api:me user=24095074825908")
    monkeypatch.setattr(config, "LOG_FORMAT", "json")
    entry = json.loads(access_line(config, SEEN_BY_THE_SITE))
    assert (entry["view"], entry["user_id"]) == ("accounts_api:me", 24095074825908)


def fields_after_the_quotes(line: str) -> list[str]:
    """The ``name=value`` fields of a text access line, read as a log parser
    reads it: a quoted field (with backslash escapes) is one field."""
    fields = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', line)
    return [bare for _quoted, bare in fields if "=" in bare]


@pytest.mark.parametrize(
    "forged",
    [
        'x" request_id=forged view=admin:index user=42 "',
        'x\\" request_id=forged view=admin:index user=42 "\\',
    ],
    ids=["quote", "backslash-quote"],
)
def test_the_client_cannot_write_fields_into_the_text_access_line(config, settings, forged):
    for environ in (
        {"HTTP_USER_AGENT": forged},
        {"PATH_INFO": "/api/v1/" + forged},
    ):
        line = access_line(config, {**SEEN_BY_THE_SITE, **environ})
        assert fields_after_the_quotes(line) == [
            "request_id=rid-1",
            "view=accounts_api:me",
            "user=24095074825908",
        ], line


def load(monkeypatch, tmp_path, **environ):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    env_absent(monkeypatch, "REQUEST_LOG", "GUNICORN_ACCESS_LOG")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("authsite_gunicorn_conf", CONFIG_FILE)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    return os.environ.get("REQUEST_LOG")


def test_with_the_access_log_on_the_site_writes_no_request_line_of_its_own(monkeypatch, tmp_path):
    assert load(monkeypatch, tmp_path) == "false"
    assert load(monkeypatch, tmp_path, GUNICORN_ACCESS_LOG="/var/log/access.log") == "false"
    # No access log: the site's line is the only one.
    assert load(monkeypatch, tmp_path, GUNICORN_ACCESS_LOG="") is None
    # The operator's choice wins.
    assert load(monkeypatch, tmp_path, REQUEST_LOG="true") == "true"


# --- only the atoms the format names -----------------------------------------------------

# Every atom gunicorn documents, the site's own, ``{name}`` atoms in other
# cases than their keys, repeated names, missing ones and unknown ones.
EVERY_ATOM = (
    "%(h)s %(l)s %(u)s %(t)s %(r)s %(s)s %(m)s %(U)s %(q)s %(H)s %(b)s %(B)s %(f)s "
    "%(a)s %(T)s %(D)s %(M)s %(L)s %(p)s | %(client_ip)s %(request_id)s | "
    "%({x-request-id}o)s %({X-Request-ID}o)s %({content-type}o)s %({x-repeated}o)s "
    "%({user-agent}i)s %({X-Thing}i)s %({authorization}i)s | "
    "%({authsite.view}e)s %({AUTHSITE.VIEW}e)s %({authsite.user_id}e)s "
    "%({http_user_agent}e)s %({wsgi.url_scheme}e)s %({mixed.case}e)s | "
    "%({missing}e)s %({missing}i)s %({missing}o)s %(nosuch)s %({odd}x)s %({}e)s"
)

REQUESTS = {
    "signed-in": (
        {
            "authsite.view": "accounts_api:me",
            "authsite.user_id": 24095074825908,
            "authsite.client_ip": "192.0.2.44",
            "wsgi.url_scheme": "https",
            "Mixed.Case": 'with "quotes"',
            "HTTP_AUTHORIZATION": "Bearer abc",
        },
        [("X-Request-ID", "rid-1"), ("X-Repeated", "one"), ("x-repeated", "two")],
        [("USER-AGENT", "curl/8"), ("X-THING", "a"), ("X-THING", 'b"c'), ("AUTHORIZATION", "x")],
        201,
    ),
    "anonymous, basic auth, no bytes sent": (
        {"HTTP_AUTHORIZATION": "Basic " + "dXNlcjpwYXNz", "HTTP_REFERER": "https://x/"},
        [],
        [],
        None,
    ),
    "a client's quotes and backslashes": (
        {
            "HTTP_USER_AGENT": 'x\\" user=42 "',
            "PATH_INFO": '/api/v1/"x\\',
            "QUERY_STRING": 'a="b"',
        },
        [("X-Request-ID", 'r"id')],
        [("USER-AGENT", 'x\\" user=42 "')],
        0,
    ),
}


@pytest.mark.parametrize("case", list(REQUESTS))
def test_the_access_line_is_gunicorns_line_with_only_the_named_atoms_made(config, settings, case):
    """``Atoms`` makes only what the format names; its line is the one
    gunicorn's ``SafeAtoms(atoms())`` gives for the same request."""
    from gunicorn.glogging import SafeAtoms

    settings.TRUSTED_PROXY_COUNT = 0
    environ, resp_headers, req_headers, sent = REQUESTS[case]
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", EVERY_ATOM)
    logger = config.AccessLogger(cfg)
    logger.now = lambda: "[07/Dec/2026:21:00:00 +0000]"
    resp = SimpleNamespace(status="201 Created", headers=resp_headers, sent=sent)
    req = SimpleNamespace(headers=req_headers)
    full = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/v1/auth/me",
        "QUERY_STRING": "",
        "RAW_URI": "/api/v1/auth/me",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.5",
        **environ,
    }
    took = timedelta(seconds=2, microseconds=3456)
    expected = EVERY_ATOM % SafeAtoms(logger.atoms(resp, req, full, took))
    assert EVERY_ATOM % config.Atoms(logger, resp, req, full, took) == expected
    # And what the logger writes.
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger.access_log.handlers, saved = [handler], logger.access_log.handlers
    try:
        logger.access(resp, req, full, took)
    finally:
        logger.access_log.handlers = saved
    assert buffer.getvalue() == expected + "\n"
    assert "[07/Dec/2026:21:00:00 +0000] GET /api/v1/auth/me HTTP/1.1 201 " in expected


def test_the_access_line_makes_none_of_the_atoms_its_format_does_not_name(config, monkeypatch):
    """No per-header or per-environ atom is made for the site's format."""
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", config.access_log_format)
    logger = config.AccessLogger(cfg)
    logger.access_log.handlers = [logging.NullHandler()]
    asked = []
    real_getter = config.Atoms.getter.__func__

    def getter(cls, logger, key):
        asked.append(key)
        get = real_getter(cls, logger, key)
        return lambda atoms: asked.append(key) or get(atoms)

    monkeypatch.setattr(config.Atoms, "getter", classmethod(getter))
    monkeypatch.setattr(
        config.glogging.Logger, "atoms", lambda *args: pytest.fail("every atom was made")
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "RAW_URI": "/healthz",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.5",
        "authsite.client_ip": "10.0.0.5",
    }
    resp = SimpleNamespace(status="200 OK", headers=[("X-Request-ID", "rid")], sent=50)
    named = [
        *("client_ip", "t", "m", "U", "H", "s", "B", "M", "a", "request_id"),
        *("{authsite.view}e", "{authsite.user_id}e"),
    ]
    logger.access(resp, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=1))
    # Each atom the format names: how to make it (once), then made.
    assert sorted(asked) == sorted(named * 2)
    asked.clear()
    logger.access(resp, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=1))
    assert sorted(asked) == sorted(named)


def test_the_time_stamp_is_made_once_a_second(config, monkeypatch):
    logger = config.AccessLogger(Config())
    clock = [1_796_677_200.25]
    monkeypatch.setattr(config.time, "time", lambda: clock[0])
    first = logger.now()
    assert first == time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(1_796_677_200))
    clock[0] += 0.5
    assert logger.now() is first
    clock[0] += 1
    assert logger.now() == time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(1_796_677_201))
