"""Found by an attacker's pass: a sign-up with a phone and an email sends the
email a code of its own (the pending address), and that code's cooldown and
hourly cap counted per sign-up attempt. Attempts cost nothing (any valid
phone number, not the attacker's), so eight sign-ups naming one inbox sent it
eight codes in two seconds, bounded only by the per-IP limit: about 600 an
hour from one address. The codes of every sign-up attempt for one address
now share its cooldown and hourly cap, as the README always said ("attempts
cannot flood an inbox"). An account's own address change keeps limits of its
own (SPEC §22.7: another account does not spend them)."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.tests.helpers import assert_ok
from conftest import STRONG_PASSWORD
from otp.models import OneTimeCode
from tests.attacks.conftest import sent_to

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
VICTIM = "inbox-owner@example.com"


def _signup(api_client, number: int):
    return api_client.post(
        f"{API}/signup",
        {"email": VICTIM, "phone": f"+9198765{number:05d}", "password": STRONG_PASSWORD},
        format="json",
    )


def test_sign_ups_naming_one_email_send_it_one_code_per_cooldown(api_client, clock):
    for number in range(8):
        assert _signup(api_client, number).status_code == 201
    assert len(sent_to(VICTIM)) == 1
    clock.advance(settings.OTP_RESEND_COOLDOWN + 1)
    assert _signup(api_client, 100).status_code == 201
    assert len(sent_to(VICTIM)) == 2


def test_and_no_more_than_the_hourly_cap(api_client, clock):
    for number in range(settings.OTP_MAX_SENDS_PER_HOUR + 3):
        assert _signup(api_client, number).status_code == 201
        clock.advance(settings.OTP_RESEND_COOLDOWN + 1)
    assert len(sent_to(VICTIM)) == settings.OTP_MAX_SENDS_PER_HOUR
    delivered = OneTimeCode.objects.filter(destination=VICTIM, purpose="contact_change")
    assert delivered.count() == settings.OTP_MAX_SENDS_PER_HOUR


def test_an_accounts_own_address_change_keeps_its_own_limits(auth_client, api_client, clock):
    for number in range(3):
        assert _signup(api_client, number).status_code == 201
    before = len(sent_to(VICTIM))
    # A signed-in account moving to that address is not refused because of
    # the strangers' sign-ups.
    assert_ok(
        auth_client.post(
            f"{API}/contact/change",
            {"email": VICTIM, "password": STRONG_PASSWORD},
            format="json",
        )
    )
    assert len(sent_to(VICTIM)) == before + 1
