"""Red team: changing an account's address (SPEC §5.3, §14 rule 10, §22.7, §4).

1. An access token alone must not move an account to an address the holder
   of the token owns: ``POST /auth/contact/change`` asks for the password, but
   ``POST /auth/otp/resend`` with ``purpose=contact_change`` sends a code to
   any address without it, and ``POST /auth/contact/verify`` accepts any
   address whose code is right — not only the pending one the password was
   given for. A stolen access token (one hour) becomes the account for good:
   the thief's address, then a password reset.
2. The 24 h budget of wrong code tries is per destination (SPEC §4, §14
   rule 4). For ``contact_change`` it is counted per (destination, subject):
   every account asking for the same address brings ten fresh guesses at the
   codes sent to it. Enough accounts guess a code of an address nobody holds
   yet and claim it, verified — a pre-account hijack of its real owner.
"""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.services.tokens import session_open
from accounts.tests.helpers import CODE_RE, messages_to, wrong_code
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD, CommitAPIClient
from otp.models import OneTimeCode

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
THIEF_EMAIL = "thief@evil.example"
THIEF_PHONE = "+14155550123"
UNCLAIMED = "not-yet-here@example.com"


def _bearer_client(user) -> CommitAPIClient:
    """What a thief holds after stealing an access token: the token, not the password."""
    client = CommitAPIClient()
    pair = session_open(user=user, client=ClientInfo(ip="203.0.113.9"))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    return client


def _codes_in(destination: str) -> list[str]:
    return [code for text in messages_to(destination) for code in CODE_RE.findall(text)]


@pytest.mark.parametrize(
    ("field", "thief_address"), [("email", THIEF_EMAIL), ("phone", THIEF_PHONE)]
)
def test_an_access_token_alone_cannot_move_the_account_to_the_thiefs_address(
    make_user, field, thief_address
):
    victim = make_user(email="owner@example.com", password=STRONG_PASSWORD)
    thief = _bearer_client(victim)

    # The documented way asks for the password, which the thief does not have.
    refused = thief.post(
        f"{API}/contact/change", {field: thief_address, "password": "not-it"}, format="json"
    )
    assert refused.status_code == 400, refused.content
    assert _codes_in(thief_address) == []

    # "Send a new code" for an address change asks for nothing but the token.
    thief.post(
        f"{API}/otp/resend", {"purpose": "contact_change", field: thief_address}, format="json"
    )
    for code in _codes_in(thief_address):
        thief.post(f"{API}/contact/verify", {field: thief_address, "otp": code}, format="json")

    victim.refresh_from_db()
    assert getattr(victim, field) != thief_address, (
        "an access token without the password moved the account to the thief's "
        f"{field}; a password reset to it makes the takeover permanent"
    )


def test_wrong_guesses_at_one_addresss_codes_share_one_budget_whoever_asks(
    make_user, settings, clock
):
    """Several accounts asking to add the same unclaimed address must not
    multiply the wrong tries its codes can take in 24 hours."""
    budget = settings.OTP_MAX_FAILURES_PER_DAY
    accounts = [make_user(email=f"squatter{i}@evil.example") for i in range(3)]
    for account in accounts:
        client = _bearer_client(account)
        for _send in range(settings.OTP_MAX_SENDS_PER_HOUR):
            clock.advance(settings.OTP_RESEND_COOLDOWN + 1)
            sent = client.post(
                f"{API}/contact/change",
                {"email": UNCLAIMED, "password": STRONG_PASSWORD},
                format="json",
            )
            if sent.status_code != 200:
                break  # refused (429): no more codes for this address today
            code = _codes_in(UNCLAIMED)[-1]
            answer = None
            for _try in range(settings.OTP_MAX_ATTEMPTS):
                answer = client.post(
                    f"{API}/contact/verify",
                    {"email": UNCLAIMED, "otp": wrong_code(code)},
                    format="json",
                )
                if answer.status_code != 400 or answer.json()["code"] != "otp_invalid":
                    break
            if answer is not None and answer.status_code == 429:
                break  # the budget this account sees is spent
    wrong_tries = sum(
        OneTimeCode.objects.filter(destination=UNCLAIMED, purpose="contact_change").values_list(
            "attempts", flat=True
        )
    )
    assert not User.objects.filter(email=UNCLAIMED).exists()
    assert wrong_tries <= budget, (
        f"{len(accounts)} accounts made {wrong_tries} wrong guesses at the codes of one "
        f"address within a day; the budget per destination is {budget}"
    )
