"""Open redirects through the pages: every parameter that names where to go
next — ``next`` on the sign-in page (password, code, passkey), the second
step, the admin's sign-in, re-authentication, the factor set-up that sends on
to a wanted page, the passkey offer's "Not now", a stale sign-in tab, the
language switch — and the Referer the "form expired" page links back to,
each given an off-site target in the spellings browsers read as one
(``//evil``, ``/\\evil``, ``https:evil``, ``javascript:``, encoded,
whitespace, CR/LF). The browser must stay on the site every time.

Guards: they pass today; each fails when ``accounts.pages.safe_next`` (or
``authsite.views._safe``; the admin's ``accounts.admin_views._next_url``)
passes the URL through unchecked (checked) — but the two percent-encoded
targets, which are paths on this site and would fail only if something
decoded a ``next`` before redirecting."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pyotp
import pytest
from django.test import Client

from accounts.crypto import secret_encrypt
from accounts.models import Authenticator, User
from accounts.tests.helpers import last_code_for
from conftest import CommitClient
from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db

OFF_SITE = [
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "\\/evil.example/",
    "https:evil.example",
    "https://evil.example/",
    "http://testserver@evil.example/",
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example/",
    "\t//evil.example/",
    "/\t/evil.example/",
    "/\r\n/evil.example/",
    "\x01//evil.example/",
    "%2F%2Fevil.example/",
    "https%3A%2F%2Fevil.example/",
]


def _on_site(target: str | None) -> bool:
    """What a browser makes of ``target`` stays on this site: tabs and line
    breaks dropped, leading controls and spaces trimmed, backslashes read as
    slashes (as WHATWG URL parsing does for http(s))."""
    if not target:
        return True
    url = re.sub(r"[\t\n\r]", "", target).lstrip("".join(chr(c) for c in range(0x21)))
    url = url.replace("\\", "/")
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return parts.scheme in ("http", "https") and parts.netloc == "testserver"
    return not url.startswith("//")


def _hidden_nexts_and_links_on_site(page: str) -> bool:
    """Every ``next`` a form of the page carries and every link it shows."""
    targets = re.findall(r'name="next" value="([^"]*)"', page)
    # The recovery codes' own download link is a data: URL of plain text.
    targets += [
        href
        for href in re.findall(r'href="([^"]*)"', page)
        if not href.startswith("data:text/plain;charset=utf-8,")
    ]
    return all(_on_site(html.unescape(target)) for target in targets)


def _location(response) -> str | None:
    return response.get("Location")


def _sign_in(client, ip: str = "127.0.0.1", **extra):
    return client.post(
        "/accounts/login/",
        {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD, **extra},
        REMOTE_ADDR=ip,
    )


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_password_sign_in_stays_on_the_site(victim, target):
    page = CommitClient().get("/accounts/login/", {"next": target}).content.decode()
    assert _hidden_nexts_and_links_on_site(page)
    response = _sign_in(CommitClient(), next=target)
    assert response.status_code == 302 and _on_site(_location(response)), _location(response)


def test_the_code_sign_in_stays_on_the_site(victim):
    for target in OFF_SITE:
        browser = CommitClient()
        browser.post("/accounts/login/code/", {"identifier": VICTIM_EMAIL, "next": target})
        code = last_code_for(VICTIM_EMAIL)
        response = browser.post("/accounts/login/code/verify/", {"otp": code})
        assert response.status_code == 302 and _on_site(_location(response)), target


def test_the_second_step_and_its_way_back_stay_on_the_site(victim, clock):
    secret = pyotp.random_base32()
    Authenticator.objects.create(
        user=victim, kind=Authenticator.Kind.TOTP, secret=secret_encrypt(secret), confirmed=True
    )
    User.objects.filter(pk=victim.pk).update(mfa_enabled=True)
    for number, target in enumerate(OFF_SITE):
        browser = CommitClient(REMOTE_ADDR=f"10.0.0.{number + 1}")  # under the per-IP limit
        assert _location(_sign_in(browser, f"10.0.0.{number + 1}", next=target)) == (
            "/accounts/login/mfa/"
        )
        page = browser.get("/accounts/login/mfa/").content.decode()
        assert _hidden_nexts_and_links_on_site(page), target
        code = pyotp.TOTP(secret).at(clock().timestamp())
        response = browser.post("/accounts/login/mfa/", {"method": "totp", "otp": code})
        assert response.status_code == 302 and _on_site(_location(response)), target
        clock.advance(30)  # a code of the next time step


def test_the_admin_sign_in_stays_on_the_site(make_user):
    make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD, is_staff=True, is_superuser=True)
    for target in OFF_SITE:
        browser = CommitClient()
        response = browser.post(
            "/admin/login/?" + "next=" + target.replace("&", "%26"),
            {"username": VICTIM_EMAIL, "password": VICTIM_PASSWORD, "next": target},
        )
        # A staff account without a second factor signs in and is sent on.
        assert response.status_code == 302 and _on_site(_location(response)), target


def test_reauthentication_and_the_factor_set_up_stay_on_the_site(victim):
    browser = CommitClient()
    _sign_in(browser)
    for target in OFF_SITE:
        page = browser.get("/accounts/reauthenticate/", {"next": target}).content.decode()
        assert _hidden_nexts_and_links_on_site(page), target
        response = browser.post(
            "/accounts/reauthenticate/",
            {"method": "password", "password": VICTIM_PASSWORD, "next": target},
        )
        assert response.status_code == 302 and _on_site(_location(response)), target
    for target in OFF_SITE:
        # Sent to add a factor with a page to go on to; the recovery codes'
        # page then links to it.
        browser.get("/accounts/mfa/", {"next": target})
        browser.post("/accounts/mfa/code/", {"action": "enable"})
        browser.post("/accounts/mfa/recovery-codes/", {"action": "regenerate"})
        page = browser.get("/accounts/mfa/recovery-codes/").content.decode()
        assert _hidden_nexts_and_links_on_site(page), target


def test_the_language_switch_and_the_passkey_offer_stay_on_the_site(victim):
    browser = CommitClient()
    for target in OFF_SITE:
        response = browser.post("/language/", {"language": "en", "next": target})
        assert response.status_code == 302 and _on_site(_location(response)), target
    _sign_in(browser)
    for target in OFF_SITE:
        response = browser.post("/language/", {"language": "en", "next": target})
        assert response.status_code == 302 and _on_site(_location(response)), target
        response = browser.post("/accounts/passkeys/offer/dismiss/", {"next": target})
        assert response.status_code == 302 and _on_site(_location(response)), target


def test_a_stale_tab_and_the_expired_form_page_stay_on_the_site(victim):
    browser = Client(enforce_csrf_checks=True)
    browser.get("/accounts/login/")
    token = browser.cookies["csrftoken"].value
    _sign_in(browser, csrfmiddlewaretoken=token)
    for target in OFF_SITE:
        # A stale sign-in tab (its token rotated by the sign-in): sent on.
        response = browser.post(
            "/accounts/login/",
            {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD, "next": target},
        )
        assert response.status_code == 302 and _on_site(_location(response)), target
        # A form whose token expired: the page links back to the Referer.
        page = browser.post("/profile/edit/", {"first_name": "x"}, HTTP_REFERER=target)
        assert page.status_code == 403
        assert _hidden_nexts_and_links_on_site(page.content.decode()), target
