"""The victim and what an attacker can read: messages sent to addresses that
are not the victim's."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.tests.helpers import CODE_RE
from tests.attacks.corpus import (
    ATTACKER_PASSWORD,
    VICTIM_EMAIL,
    VICTIM_PASSWORD,
    VICTIM_PHONE,
    VICTIM_USERNAME,
)


@pytest.fixture
def victim(make_user):
    """A verified account with an email address, a username and a password."""
    return make_user(email=VICTIM_EMAIL, username=VICTIM_USERNAME, password=VICTIM_PASSWORD)


@pytest.fixture
def phone_victim(make_user):
    return make_user(phone=VICTIM_PHONE, password=VICTIM_PASSWORD)


@pytest.fixture
def attacker(make_user):
    return make_user(email="attacker@evil.example", password=ATTACKER_PASSWORD)


def all_messages() -> list[tuple[str, str]]:
    """Every email and SMS sent so far, as (destination, text)."""
    from otp.delivery import sms

    sent = [(to, m.subject + "\n" + m.body) for m in mail.outbox for to in m.to]
    sent += [(m.to, m.body) for m in sms.outbox]
    return sent


def sent_to(address: str) -> list[str]:
    return [text for to, text in all_messages() if to == address]


def codes_sent_elsewhere(address: str) -> list[str]:
    """The codes in messages to any destination but ``address``: what an
    attacker who owns those destinations can read."""
    codes = []
    for to, text in all_messages():
        if to != address:
            codes.extend(CODE_RE.findall(text))
    return codes
