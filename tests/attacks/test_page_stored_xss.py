"""Stored and reflected script through the pages and the admin: markup put in
every field a person or a client controls — the profile's fields through the
profile page, a passkey's name, the user agent of a sign-in (shown on the
devices page, the activity page and the admin's lists), the identifier typed
into a failed sign-in (an event staff read), an address typed into a form
that echoes it — must come back as text on every page that shows it.

Guards: they pass today (Django's autoescaping; no ``|safe`` on these
values); each fails when autoescaping is turned off (checked with
``TEMPLATES[0]["OPTIONS"]["autoescape"] = False``)."""

from __future__ import annotations

import re

import pytest

from accounts.models import Authenticator, DeviceSession, SecurityEvent, User
from accounts.tests.helpers import with_second_factor
from conftest import CommitClient
from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db

MARKUP = "\"'><svg onload=alert(1)><script>alert(1)</script>"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) " + MARKUP
LIVE = re.compile(r"<svg onload|<script>alert", re.IGNORECASE)


def _no_live_markup(response, where: str) -> bool:
    """No live markup on the page; whether the markup is shown (as text)."""
    assert response.status_code == 200, (where, response.status_code)
    page = response.content.decode()
    found = LIVE.search(page)
    assert not found, (where, page[max(0, found.start() - 300) :][:600])
    return "&lt;script&gt;alert(1)" in page or "&lt;svg onload" in page


@pytest.fixture
def planted(victim):
    """The victim, signed in from a browser whose user agent is markup, with
    markup in the profile and a passkey's name, and a failed sign-in whose
    typed identifier and user agent are markup."""
    browser = CommitClient(HTTP_USER_AGENT=AGENT)
    browser.post("/accounts/login/", {"identifier": VICTIM_EMAIL, "password": "wrong-" + MARKUP})
    browser.post("/accounts/login/", {"identifier": MARKUP, "password": "wrong"})
    signed_in = browser.post(
        "/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD}
    )
    assert signed_in.status_code == 302
    fields = {f: MARKUP for f in ("first_name", "last_name", "company", "city", "state")}
    saved = browser.post(
        "/profile/edit/", {**fields, "country": MARKUP, "bio": MARKUP, "preferences": MARKUP}
    )
    if saved.status_code != 302:
        # The profile's rules refuse some of it: put it there as the admin could.
        victim.profile.__class__.objects.filter(user=victim).update(**fields, bio=MARKUP)
    Authenticator.objects.create(
        user=victim, kind=Authenticator.Kind.WEBAUTHN, name=MARKUP[:64], confirmed=True
    )
    assert DeviceSession.objects.filter(user=victim, user_agent=AGENT).exists()
    return browser


PAGES = [
    "/",
    "/profile/",
    "/profile/edit/",
    "/accounts/sessions/",
    "/accounts/activity/",
    "/accounts/mfa/",
    "/accounts/passkeys/",
]


def test_the_victims_pages_show_the_markup_as_text(planted):
    shown = [path for path in PAGES if _no_live_markup(planted.get(path), path)]
    expected = {"/profile/", "/profile/edit/", "/accounts/sessions/", "/accounts/activity/"}
    assert expected | {"/accounts/mfa/"} <= set(shown), shown


def test_the_admin_shows_the_markup_as_text(planted, victim, make_user):
    staff = with_second_factor(
        make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    )
    admin = CommitClient()
    admin.force_login(staff)
    session = DeviceSession.objects.filter(user=victim, user_agent=AGENT).first()
    events = list(SecurityEvent.objects.values_list("id", flat=True))
    assert events
    pages = [
        "/admin/accounts/user/",
        f"/admin/accounts/user/{victim.pk}/change/",
        f"/admin/accounts/user/?q={MARKUP}",
        "/admin/accounts/devicesession/",
        f"/admin/accounts/devicesession/{session.pk}/change/",
        "/admin/accounts/securityevent/",
        "/admin/profiles/profile/",
        f"/admin/profiles/profile/{victim.profile.pk}/change/",
    ]
    pages += [f"/admin/accounts/securityevent/{pk}/change/" for pk in events]
    shown = [path for path in pages if _no_live_markup(admin.get(path), path)]
    assert len(shown) >= 6, shown


def test_forms_that_echo_input_show_it_as_text(victim):
    browser = CommitClient()
    for path, data in (
        ("/accounts/login/", {"identifier": MARKUP, "password": "x"}),
        ("/accounts/login/code/", {"identifier": MARKUP}),
        ("/accounts/password/forgot/", {"identifier": MARKUP}),
        ("/accounts/signup/", {"email": MARKUP, "password": "x", "password2": "y"}),
        ("/accounts/signup/", {"phone": MARKUP, "username": MARKUP, "first_name": MARKUP}),
    ):
        _no_live_markup(browser.post(path, data), path)
    _no_live_markup(browser.get("/accounts/login/", {"next": MARKUP}), "login?next")
    assert User.objects.count() == 1
