"""Host header poisoning: the links in messages (the new-device notice's
"this wasn't me" link; any other URL a message may carry) are built from
``SITE_URL``, never from the request's ``Host`` or ``X-Forwarded-Host``, which
the client controls; and a ``Host`` outside ``ALLOWED_HOSTS`` gets a 400
before any page acts (so nothing is sent on its behalf).

Guards: they pass today; the first fails if a message's link is built with
``request.build_absolute_uri`` (the request's host), the second if
``ALLOWED_HOSTS`` lets any host in (``["*"]``; both checked)."""

from __future__ import annotations

import re

import pytest

from conftest import CommitClient
from tests.attacks.conftest import all_messages
from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db

URL = re.compile(r"https?://[^\s\"'<>]+")
SITE = "https://auth.example.com"


def test_links_in_messages_name_the_site_whatever_host_the_request_named(victim, settings):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["auth.example.com", "localhost"]
    forged = {"HTTP_HOST": "localhost", "HTTP_X_FORWARDED_HOST": "evil.example"}
    for _ in range(2):  # the second browser is a new device: a notice with a link
        CommitClient(**forged).post(
            "/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD}
        )
    browser = CommitClient(**forged)
    browser.post("/accounts/password/forgot/", {"identifier": VICTIM_EMAIL})
    browser.post("/accounts/signup/", {"email": VICTIM_EMAIL, "password": "x", "password2": "x"})
    links = [url for _to, text in all_messages() for url in URL.findall(text)]
    assert any("/accounts/not-me/" in url for url in links), all_messages()
    for url in links:
        assert url.startswith(SITE + "/"), url


def test_a_host_outside_allowed_hosts_gets_400_and_nothing_is_sent(victim, settings):
    settings.ALLOWED_HOSTS = ["auth.example.com"]
    browser = CommitClient(HTTP_HOST="evil.example")
    for path, data in (
        ("/accounts/password/forgot/", {"identifier": VICTIM_EMAIL}),
        ("/accounts/login/code/", {"identifier": VICTIM_EMAIL}),
        ("/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD}),
    ):
        assert browser.post(path, data).status_code == 400, path
    assert all_messages() == []
