"""Red team: telling whether an address has an account (SPEC §14 rule 1,
§22.2, §22.3, §22.5).

1. SPEC §22.3 leaves one signal on purpose: sign up with an address, then sign
   in with your own password — 403 if no account held it, 401 if one did —
   and it "costs them a notice to the address's owner". A sign-up with a
   phone *and* an email checks the phone only: an email that belongs to an
   account is then sent nothing (the pending email's code is rehearsed), yet
   the password sign-in by that email finds the attempt. The signal comes
   for free, without a word to the owner.
2. Failures count per account (§22.5): once an account is locked through an
   identifier anyone knows (a username is a public handle), any other
   identifier of that account answers 429 at its first try, where an
   identifier of nobody answers 401. That links a username to its private
   email or phone and tells that the address is registered.
"""

from __future__ import annotations

import pytest

from accounts.tests.helpers import messages_to
from tests.attacks.corpus import ATTACKER_PASSWORD, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
OWNED = "owner@example.com"
FREE = "nobody-here@example.com"
WRONG = "Wrong-Guess-Every-Time-1"


def _answer(response) -> tuple[int, str | None]:
    return response.status_code, response.json().get("code")


def test_a_signup_with_phone_and_email_does_not_tell_silently_that_the_email_is_taken(
    make_user, api_client
):
    make_user(email=OWNED, password=VICTIM_PASSWORD)

    # The attacker signs up twice with numbers of their own and the two emails.
    for phone, email in (("+14155550101", OWNED), ("+14155550102", FREE)):
        started = api_client.post(
            f"{API}/signup",
            {"phone": phone, "email": email, "password": ATTACKER_PASSWORD},
            format="json",
        )
        assert started.status_code == 201, started.content

    # … then signs in by each email with their own password.
    owned = api_client.post(
        f"{API}/login", {"email": OWNED, "password": ATTACKER_PASSWORD}, format="json"
    )
    free = api_client.post(
        f"{API}/login", {"email": FREE, "password": ATTACKER_PASSWORD}, format="json"
    )

    told_apart = _answer(owned) != _answer(free)
    owner_notified = bool(messages_to(OWNED))
    assert not told_apart or owner_notified, (
        f"owned address answered {_answer(owned)}, free one {_answer(free)}, "
        "and the owner of the taken address was sent nothing"
    )


def test_a_lock_through_the_public_username_does_not_reveal_the_accounts_email(
    make_user, api_client, settings
):
    make_user(email=OWNED, username="kris", password=VICTIM_PASSWORD)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        api_client.post(f"{API}/login", {"username": "kris", "password": WRONG}, format="json")
    locked = api_client.post(f"{API}/login", {"username": "kris", "password": WRONG}, format="json")
    assert locked.status_code == 429, locked.content  # the account is locked, as it should be

    # First tries of two candidate emails: the account's, and nobody's.
    candidate = api_client.post(f"{API}/login", {"email": OWNED, "password": WRONG}, format="json")
    nobody = api_client.post(f"{API}/login", {"email": FREE, "password": WRONG}, format="json")
    assert _answer(candidate) == _answer(nobody), (
        f"the locked account's email answered {_answer(candidate)} at its first try, an "
        f"unknown email {_answer(nobody)}: the username is linked to its email"
    )
