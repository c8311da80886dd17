"""``X-Frame-Options: DENY`` on every answer (SPEC §14 rule 11; the README's
"every response carries"): ``XFrameOptionsMiddleware`` sat last in
``MIDDLEWARE``, so an answer made by a middleware before it never passed
through it — the 400 page of a ``Host`` outside ``ALLOWED_HOSTS`` (HTML),
the sign-in redirect of a browser whose web session was revoked or expired,
the redirect to add a second factor, ``APPEND_SLASH``'s redirect. Reproduced
(each lacked the header, over real HTTP under gunicorn too); the middleware
now stands before every middleware that may answer."""

from __future__ import annotations

import pytest

from accounts.models import DeviceSession
from conftest import CommitClient
from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db


def _denied(response) -> bool:
    return response.get("X-Frame-Options") == "DENY"


def test_the_page_for_a_host_outside_allowed_hosts(settings):
    settings.ALLOWED_HOSTS = ["auth.example.com"]
    response = CommitClient(HTTP_HOST="evil.example").get("/accounts/login/")
    assert response.status_code == 400
    assert _denied(response)


def test_the_redirect_of_a_revoked_web_session(victim):
    browser = CommitClient()
    browser.post("/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD})
    DeviceSession.objects.filter(user=victim).update(revoked_at="2000-01-01T00:00:00Z")
    response = browser.get("/profile/")
    assert response.status_code == 302
    assert _denied(response)


def test_the_redirect_to_add_a_second_factor(victim, settings):
    settings.MFA_REQUIRED = True
    browser = CommitClient()
    browser.post("/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD})
    response = browser.get("/profile/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/")
    assert _denied(response)


def test_the_append_slash_redirect():
    response = CommitClient().get("/accounts/login")
    assert response.status_code == 301
    assert _denied(response)
