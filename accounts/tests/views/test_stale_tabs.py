"""Tabs left open (issue 19, point 1): a form whose CSRF token no longer
holds — the person signed in or out in another tab since — never does what it
asked, but leads somewhere sensible: a signed-in browser's sign-in form goes
on as signed in, a stale "sign out" shows a fresh sign-out form, anything else
the expired-form page in the site's layout with a link back to its form. And
the 404 and 500 pages in the site's layout."""

import re

import pytest
from django.test import Client
from django.urls import include, path

from accounts.models import DeviceSession
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
LAYOUT = ('class="site-header"', '<main class="content" id="main">')


def token_of(response) -> str:
    match = TOKEN_RE.search(response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


def sign_in_with_token(client, identifier="alice@example.com", **extra):
    # Any page's form carries the browser's current token (the sign-in page
    # itself sends a signed-in browser home).
    token = token_of(client.get("/accounts/password/forgot/"))
    response = client.post(
        LOGIN,
        {"identifier": identifier, "password": STRONG_PASSWORD, "csrfmiddlewaretoken": token},
        **extra,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def in_layout(html: str) -> bool:
    return all(marker in html for marker in LAYOUT)


def test_a_sign_in_form_left_open_goes_on_as_signed_in(user):
    browser = Client(enforce_csrf_checks=True)
    old_tab = token_of(browser.get(LOGIN + "?next=/accounts/sessions/"))
    sign_in_with_token(browser)  # in another tab: the CSRF token rotates
    response = browser.post(
        LOGIN,
        {
            "identifier": user.email,
            "password": STRONG_PASSWORD,
            "next": "/accounts/sessions/",
            "csrfmiddlewaretoken": old_tab,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/sessions/"
    page = browser.get("/accounts/sessions/").content.decode()
    assert "You are already signed in." in page
    # One sign-in, not two: the stale form signed nobody in again.
    assert DeviceSession.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_a_stale_sign_in_form_never_follows_an_unsafe_next(user):
    browser = Client(enforce_csrf_checks=True)
    old_tab = token_of(browser.get(LOGIN))
    sign_in_with_token(browser)
    response = browser.post(
        LOGIN, {"next": "https://evil.example/", "csrfmiddlewaretoken": old_tab}
    )
    assert response["Location"] == "/"


def test_the_code_sign_in_and_sign_up_forms_left_open_go_on_too(user):
    browser = Client(enforce_csrf_checks=True)
    tabs = {
        "/accounts/login/code/": token_of(browser.get("/accounts/login/code/")),
        "/accounts/signup/": token_of(browser.get("/accounts/signup/")),
    }
    sign_in_with_token(browser)
    for form, token in tabs.items():
        response = browser.post(form, {"identifier": user.email, "csrfmiddlewaretoken": token})
        assert response.status_code == 302, form
        assert response["Location"] == "/"


def test_a_stale_sign_out_shows_a_fresh_sign_out_form(user):
    browser = Client(enforce_csrf_checks=True)
    sign_in_with_token(browser)
    old_tab = token_of(browser.get("/profile/"))  # the menu's "Sign out"
    sign_in_with_token(browser)  # signed in again in another tab: a new token
    response = browser.post(LOGOUT, {"csrfmiddlewaretoken": old_tab})
    assert response.status_code == 403
    html = response.content.decode()
    assert in_layout(html)
    assert "could not sign you out. Press “Sign out” again." in html
    assert browser.get("/profile/").status_code == 200  # nothing happened yet
    # The fresh form on that page works.
    response = browser.post(LOGOUT, {"csrfmiddlewaretoken": token_of(response)})
    assert response.status_code == 302
    assert browser.get("/profile/").status_code == 302


def test_a_stale_sign_out_after_signing_out_elsewhere_says_so(user):
    browser = Client(enforce_csrf_checks=True)
    sign_in_with_token(browser)
    old_tab = token_of(browser.get("/profile/"))
    browser.post(LOGOUT, {"csrfmiddlewaretoken": token_of(browser.get("/profile/"))})
    sign_in_with_token(browser)
    browser.post(LOGOUT, {"csrfmiddlewaretoken": token_of(browser.get("/profile/"))})
    response = browser.post(LOGOUT, {"csrfmiddlewaretoken": old_tab})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "You are already signed out." in browser.get("/").content.decode()


def test_the_expired_form_page_is_in_the_layout_and_leads_back_to_the_form(user):
    browser = Client(enforce_csrf_checks=True)
    sign_in_with_token(browser)
    response = browser.post("/accounts/password/change/", {"current_password": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert in_layout(html)
    assert "This form has expired" in html
    assert "Nothing was changed." in html
    assert 'href="/accounts/password/change/">Back to the form</a>' in html


def test_the_expired_form_page_leads_back_to_the_page_that_showed_the_form(user):
    browser = Client(enforce_csrf_checks=True)
    sign_in_with_token(browser)
    response = browser.post(
        "/accounts/sessions/revoke-others/",
        HTTP_REFERER="http://testserver/accounts/sessions/",
    )
    assert response.status_code == 403
    assert 'href="http://testserver/accounts/sessions/">Back' in response.content.decode()
    # A page elsewhere is never linked; a POST-only address leads home.
    response = browser.post(
        "/accounts/sessions/revoke-others/", HTTP_REFERER="https://evil.example/"
    )
    html = response.content.decode()
    assert "evil.example" not in html
    assert 'href="/">Back to the form</a>' in html


def test_a_missing_page_is_in_the_layout(browser):
    response = browser.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert in_layout(html)
    assert "Page not found" in html


def test_the_api_keeps_its_json_404(browser):
    response = browser.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("", include("authsite.urls"))]
handler500 = "authsite.views.server_error"


@pytest.mark.urls(__name__)
def test_a_server_error_is_in_the_layout_and_shows_nothing_of_the_error():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert in_layout(html)
    assert "Something went wrong" in html
    assert '<a class="brand" href="/">authsite</a>' in html  # SITE_NAME, without the request
    assert "a bug" not in html and "RuntimeError" not in html
