"""Findings 2 and 6: the sign-in lockout counted the typed string, so
look-alike spellings of a locked address went on guessing (and the right
password through one of them signed in while the account was locked); and it
counted each identifier apart, so an account with an email, a phone and a
username took three times the guesses. SPEC §22.1, §22.5, §14.3."""

from __future__ import annotations

import pytest

from tests.attacks.corpus import (
    LOOKALIKE_EMAILS,
    LOOKALIKE_USERNAMES,
    VICTIM_EMAIL,
    VICTIM_PASSWORD,
    VICTIM_PHONE,
    VICTIM_USERNAME,
)

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
WRONG = "Not-The-Password-1"


def _login(api_client, password: str, **identifier):
    return api_client.post(LOGIN, {**identifier, "password": password}, format="json")


def _lock(api_client, settings, **identifier) -> None:
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert _login(api_client, WRONG, **identifier).status_code == 401
    assert _login(api_client, VICTIM_PASSWORD, **identifier).status_code == 429


@pytest.mark.parametrize("spelling", list(LOOKALIKE_EMAILS.values()), ids=list(LOOKALIKE_EMAILS))
def test_a_locked_account_stays_locked_through_every_lookalike_email(
    api_client, settings, victim, spelling
):
    _lock(api_client, settings, email=VICTIM_EMAIL)
    response = _login(api_client, VICTIM_PASSWORD, email=spelling)
    assert response.status_code != 200, "signed in through a look-alike while locked"
    assert _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL).status_code == 429


@pytest.mark.parametrize(
    "spelling", list(LOOKALIKE_USERNAMES.values()), ids=list(LOOKALIKE_USERNAMES)
)
def test_a_locked_account_stays_locked_through_every_lookalike_username(
    api_client, settings, victim, spelling
):
    _lock(api_client, settings, username=VICTIM_USERNAME)
    assert _login(api_client, VICTIM_PASSWORD, username=spelling).status_code != 200


@pytest.mark.parametrize(
    "spelling",
    [LOOKALIKE_EMAILS["accent in second label"], LOOKALIKE_EMAILS["dotless i in local part"]],
)
def test_the_admin_signin_of_a_locked_account_stays_locked_through_lookalikes(
    api_client, web_client, settings, make_user, spelling
):
    make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD, is_staff=True, is_superuser=True)
    _lock(api_client, settings, email=VICTIM_EMAIL)
    web_client.post("/admin/login/", {"username": spelling, "password": VICTIM_PASSWORD})
    assert "_auth_user_id" not in web_client.session
    locked = web_client.post(
        "/admin/login/", {"username": VICTIM_EMAIL, "password": VICTIM_PASSWORD}
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in web_client.session


def test_failures_on_every_identifier_of_one_account_count_toward_one_lock(
    api_client, settings, make_user
):
    make_user(
        email=VICTIM_EMAIL, phone=VICTIM_PHONE, username=VICTIM_USERNAME, password=VICTIM_PASSWORD
    )
    identifiers = [
        {"email": VICTIM_EMAIL},
        {"phone": VICTIM_PHONE},
        {"username": VICTIM_USERNAME},
    ]
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        assert _login(api_client, WRONG, **identifiers[attempt % 3]).status_code == 401
    # The account is locked: even the right password opens nothing, through
    # any identifier. (Each identifier answers as its own count says — 401
    # until it alone reaches the limit — so the lock does not tell anyone
    # which identifiers belong together; see test_redteam_enumeration.)
    for identifier in identifiers:
        response = _login(api_client, VICTIM_PASSWORD, **identifier)
        assert response.status_code in (401, 429), (identifier, response.content)


def test_an_unknown_identifier_keeps_its_own_count(api_client, settings, victim):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert _login(api_client, WRONG, email="nobody@example.com").status_code == 401
    assert _login(api_client, WRONG, email="nobody@example.com").status_code == 429
    assert _login(api_client, WRONG, email="someone-else@example.com").status_code == 401
    assert _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL).status_code == 200
