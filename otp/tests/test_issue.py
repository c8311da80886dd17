"""Issuing codes: format, settings, send limits (SPEC §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from authsite.errors import DeliveryRefused, OtpCooldown, OtpSendLimit, ValidationFailed
from otp import services
from otp.models import OneTimeCode

from .conftest import EMAIL, PHONE

pytestmark = pytest.mark.django_db


def test_code_is_six_digits_and_issued_code_describes_it(issue, clock):
    issued = issue(purpose=services.SIGNUP, destination=EMAIL)

    assert len(issued.code) == 6 and issued.code.isdigit()
    assert issued.purpose == services.SIGNUP
    assert issued.channel == "email"
    assert issued.destination == EMAIL
    assert issued.expires_in == 600
    assert issued.resend_in == 30
    assert issued.expires_at == clock.current + timedelta(seconds=600)
    row = OneTimeCode.objects.get(pk=issued.id)
    assert row.expires_at == issued.expires_at
    assert row.delivery_status == "pending"


def test_codes_cover_every_digit_string_leading_zeros_included():
    codes = {services._generate_code(6) for _ in range(2000)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert any(c.startswith("0") for c in codes)
    assert len(codes) > 1900  # random, not a short cycle


def test_length_and_lifetime_come_from_settings(issue, settings):
    settings.OTP_LENGTH = 8
    settings.OTP_TTL = 300
    settings.OTP_RESEND_COOLDOWN = 45

    issued = issue()

    assert len(issued.code) == 8
    assert issued.expires_in == 300
    assert issued.resend_in == 45


def test_length_is_never_below_six_digits(issue, settings):
    settings.OTP_LENGTH = 4
    assert len(issue().code) == 6


def test_sms_channel_for_a_phone_number(issue):
    assert issue(destination=PHONE).channel == "sms"


def test_unknown_purpose_is_a_validation_error(issue):
    with pytest.raises(ValidationFailed) as excinfo:
        issue(purpose="admin")
    assert "purpose" in excinfo.value.errors


def test_resend_within_cooldown_is_refused_with_seconds_left(issue, clock):
    issue()
    clock.advance(10)
    with pytest.raises(OtpCooldown) as excinfo:
        issue()
    assert excinfo.value.retry_after == 20

    clock.advance(19.5)
    with pytest.raises(OtpCooldown) as excinfo:
        issue()
    assert excinfo.value.retry_after == 1  # rounded up, never 0

    clock.advance(0.5)
    issue()  # the cooldown has passed
    assert OneTimeCode.objects.count() == 2


def test_cooldown_is_per_destination_and_purpose(issue):
    issue(purpose=services.LOGIN, destination=EMAIL)
    issue(purpose=services.PASSWORD_RESET, destination=EMAIL)
    issue(purpose=services.LOGIN, destination="bob@example.com")
    assert OneTimeCode.objects.count() == 3


def test_cooldown_comes_from_settings(issue, clock, settings):
    settings.OTP_RESEND_COOLDOWN = 60
    issue()
    clock.advance(45)
    with pytest.raises(OtpCooldown) as excinfo:
        issue()
    assert excinfo.value.retry_after == 15


def test_fifth_send_in_an_hour_is_refused_until_the_first_leaves_the_hour(issue, clock):
    for _ in range(4):  # the first send and three resends
        issue()
        clock.advance(30)
    # t = 120 s: four sends in the hour, the oldest at t = 0.
    with pytest.raises(OtpSendLimit) as excinfo:
        issue()
    assert excinfo.value.retry_after == 3600 - 120

    clock.advance(3479)
    with pytest.raises(OtpSendLimit) as excinfo:
        issue()
    assert excinfo.value.retry_after == 1

    clock.advance(1)
    issue()  # the send of t = 0 has left the hour
    assert OneTimeCode.objects.count() == 5


def test_hourly_cap_comes_from_settings(issue, clock, settings):
    settings.OTP_MAX_SENDS_PER_HOUR = 2
    issue()
    clock.advance(100)
    issue()
    clock.advance(100)
    with pytest.raises(OtpSendLimit) as excinfo:
        issue()
    assert excinfo.value.retry_after == 3400


def test_limits_apply_alike_when_nothing_is_delivered(issue, clock, mailoutbox):
    """The enumeration-safe path (unknown address) is refused exactly like the real one."""
    issue(deliver=False)
    clock.advance(5)
    with pytest.raises(OtpCooldown) as excinfo:
        issue(deliver=False)
    assert excinfo.value.retry_after == 25
    assert mailoutbox == []
    assert OneTimeCode.objects.get().delivery_status == "skipped"


def test_sms_outside_allowed_countries_is_refused_before_anything_is_stored(
    issue, settings, sms_outbox
):
    settings.SMS_ALLOWED_COUNTRIES = ["IN"]

    with pytest.raises(DeliveryRefused) as excinfo:
        issue(destination="+14155550123")  # United States

    assert excinfo.value.errors == {"phone": [excinfo.value.message]}
    assert OneTimeCode.objects.count() == 0
    assert sms_outbox == []
    with pytest.raises(DeliveryRefused):
        issue(destination="+14155550123", deliver=False)  # refused alike when not delivered
    assert OneTimeCode.objects.count() == 0

    issue(destination=PHONE)  # India is allowed
    assert len(sms_outbox) == 1


def test_issue_costs_a_lock_one_select_and_one_insert(issue, django_assert_num_queries):
    # The destination's lock (one upsert), its recent codes, the new code.
    # Delivery after commit adds nothing in sync mode (the success is not written back).
    with django_assert_num_queries(3):
        issue()
