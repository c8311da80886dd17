"""SPEC §21: the language of a request — the account's (profile
``language``), else the language cookie (the footer's switcher), else
``Accept-Language`` — for the pages, the API's messages and the emails and
texts (the recipient's). Error codes never change with the language."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from accounts.services.tokens import session_open
from accounts.tests.helpers import assert_error, assert_ok
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1"
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def hindi(text: str) -> str:
    with translation.override("hi"):
        translated = translation.gettext(text)
    assert translated != text and DEVANAGARI.search(translated), f"{text!r} has no Hindi"
    return translated


def session_for(user) -> str:
    return session_open(user=user, client=ClientInfo(ip="127.0.0.1")).access


def wrong_login(client, **headers):
    body = {"email": "nobody@example.com", "password": "Wrong-Horse-1-x"}
    return client.post(f"{API}/auth/login", body, format="json", **headers)


# --- the API ------------------------------------------------------------------------------


def test_accept_language_picks_the_api_message_and_keeps_the_code(api_client):
    english = assert_error(wrong_login(api_client), 401, "invalid_credentials")
    in_hindi = assert_error(
        wrong_login(api_client, HTTP_ACCEPT_LANGUAGE="hi-IN,hi;q=0.9,en;q=0.5"),
        401,
        "invalid_credentials",
    )
    assert in_hindi["message"] == hindi(english["message"])


def test_a_language_we_do_not_have_falls_back_to_english(api_client):
    english = assert_error(wrong_login(api_client), 401, "invalid_credentials")
    other = assert_error(wrong_login(api_client, HTTP_ACCEPT_LANGUAGE="fr"), 401, english["code"])
    assert other["message"] == english["message"]


def test_the_accounts_language_wins_over_the_header(auth_client, user):
    user.language = "hi"
    user.save(update_fields=["language"])
    response = auth_client.get(f"{API}/auth/me", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["message"] == hindi("Your account.")


def test_a_thread_that_served_hindi_answers_the_next_call_in_english(api_client, user):
    # The test client serves every request on this thread, as a gthread
    # worker's thread serves one after another.
    Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="hi")
    body = assert_error(wrong_login(api_client), 401, "invalid_credentials")
    assert not DEVANAGARI.search(body["message"])
    user.language = "hi"
    user.save(update_fields=["language"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session_for(user)}")
    assert DEVANAGARI.search(client.get(f"{API}/auth/me").json()["message"])
    assert translation.get_language() == settings.LANGUAGE_CODE  # nothing left behind
    body = assert_error(wrong_login(api_client), 401, "invalid_credentials")
    assert not DEVANAGARI.search(body["message"])


def test_the_profile_sets_and_clears_the_language(auth_client, user):
    data = assert_ok(auth_client.patch(f"{API}/profile", {"language": "hi"}, format="json"))
    assert data["language"] == "hi"
    user.refresh_from_db()
    assert user.language == "hi"
    body = assert_error(
        auth_client.patch(f"{API}/profile", {"language": "fr"}, format="json"),
        400,
        "validation_error",
    )
    assert set(body["errors"]) == {"language"}
    data = assert_ok(auth_client.patch(f"{API}/profile", {"language": None}, format="json"))
    assert data["language"] == ""


def test_deleting_the_profile_forgets_the_language(auth_client, user):
    assert_ok(auth_client.patch(f"{API}/profile", {"language": "hi"}, format="json"))
    auth_client.delete(f"{API}/profile")
    user.refresh_from_db()
    assert user.language == ""


# --- emails and texts: the recipient's language ----------------------------------------------


def test_a_code_goes_out_in_the_recipients_language(api_client, user):
    user.language = "hi"
    user.save(update_fields=["language"])
    assert_ok(api_client.post(f"{API}/auth/otp/request", {"email": user.email}, format="json"))
    assert DEVANAGARI.search(mail.outbox[-1].subject + mail.outbox[-1].body)


def test_an_address_without_an_account_gets_the_askers_language(api_client):
    api_client.post(
        f"{API}/auth/signup",
        {"email": "new@example.com", "password": STRONG_PASSWORD},
        format="json",
        HTTP_ACCEPT_LANGUAGE="hi",
    )
    assert DEVANAGARI.search(mail.outbox[-1].body)


def test_an_english_account_gets_english_whatever_the_asker_speaks(api_client, user):
    user.language = "en"
    user.save(update_fields=["language"])
    api_client.post(
        f"{API}/auth/password/forgot",
        {"email": user.email},
        format="json",
        HTTP_ACCEPT_LANGUAGE="hi",
    )
    assert not DEVANAGARI.search(mail.outbox[-1].body)


def test_a_sign_up_notice_goes_in_the_holders_language(api_client, user):
    # Someone signs up with an address that has an account: its holder is
    # told, in the holder's language, not the stranger's.
    user.language = "en"
    user.save(update_fields=["language"])
    body = {"email": user.email, "password": STRONG_PASSWORD}
    api_client.post(f"{API}/auth/signup", body, format="json", HTTP_ACCEPT_LANGUAGE="hi")
    assert not DEVANAGARI.search(mail.outbox[-1].subject + mail.outbox[-1].body)


def test_a_hindi_holder_is_told_in_hindi(api_client, make_user):
    holder = make_user(email="holder@example.com")
    holder.language = "hi"
    holder.save(update_fields=["language"])
    body = {"email": holder.email, "password": STRONG_PASSWORD}
    api_client.post(f"{API}/auth/signup", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert DEVANAGARI.search(mail.outbox[-1].subject + mail.outbox[-1].body)


def test_a_refused_host_is_answered_in_the_requests_language(api_client):
    Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="hi")  # a page in Hindi first
    response = api_client.get(f"{API}/auth/me", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert not DEVANAGARI.search(response.json()["message"])
    in_hindi = api_client.get(f"{API}/auth/me", HTTP_HOST="evil.example", HTTP_ACCEPT_LANGUAGE="hi")
    assert DEVANAGARI.search(in_hindi.json()["message"])


# --- the pages ------------------------------------------------------------------------------


def test_the_cookie_picks_the_pages_language():
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "hi"
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="hi"' in page
    assert hindi("Sign in") in page


def test_accept_language_picks_it_without_a_cookie():
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="hi").content.decode()
    assert '<html lang="hi"' in page


def test_the_footer_switcher_sets_the_cookie_and_goes_back():
    client = Client()
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/language/"' in page and 'name="language"' in page
    response = client.post("/language/", {"language": "hi", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "hi"
    assert '<html lang="hi"' in client.get("/accounts/login/").content.decode()


def test_the_switcher_goes_nowhere_else_and_ignores_unknown_languages():
    client = Client()
    response = client.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
    assert client.get("/language/").status_code == 405


def test_a_signed_in_switch_is_the_accounts_language(user):
    client = Client()
    client.force_login(user)
    client.post("/language/", {"language": "hi", "next": "/profile/"})
    user.refresh_from_db()
    assert user.language == "hi"
    # Another browser without the cookie: the account's language.
    other = Client()
    other.force_login(user)
    assert '<html lang="hi"' in other.get("/profile/").content.decode()


def test_every_door_names_a_language_the_same_way(auth_client, user):
    # One check (authsite.i18n.language_code) for the profile, the switcher
    # and a stored language: trimmed, any case, one of LANGUAGES exactly.
    data = assert_ok(auth_client.patch(f"{API}/profile", {"language": " HI "}, format="json"))
    assert data["language"] == "hi"
    for refused in ("hi-IN", "hindi", "h", 7):
        response = auth_client.patch(f"{API}/profile", {"language": refused}, format="json")
        assert_error(response, 400, "validation_error")
    client = Client()
    client.post("/language/", {"language": "HI", "next": "/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "hi"
    other = Client()
    other.post("/language/", {"language": "hi-IN", "next": "/"})
    assert settings.LANGUAGE_COOKIE_NAME not in other.cookies
