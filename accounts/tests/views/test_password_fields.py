"""Password fields (issue 19, point 3): the rules before the first error, the
show/hide script, the hidden username a password manager files a new
password under, the sign-in page filled in after a reset, and the cursor
back in the password field after a wrong one."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from accounts.tests.helpers import last_code_for
from accounts.tests.views.pages import LOGIN, page_text, sign_in
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Brand-New-Horse-7"
RULES = (
    "Your password must contain at least 8 characters.",
    "Your password must contain upper- and lower-case letters, a digit and a symbol.",
)


def input_named(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, html[:3000]
    return match.group(0)


def reset_to_the_new_password_step(client, user):
    client.post("/accounts/password/forgot/", {"identifier": user.email})
    client.post("/accounts/password/forgot/verify/", {"otp": last_code_for(user.email)})


def test_the_rules_are_shown_before_any_error(browser, signed_in, user):
    pages = {
        "/accounts/signup/": ("password", "password2"),
        "/accounts/password/change/": ("new_password", "new_password2"),
    }
    for path, (first, second) in pages.items():
        client = browser if path == "/accounts/signup/" else signed_in
        html = page_text(client.get(path))
        for rule in RULES:
            assert rule in html, path
        # Described by the rules; said once, under the first password field.
        assert f'aria-describedby="id_{first}_helptext"' in input_named(html, first)
        assert html.count(RULES[0]) == 1
        assert "aria-describedby" not in input_named(html, second)
    other = type(browser)()
    reset_to_the_new_password_step(other, user)
    html = page_text(other.get("/accounts/password/reset/"))
    assert all(rule in html for rule in RULES)


def test_every_page_loads_the_show_password_script_in_its_own_words(browser):
    html = page_text(browser.get(LOGIN))
    assert '<script src="/static/js/site.js" defer></script>' in html
    assert 'data-show-password="Show password"' in html
    assert 'data-hide-password="Hide password"' in html
    script = Path(finders.find("js/site.js")).read_text()
    assert 'input[type="password"]' in script
    assert "data-show-password" in script


def test_the_reset_page_names_the_login_for_password_managers(browser, user):
    reset_to_the_new_password_step(browser, user)
    html = page_text(browser.get("/accounts/password/reset/"))
    field = input_named(html, "username")
    assert 'autocomplete="username"' in field
    assert f'value="{user.email}"' in field
    assert " hidden" in field
    # The form still takes only the new password.
    response = browser.post(
        "/accounts/password/reset/",
        {"username": "someone-else", "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == LOGIN


def test_the_change_page_names_the_login_for_password_managers(signed_in, user):
    field = input_named(page_text(signed_in.get("/accounts/password/change/")), "username")
    assert 'autocomplete="username"' in field
    assert 'value="alice@example.com"' in field
    assert " hidden" in field


def test_after_a_reset_the_sign_in_page_is_filled_in_with_the_address(browser, make_user):
    user = make_user(email="bob@example.com", phone="+919876543210")
    browser.post("/accounts/password/forgot/", {"identifier": "+91 98765 43210"})
    browser.post("/accounts/password/forgot/verify/", {"otp": last_code_for(user.phone)})
    browser.post(
        "/accounts/password/reset/", {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    html = page_text(browser.get(LOGIN))
    assert "Your password has been reset. Sign in with it." in html
    identifier = input_named(html, "identifier")
    assert 'value="+919876543210"' in identifier
    assert "autofocus" not in identifier
    assert "autofocus" in input_named(html, "password")
    # Once: the next visit starts empty.
    assert 'value="+919876543210"' not in page_text(browser.get(LOGIN))
    sign_in(browser, "+919876543210", NEW_PASSWORD)


def test_after_a_wrong_password_the_cursor_is_in_the_password_field(browser, user):
    html = page_text(browser.post(LOGIN, {"identifier": user.email, "password": "Wrong-9-x"}))
    identifier = input_named(html, "identifier")
    assert f'value="{user.email}"' in identifier
    assert "autofocus" not in identifier
    password = input_named(html, "password")
    assert "autofocus" in password
    assert "Wrong-9-x" not in password


def test_a_fresh_sign_in_page_starts_in_the_identifier_field(browser):
    html = page_text(browser.get(LOGIN))
    assert "autofocus" in input_named(html, "identifier")
    assert "autofocus" not in input_named(html, "password")


def test_the_password_fields_are_the_same_after_an_error(browser):
    # The rules stay under the field when an error joins them.
    html = page_text(
        browser.post(
            "/accounts/signup/",
            {"email": "bob@example.com", "password": "12345678", "password2": "12345678"},
        )
    )
    assert RULES[0] in html
    password = input_named(html, "password")
    assert 'aria-invalid="true"' in password
    assert STRONG_PASSWORD not in html
