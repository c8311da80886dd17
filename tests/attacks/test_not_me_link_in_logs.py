"""The "this wasn't me" link of a new-device notice carries its token in the
path (``/accounts/not-me/<token>/``), and the site's request line, Django's
own "Bad Request: <path>" line and gunicorn's access line all print the
path: the token, valid for seven days and able to sign every session of the
account out and send it a reset code, sat in every log. SPEC §14.12 (no
token in any log line). Reproduced before the fix; the redaction of the
not-me path in ``authsite.logging.redact`` (used for the lines' paths too)
makes these pass."""

from __future__ import annotations

import logging
import re

import pytest
from django.core import mail

from accounts.tests.helpers import messages_to
from authsite.logging import JsonFormatter, TextFormatter
from authsite.testing.logs import Records
from authsite.tests.test_gunicorn_config import access_line
from authsite.tests.test_gunicorn_config import config as config
from conftest import CommitClient
from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/accounts/not-me/([^/\s]+)/)")
CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture
def records(settings):
    settings.REQUEST_LOG = True
    handler = Records()
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.records
    root.setLevel(saved)
    root.removeHandler(handler)


def _not_me_link(victim) -> tuple[str, str]:
    """A sign-in from a second browser: the notice's link (path, token)."""
    for _ in range(2):
        response = CommitClient().post(
            "/accounts/login/",
            {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD},
            HTTP_USER_AGENT=CHROME,
        )
        assert response.status_code == 302
    (notice,) = [m for m in messages_to(VICTIM_EMAIL) if "/accounts/not-me/" in m]
    path, token = LINK.search(notice).groups()
    return path, token


def _shown(record: logging.LogRecord) -> str:
    """The record as the site's formatters write it, and its path field."""
    parts = [JsonFormatter().format(record), TextFormatter().format(record)]
    return "\n".join([*parts, str(getattr(record, "path", ""))])


def test_the_not_me_token_is_in_no_log_line(victim, records):
    path, token = _not_me_link(victim)
    mail.outbox.clear()
    records.clear()
    owner = CommitClient()
    assert owner.get(path).status_code == 200
    assert owner.post(path).status_code == 302
    # Spent or forged: a 400, which Django logs with the path too.
    CommitClient().get(path[:-5] + "xxxx/")
    assert any(r.name == "authsite.request" for r in records)
    for record in records:
        assert token not in _shown(record), (record.name, record.getMessage()[:200])
        assert token[:-5] not in _shown(record), (record.name, record.getMessage()[:200])


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_not_me_token_is_not_in_gunicorns_access_line(config, monkeypatch, log_format):
    monkeypatch.setattr(config, "LOG_FORMAT", log_format)
    token = "eyJ1IjoxLCJlIjo0Mn0:1tQxyz:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEF"
    path = f"/accounts/not-me/{token}/"
    line = access_line(config, {"REQUEST_METHOD": "GET", "PATH_INFO": path, "RAW_URI": path})
    assert "/accounts/not-me/" in line
    assert token not in line
