"""Every page: the right visitor gets it, the wrong one is sent away, every
form control is labelled, and no POST goes through without its CSRF token."""

import re

import pytest
from django.test import Client

from accounts.tests.helpers import last_code_for
from accounts.tests.views.pages import sign_in, unlabeled_controls

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    "/",
    "/accounts/signup/",
    "/accounts/login/",
    "/accounts/login/code/",
    "/accounts/password/forgot/",
]
SIGNED_IN_PAGES = [
    "/",
    "/profile/",
    "/profile/edit/",
    "/accounts/password/change/",
    "/accounts/contact/",
    "/accounts/sessions/",
    "/accounts/activity/",
    "/accounts/delete/",
    "/accounts/logout/",
    "/accounts/mfa/",
    "/accounts/mfa/totp/",
    "/accounts/mfa/recovery-codes/",
    "/accounts/reauthenticate/",
]
SIGNED_IN_ONLY = [page for page in SIGNED_IN_PAGES if page not in ("/", "/accounts/logout/")]


def assert_labelled(response):
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert unlabeled_controls(html) == [], response.request["PATH_INFO"]
    return html


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_render_with_labelled_controls(browser, path):
    assert_labelled(browser.get(path))


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_pages_render_with_labelled_controls(signed_in, path):
    assert_labelled(signed_in.get(path))


@pytest.mark.parametrize("path", SIGNED_IN_ONLY)
def test_anonymous_visitors_are_sent_to_sign_in(browser, path):
    response = browser.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_sign_in_and_sign_up_pages_send_signed_in_users_home(signed_in):
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/login/code/"):
        response = signed_in.get(path)
        assert response.status_code == 302
        assert response["Location"] == "/"


def test_code_pages_render_with_labelled_controls_during_their_flow(browser, user):
    response = browser.post("/accounts/password/forgot/", {"identifier": user.email})
    assert response["Location"] == "/accounts/password/forgot/verify/"
    html = assert_labelled(browser.get("/accounts/password/forgot/verify/"))
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html
    code = last_code_for(user.email)
    response = browser.post("/accounts/password/forgot/verify/", {"otp": code})
    assert response["Location"] == "/accounts/password/reset/"
    html = assert_labelled(browser.get("/accounts/password/reset/"))
    assert html.count('autocomplete="new-password"') == 2

    other = Client()
    other.post("/accounts/login/code/", {"identifier": "new@example.com"})
    assert_labelled(other.get("/accounts/login/code/verify/"))


def test_code_pages_without_their_flow_send_to_its_start(browser):
    expected = {
        "/accounts/verify/": "/accounts/signup/",
        "/accounts/login/code/verify/": "/accounts/login/code/",
        "/accounts/password/forgot/verify/": "/accounts/password/forgot/",
        "/accounts/password/reset/": "/accounts/password/forgot/verify/",
    }
    for path, start in expected.items():
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == start


def test_inputs_carry_the_autocomplete_hints(browser):
    login = browser.get("/accounts/login/").content.decode()
    # "webauthn": the browser offers passkeys in the field's autofill (SPEC §17).
    assert 'autocomplete="username webauthn"' in login
    assert 'autocomplete="current-password"' in login
    signup = browser.get("/accounts/signup/").content.decode()
    assert signup.count('autocomplete="new-password"') == 2
    assert 'autocomplete="email"' in signup
    assert 'autocomplete="tel"' in signup


def test_field_errors_sit_beside_their_fields(browser):
    response = browser.post(
        "/accounts/signup/",
        {"email": "not-an-email", "password": "x", "password2": "y"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-invalid="true"' in html
    assert 'id="id_email_error"' in html
    assert 'aria-describedby="id_email_error"' in html


POSTS = [
    ("/accounts/signup/", {"email": "a@example.com", "password": "x", "password2": "x"}),
    ("/accounts/login/", {"identifier": "alice@example.com", "password": "x"}),
    ("/accounts/login/code/", {"identifier": "alice@example.com"}),
    ("/accounts/password/forgot/", {"identifier": "alice@example.com"}),
    ("/accounts/code/resend/", {"flow": "signup"}),
    ("/accounts/login/mfa/", {"method": "totp", "otp": "123456"}),
]


@pytest.mark.parametrize(("path", "data"), POSTS)
def test_public_posts_without_csrf_token_are_refused(user, path, data):
    client = Client(enforce_csrf_checks=True)
    client.get(path if path != "/accounts/code/resend/" else "/accounts/login/")
    response = client.post(path, data)
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_sign_in_with_the_csrf_token_works(user):
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/",
        {
            "identifier": user.email,
            "password": "Correct-Horse-9-Battery",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302


SIGNED_IN_POSTS = [
    "/accounts/logout/",
    "/accounts/password/change/",
    "/accounts/contact/",
    "/accounts/sessions/revoke-others/",
    "/accounts/delete/",
    "/profile/edit/",
    "/accounts/mfa/totp/",
    "/accounts/mfa/code/",
    "/accounts/mfa/recovery-codes/",
    "/accounts/reauthenticate/",
]


@pytest.mark.parametrize("path", SIGNED_IN_POSTS)
def test_signed_in_posts_without_csrf_token_are_refused(user, path):
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    client.post(
        "/accounts/login/",
        {
            "identifier": user.email,
            "password": "Correct-Horse-9-Battery",
            "csrfmiddlewaretoken": token,
        },
    )
    assert client.get("/profile/").status_code == 200
    response = client.post(path, {"password": "Correct-Horse-9-Battery"})
    assert response.status_code == 403
    assert client.get("/profile/").status_code == 200  # nothing happened


def test_nav_shows_sign_in_links_or_the_user_menu(browser, user):
    html = browser.get("/").content.decode()
    assert 'href="/accounts/login/"' in html
    assert 'href="/accounts/signup/"' in html
    sign_in(browser)
    html = browser.get("/").content.decode()
    assert "Signed in as alice@example.com" in html
    assert 'action="/accounts/logout/"' in html


def test_the_other_code_pages_have_labelled_controls(browser, make_browser, user, make_user):
    browser.post(
        "/accounts/signup/",
        {
            "email": "bob@example.com",
            "password": "Correct-Horse-9-Battery",
            "password2": "Correct-Horse-9-Battery",
        },
    )
    html = assert_labelled(browser.get("/accounts/verify/"))
    assert 'autocomplete="one-time-code"' in html

    client = make_browser()
    sign_in(client)
    client.post(
        "/accounts/contact/",
        {"identifier": "new@example.com", "password": "Correct-Horse-9-Battery"},
    )
    assert_labelled(client.get("/accounts/contact/verify/"))

    make_user(email="carol@example.com", password=None)
    carol = make_browser()
    carol.post("/accounts/login/code/", {"identifier": "carol@example.com"})
    carol.post("/accounts/login/code/verify/", {"otp": last_code_for("carol@example.com")})
    assert_labelled(carol.get("/accounts/delete/"))


def test_pages_with_rows_have_labelled_controls(signed_in, user):
    assert "This browser" in assert_labelled(signed_in.get("/accounts/sessions/"))
    assert "Signed in" in assert_labelled(signed_in.get("/accounts/activity/"))


def test_messages_are_not_list_items_with_a_role(browser, user):
    response = browser.post(
        "/accounts/login/", {"identifier": user.email, "password": "Correct-Horse-9-Battery"}
    )
    html = browser.get(response["Location"]).content.decode()
    assert '<div class="messages">' in html
    assert '<p class="message success" role="status">Signed in.</p>' in html
    assert not re.search(r"<li[^>]*role=", html)
    browser.post("/accounts/logout/")
    html = browser.get("/").content.decode()
    assert '<p class="message success" role="status">You have been signed out.</p>' in html


def test_an_error_message_is_an_alert(signed_in):
    signed_in.post("/accounts/mfa/recovery-codes/")  # no factor: refused with a message
    html = signed_in.get("/accounts/mfa/recovery-codes/").content.decode()
    assert re.search(r'<p class="message error" role="alert">', html)


def test_every_page_has_a_favicon_that_exists(browser):
    from django.contrib.staticfiles import finders

    html = browser.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    from pathlib import Path

    icon = finders.find("favicon.svg")
    assert icon and Path(icon).read_text().startswith("<svg")
