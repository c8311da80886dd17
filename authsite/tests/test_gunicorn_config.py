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
