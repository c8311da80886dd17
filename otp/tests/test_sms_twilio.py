"""The Twilio backend against a stub HTTP server on 127.0.0.1 (real HTTP)."""

from __future__ import annotations

import base64
import logging

import pytest

from authsite.errors import OtpCooldown
from otp import services
from otp.delivery.sms import SmsDeliveryError, SmsMessage, TwilioSmsBackend
from otp.models import OneTimeCode

from .conftest import PHONE

pytestmark = pytest.mark.django_db


def test_twilio_backend_posts_the_message_to_the_messages_resource(issue, twilio):
    issued = issue(purpose=services.LOGIN, destination=PHONE)

    (request,) = twilio.requests
    assert request["path"] == "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    credentials = base64.b64encode(b"AC0123456789abcdef:stub-auth-token").decode()
    assert request["headers"]["Authorization"] == f"Basic {credentials}"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = request["form"]
    assert form["To"] == PHONE
    assert form["From"] == "+15005550006"
    assert issued.code in form["Body"]
    assert form["Body"].splitlines()[-1] == f"@testserver #{issued.code}"
    assert OneTimeCode.objects.get(pk=issued.id).delivery_status == "pending"  # sync mode


def test_twilio_error_response_is_a_delivery_failure(issue, twilio, failures, caplog, make_user):
    user = make_user(phone=PHONE, email=None)
    twilio.status = 400
    twilio.body = {
        "code": 21211,
        "message": "The 'To' number is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    caplog.set_level(logging.DEBUG)

    issued = issue(purpose=services.LOGIN, destination=PHONE, user=user)

    assert len(twilio.requests) == 1
    row = OneTimeCode.objects.get(pk=issued.id)
    assert row.delivery_status == "failed"
    assert "HTTP 400" in row.delivery_error and "21211" in row.delivery_error
    assert issued.code not in row.delivery_error
    assert failures == [
        (
            OneTimeCode,
            {
                "purpose": services.LOGIN,
                "channel": "sms",
                "destination": PHONE,
                "user_id": user.pk,
                "template": "code_login",
                "code_id": issued.id,
            },
        )
    ]
    failed_logs = [r for r in caplog.records if "Delivery failed" in r.getMessage()]
    assert len(failed_logs) == 1 and failed_logs[0].levelno == logging.WARNING
    assert PHONE not in failed_logs[0].getMessage()  # the destination is masked
    assert all(issued.code not in r.getMessage() for r in caplog.records)

    # The user can ask again at once, and this time the provider accepts it.
    twilio.status = 201
    twilio.body = {"sid": "SM1", "status": "queued"}
    resent = issue(purpose=services.LOGIN, destination=PHONE, user=user)
    assert len(twilio.requests) == 2
    assert resent.code in twilio.requests[1]["form"]["Body"]
    with pytest.raises(OtpCooldown):
        issue(purpose=services.LOGIN, destination=PHONE, user=user)


def test_provider_echoing_the_code_does_not_put_it_in_the_row(issue, twilio, settings):
    """Even if an error text held the message body, the recorded error is scrubbed."""
    twilio.status = 500
    twilio.body = {"code": 20500, "message": "internal error"}
    issued = issue(destination=PHONE)
    row = OneTimeCode.objects.get(pk=issued.id)
    assert row.delivery_status == "failed" and issued.code not in row.delivery_error

    from otp.delivery import scrub

    assert scrub(f"echo: {issued.code}", issued.code) == "echo: [code]"


def test_unreachable_twilio_is_a_delivery_failure(issue, twilio, settings, closed_port, failures):
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{closed_port}"
    issued = issue(destination=PHONE)
    row = OneTimeCode.objects.get(pk=issued.id)
    assert row.delivery_status == "failed"
    assert "could not be reached" in row.delivery_error
    assert len(failures) == 1


def test_twilio_backend_raises_sms_delivery_error(twilio):
    twilio.status = 401
    twilio.body = {"code": 20003, "message": "Authenticate"}
    with pytest.raises(SmsDeliveryError, match=r"HTTP 401 \(error 20003\)"):
        TwilioSmsBackend().send(SmsMessage(to=PHONE, body="hello"))


def test_twilio_backend_needs_its_settings(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.TWILIO_ACCOUNT_SID = ""
    with pytest.raises(ImproperlyConfigured):
        TwilioSmsBackend()
    settings.TWILIO_ACCOUNT_SID = "AC1"
    settings.TWILIO_AUTH_TOKEN = "t"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_API_BASE = "file:///etc"
    with pytest.raises(ImproperlyConfigured):
        TwilioSmsBackend()
