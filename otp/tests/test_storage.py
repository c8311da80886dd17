"""Codes are stored as keyed hashes only and never logged (SPEC §4, §14 rules 4 and 12)."""

from __future__ import annotations

import hashlib
import logging

import pytest
from django.utils.crypto import salted_hmac

from authsite.errors import OtpInvalid
from otp import services
from otp.models import OneTimeCode

from .conftest import EMAIL, PHONE

pytestmark = pytest.mark.django_db


def test_no_column_of_any_row_holds_the_plain_code(issue, clock):
    issued = [issue(purpose=purpose) for purpose in services.PURPOSES]
    issued.append(issue(destination=PHONE))
    codes = {i.code for i in issued}

    for row in OneTimeCode.objects.all():
        for field in OneTimeCode._meta.concrete_fields:
            value = getattr(row, field.attname)
            assert value not in codes, field.name
            if isinstance(value, str):
                assert not any(code in value for code in codes), field.name


def test_stored_hash_is_an_hmac_sha256_keyed_from_the_secret_key(issue, settings):
    issued = issue()
    row = OneTimeCode.objects.get()

    expected = salted_hmac(
        "authsite.otp", f"login\x00{EMAIL}\x00{issued.code}", algorithm="sha256"
    ).hexdigest()
    assert row.code_hash == expected
    assert row.code_hash != hashlib.sha256(issued.code.encode()).hexdigest()
    # Another SECRET_KEY gives another hash: a copy of the table alone is useless.
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789abcdef"
    with pytest.raises(OtpInvalid):
        services.otp_consume(purpose="login", destination=EMAIL, code=issued.code)


def test_code_is_not_in_the_repr_of_an_issued_code(issue):
    issued = issue()
    assert issued.code not in repr(issued)


def test_no_log_record_holds_the_code(issue, caplog, clock, sms_outbox, mailoutbox):
    caplog.set_level(logging.DEBUG)

    by_email = issue(purpose=services.LOGIN, destination=EMAIL)
    by_sms = issue(purpose=services.SIGNUP, destination=PHONE)
    with pytest.raises(OtpInvalid):
        services.otp_check(purpose=services.LOGIN, destination=EMAIL, code="x")
    services.otp_check(purpose=services.LOGIN, destination=EMAIL, code=by_email.code)
    services.otp_consume(purpose=services.LOGIN, destination=EMAIL, code=by_email.code)
    services.otp_consume(purpose=services.SIGNUP, destination=PHONE, code=by_sms.code)
    clock.advance(10)
    with pytest.raises(Exception):  # noqa: B017 - the cooldown refusal is logged too
        issue(purpose=services.LOGIN, destination=EMAIL)

    assert len(sms_outbox) == 1 and len(mailoutbox) == 1  # the codes were delivered
    assert caplog.records  # and the service did log
    for record in caplog.records:
        text = record.getMessage()
        for code in (by_email.code, by_sms.code):
            assert code not in text, text
