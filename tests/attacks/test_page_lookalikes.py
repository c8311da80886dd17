"""The MariaDB takeover (SPEC §22.1) through the pages rather than the API:
each look-alike spelling of the victim's address typed into the page forms —
code sign-in, forgot → verify → reset, sign-up → verify, password sign-in,
an address change — never sends the victim anything and never reaches the
victim's account, whatever code the attacker receives at the spelling they
own. The pages parse input with their own forms before calling the services,
so they are a door of their own.

Guards: they pass on MariaDB and SQLite today. Two layers hold: the forms'
normalisation (``accounts.identifiers.normalize_email``: an ASCII local
part, the domain in IDNA form) and the columns' binary collation. Replacing
the normalisation with ``strip().lower()`` fails 16 of them with the binary
collation in place (a Kelvin-sign spelling signs in as the victim) and 45 on
MariaDB with the identifier columns also set to ``utf8mb4_unicode_ci``;
loosening the collation alone leaves them passing, because every spelling
that survives normalisation is an ASCII string of its own (checked)."""

from __future__ import annotations

import pytest

from conftest import CommitClient
from tests.attacks.conftest import codes_sent_elsewhere, sent_to
from tests.attacks.corpus import (
    ATTACKER_PASSWORD,
    LOOKALIKE_EMAILS,
    LOOKALIKE_USERNAMES,
    VICTIM_EMAIL,
    VICTIM_PASSWORD,
)

pytestmark = pytest.mark.django_db

EMAILS = pytest.mark.parametrize(
    "spelling", list(LOOKALIKE_EMAILS.values()), ids=list(LOOKALIKE_EMAILS)
)


def _not_the_victim(browser, victim) -> None:
    assert browser.session.get("_auth_user_id") != str(victim.pk)
    victim.refresh_from_db()
    assert victim.email == VICTIM_EMAIL
    assert victim.check_password(VICTIM_PASSWORD)
    assert sent_to(VICTIM_EMAIL) == []


@EMAILS
def test_code_sign_in_page(victim, spelling):
    browser = CommitClient()
    browser.post("/accounts/login/code/", {"identifier": spelling})
    for code in codes_sent_elsewhere(VICTIM_EMAIL):
        browser.post("/accounts/login/code/verify/", {"otp": code})
    _not_the_victim(browser, victim)


@EMAILS
def test_forgot_verify_reset_pages(victim, spelling):
    browser = CommitClient()
    browser.post("/accounts/password/forgot/", {"identifier": spelling})
    for code in codes_sent_elsewhere(VICTIM_EMAIL):
        browser.post("/accounts/password/forgot/verify/", {"otp": code})
        browser.post(
            "/accounts/password/reset/",
            {"new_password": ATTACKER_PASSWORD, "new_password2": ATTACKER_PASSWORD},
        )
    _not_the_victim(browser, victim)
    refused = CommitClient().post(
        "/accounts/login/", {"identifier": VICTIM_EMAIL, "password": ATTACKER_PASSWORD}
    )
    assert refused.status_code == 200  # the form again: not signed in


@EMAILS
def test_signup_and_verify_pages(victim, spelling):
    browser = CommitClient()
    browser.post(
        "/accounts/signup/",
        {"email": spelling, "password": ATTACKER_PASSWORD, "password2": ATTACKER_PASSWORD},
    )
    for code in codes_sent_elsewhere(VICTIM_EMAIL):
        browser.post("/accounts/verify/", {"otp": code})
    _not_the_victim(browser, victim)


@EMAILS
def test_password_sign_in_page(victim, spelling):
    browser = CommitClient()
    browser.post("/accounts/login/", {"identifier": spelling, "password": VICTIM_PASSWORD})
    _not_the_victim(browser, victim)


@pytest.mark.parametrize(
    "spelling", list(LOOKALIKE_USERNAMES.values()), ids=list(LOOKALIKE_USERNAMES)
)
def test_password_sign_in_page_by_username(victim, spelling):
    browser = CommitClient()
    browser.post("/accounts/login/", {"identifier": spelling, "password": VICTIM_PASSWORD})
    _not_the_victim(browser, victim)


@EMAILS
def test_contact_change_page(victim, attacker, spelling):
    browser = CommitClient()
    browser.post("/accounts/login/", {"identifier": attacker.email, "password": ATTACKER_PASSWORD})
    browser.post("/accounts/reauthenticate/", {"method": "password", "password": ATTACKER_PASSWORD})
    browser.post("/accounts/contact/", {"identifier": spelling, "password": ATTACKER_PASSWORD})
    for code in codes_sent_elsewhere(VICTIM_EMAIL):
        browser.post("/accounts/contact/verify/", {"otp": code})
    attacker.refresh_from_db()
    assert attacker.email != VICTIM_EMAIL
    _not_the_victim(CommitClient(), victim)
