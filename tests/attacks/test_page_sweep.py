"""Every page route, found from the URL configuration (so a page added later
is swept too), as an attacker's page would reach it:

- a cross-site form (no CSRF token) posting what the real form posts — the
  victim's own password to the sign-in page (login CSRF), a language, a
  profile field, a session to revoke, the account's deletion — is refused
  with 403 and changes nothing (SPEC §6, §14 rule 9);
- a GET of any page (a link, an ``<img>``, a prefetch) changes nothing;
- every answer, error pages included, forbids framing (``X-Frame-Options:
  DENY``, clickjacking) and caching (``no-store``, SPEC §22.8).

Guards: they pass today and fail when ``CsrfViewMiddleware``,
``XFrameOptionsMiddleware`` or ``NoStoreMiddleware`` is taken out of
``MIDDLEWARE``, or when a page view is made ``csrf_exempt`` (each checked)."""

from __future__ import annotations

import uuid

import pytest
from django.core import signing
from django.test import Client
from django.urls import URLResolver, get_resolver

from accounts.models import DeviceSession, SecurityEvent, User
from accounts.services.newdevice import _LINK_SALT
from conftest import CommitClient
from tests.attacks.corpus import ATTACKER_PASSWORD, VICTIM_EMAIL, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db

# The machine door: bearer tokens, never a cookie (CSRF does not apply).
MACHINE = ("api/", "^api/", "healthz", "readyz", "metrics")
# Answers to a signed-in browser's stale sign-in or sign-up tab: sent on as
# signed in (authsite.views.csrf_failure), nothing done.
SIGNED_OUT_FORMS = {"accounts/login/", "accounts/login/code/", "accounts/signup/"}


def _routes(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def _page_routes() -> list[str]:
    return [r for r in _routes() if not r.startswith(MACHINE) and not r.startswith("admin/")]


def _path(route: str, *, session_id: str, event_id: int, token: str) -> str:
    path = "/" + route
    path = path.replace("<uuid:session_id>", session_id)
    path = path.replace("<int:event_id>", str(event_id))
    path = path.replace("<str:token>", token)
    assert "<" not in path, f"a new route parameter: give {route} a value here"
    return path


# What each page's own form posts, so that without CSRF the post would act.
FORMS = {
    "/language/": {"language": "hi", "next": "/"},
    "/accounts/signup/": {
        "email": "new@example.com",
        "password": ATTACKER_PASSWORD,
        "password2": ATTACKER_PASSWORD,
    },
    "/accounts/login/": {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD},
    "/accounts/login/code/": {"identifier": VICTIM_EMAIL},
    "/accounts/password/forgot/": {"identifier": VICTIM_EMAIL},
    "/accounts/password/change/": {
        "current_password": VICTIM_PASSWORD,
        "new_password": ATTACKER_PASSWORD,
        "new_password2": ATTACKER_PASSWORD,
    },
    "/accounts/contact/": {"identifier": "attacker@evil.example", "password": VICTIM_PASSWORD},
    "/accounts/delete/": {"password": VICTIM_PASSWORD},
    "/accounts/reauthenticate/": {"method": "password", "password": VICTIM_PASSWORD},
    "/profile/edit/": {"first_name": "Pwned", "language": "hi"},
    "/accounts/mfa/code/": {"action": "enable"},
    "/accounts/mfa/totp/": {"action": "setup"},
}


@pytest.fixture
def world(victim):
    """The victim signed in on this browser (cookies as a browser holds
    them) and on a second device; a security event; a not-me link."""
    browser = Client(enforce_csrf_checks=True)
    browser.get("/accounts/login/")
    token = browser.cookies["csrftoken"].value
    signed_in = browser.post(
        "/accounts/login/",
        {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert signed_in.status_code == 302
    CommitClient().post(
        "/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD}
    )
    other = DeviceSession.objects.filter(user=victim).order_by("-created_at").first()
    event = SecurityEvent.objects.filter(user=victim).order_by("-id").first()
    link = signing.dumps({"u": victim.pk, "e": event.pk}, salt=_LINK_SALT)
    values = {"session_id": str(other.pk), "event_id": event.pk, "token": link}
    return browser, values


def _state(victim) -> tuple:
    user = User.objects.get(pk=victim.pk)
    live = DeviceSession.objects.filter(user=victim, revoked_at__isnull=True).count()
    return (
        user.is_active,
        user.check_password(VICTIM_PASSWORD),
        user.email,
        user.language,
        user.profile.first_name,
        user.mfa_enabled,
        live,
        SecurityEvent.objects.filter(user=victim).count(),
    )


def _framing_and_caching_refused(response, path: str) -> None:
    assert response.get("X-Frame-Options") == "DENY", path
    assert "no-store" in response.get("Cache-Control", ""), path
    assert response.get("X-Content-Type-Options") == "nosniff", path


def test_a_cross_site_post_to_any_page_is_refused_signed_in(world, victim):
    browser, values = world
    before = _state(victim)
    for route in _page_routes():
        path = _path(route, **values)
        response = browser.post(path, FORMS.get(path, {}))
        if route in SIGNED_OUT_FORMS:
            assert response.status_code == 302 and response["Location"] == "/", path
        else:
            assert response.status_code in (403, 405), (path, response.status_code)
        _framing_and_caching_refused(response, path)
        assert browser.session.get("_auth_user_id") == str(victim.pk), path
    assert _state(victim) == before


def test_a_cross_site_post_to_any_page_is_refused_signed_out(world, victim):
    _browser, values = world
    before = _state(victim)
    stranger = Client(enforce_csrf_checks=True)
    stranger.get("/accounts/login/")  # holds a CSRF cookie, but posts no token
    for route in _page_routes():
        path = _path(route, **values)
        response = stranger.post(path, FORMS.get(path, {}))
        if route == "accounts/logout/":
            # "You are already signed out": nothing to refuse.
            assert response.status_code == 302 and response["Location"] == "/", path
        else:
            assert response.status_code in (403, 405), (path, response.status_code)
        _framing_and_caching_refused(response, path)
    # Login CSRF: the right password, posted cross-site, signs nobody in.
    assert "_auth_user_id" not in stranger.session
    assert _state(victim) == before


def test_a_get_of_any_page_changes_nothing(world, victim):
    browser, values = world
    before = _state(victim)
    for route in _page_routes():
        path = _path(route, **values)
        for query in ("", "?action=send&method=code&language=hi"):
            response = browser.get(path + query)
            assert response.status_code < 500, path
            _framing_and_caching_refused(response, path)
            assert browser.session.get("_auth_user_id") == str(victim.pk), path
    assert _state(victim) == before


def test_error_pages_refuse_framing_and_caching(world):
    browser, _values = world
    for path in ("/no-such-page/", f"/accounts/sessions/{uuid.uuid4()}/revoke/"):
        _framing_and_caching_refused(browser.get(path), path)
    _framing_and_caching_refused(Client().get("/accounts/not-me/forged/"), "not-me")


def test_admin_actions_refuse_a_cross_site_post(make_user, victim):
    from accounts.tests.helpers import with_second_factor

    staff = with_second_factor(
        make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    )
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(staff)
    before = _state(victim)
    listing = admin.get("/admin/accounts/user/")
    assert listing.status_code == 200
    _framing_and_caching_refused(listing, "/admin/accounts/user/")
    for path, data in (
        ("/admin/accounts/user/", {"action": "delete_selected", "_selected_action": victim.pk}),
        ("/admin/accounts/user/", {"action": "deactivate", "_selected_action": victim.pk}),
        (f"/admin/accounts/user/{victim.pk}/delete/", {"post": "yes"}),
        ("/admin/logout/", {}),
    ):
        response = admin.post(path, data)
        assert response.status_code == 403, (path, response.status_code)
        _framing_and_caching_refused(response, path)
    assert _state(victim) == before
    assert admin.get("/admin/").status_code == 200  # still signed in
