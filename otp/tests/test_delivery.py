"""Delivery after commit: messages, notices, failures, the worker pool (SPEC §4)."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import transaction
from django.utils import translation

from authsite.errors import OtpCooldown
from otp import delivery, services
from otp.delivery.sms import ConsoleSmsBackend, SmsMessage
from otp.models import OneTimeCode

from .conftest import EMAIL, PHONE

pytestmark = pytest.mark.django_db

LABELS = {
    services.SIGNUP: "account verification",
    services.LOGIN: "sign-in",
    services.PASSWORD_RESET: "password reset",
    services.CONTACT_CHANGE: "address change",
    services.MFA: "second sign-in step",
    services.REAUTHENTICATION: "confirmation",
}


@pytest.mark.parametrize("purpose", services.PURPOSES)
def test_email_names_site_purpose_code_and_lifetime(issue, mailoutbox, purpose):
    issued = issue(purpose=purpose, destination=EMAIL)

    (email,) = mailoutbox
    assert email.to == [EMAIL]
    assert "authsite" in email.subject and LABELS[purpose] in email.subject
    assert issued.code not in email.subject  # subjects show in notifications and lists
    for body in (email.body, email.alternatives[0][0]):
        assert issued.code in body
        assert LABELS[purpose] in body
        assert "authsite" in body
        assert "10 minutes" in body
    assert email.alternatives[0][1] == "text/html"


@pytest.mark.parametrize("purpose", services.PURPOSES)
def test_sms_names_site_purpose_code_lifetime_and_ends_with_the_webotp_line(
    issue, sms_outbox, purpose
):
    issued = issue(purpose=purpose, destination=PHONE)

    (sms,) = sms_outbox
    assert sms.to == PHONE
    assert issued.code in sms.body
    assert LABELS[purpose] in sms.body
    assert "authsite" in sms.body
    assert "10 minutes" in sms.body
    assert sms.body.splitlines()[-1] == f"@testserver #{issued.code}"


def test_lifetime_in_messages_follows_the_setting(issue, mailoutbox, sms_outbox, settings):
    settings.OTP_TTL = 300
    issue(destination=EMAIL)
    issue(destination=PHONE)
    assert "5 minutes" in mailoutbox[0].body
    assert "5 minutes" in sms_outbox[0].body
    settings.OTP_TTL = 60
    issue(destination="bob@example.com")
    assert "1 minute " in mailoutbox[1].body


def test_site_name_and_domain_come_from_settings(issue, sms_outbox, settings):
    settings.SITE_NAME = "Example & Co"
    settings.SITE_DOMAIN = "example.com"
    issued = issue(destination=PHONE)
    body = sms_outbox[0].body
    assert "Example & Co" in body  # plain text: not HTML-escaped
    assert body.splitlines()[-1] == f"@example.com #{issued.code}"


def test_nothing_is_sent_before_commit_or_after_rollback(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        services.otp_issue(purpose=services.LOGIN, destination=EMAIL)
    assert mailoutbox == []  # registered for after the commit, not sent yet
    assert len(callbacks) == 1

    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        services.otp_issue(purpose=services.LOGIN, destination="bob@example.com")
        raise Abort
    assert mailoutbox == []
    assert not OneTimeCode.objects.filter(destination="bob@example.com").exists()


def test_deliver_false_stores_the_code_and_sends_nothing(issue, mailoutbox, sms_outbox):
    issued = issue(destination=EMAIL, deliver=False)
    issue(destination=PHONE, deliver=False)
    assert mailoutbox == [] and sms_outbox == []
    assert OneTimeCode.objects.filter(delivery_status="skipped").count() == 2
    services.otp_check(purpose=services.LOGIN, destination=EMAIL, code=issued.code)


def test_template_replaces_the_message_and_extra_context_reaches_it(issue, mailoutbox, sms_outbox):
    issued = issue(purpose=services.SIGNUP, destination=EMAIL, template="notice_signup_exists")
    (email,) = mailoutbox
    assert "sign up" in email.subject
    assert issued.code not in email.body  # a notice shows no code
    assert OneTimeCode.objects.filter(pk=issued.id).exists()

    issued = issue(purpose=services.SIGNUP, destination=PHONE, template="notice_signup_exists")
    (sms,) = sms_outbox
    assert issued.code not in sms.body
    assert "#" not in sms.body  # no WebOTP line either


NOTICES = {
    "notice_signup_exists": "sign up",
    "notice_login_no_account": "no account",
    "notice_password_reset": "password was reset",
    "notice_password_changed": "password was changed",
    "notice_contact_changed": "was changed to",
    "notice_account_deleted": "deleted",
}


@pytest.mark.parametrize("template", NOTICES)
def test_notices_by_email_and_sms(
    template, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(
            destination=EMAIL, template=template, context={"new_destination": "+91******3210"}
        )
        services.message_send(
            destination=PHONE, template=template, context={"new_destination": "ne***@example.com"}
        )

    (email,) = mailoutbox
    (sms,) = sms_outbox
    assert "authsite" in email.subject and "authsite" in email.body and "authsite" in sms.body
    assert NOTICES[template] in email.body
    assert NOTICES[template] in sms.body
    if template == "notice_contact_changed":
        assert "+91******3210" in email.body
        assert "ne***@example.com" in sms.body
    assert OneTimeCode.objects.count() == 0  # nothing stored


def test_notice_to_a_country_outside_the_allowed_list_is_skipped(
    settings, sms_outbox, django_capture_on_commit_callbacks, caplog
):
    settings.SMS_ALLOWED_COUNTRIES = ["IN"]
    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(destination="+14155550123", template="notice_password_changed")
    assert sms_outbox == []
    assert "outside SMS_ALLOWED_COUNTRIES" in caplog.text


def test_console_sms_backend_prints_the_text(capsys):
    ConsoleSmsBackend().send(SmsMessage(to=PHONE, body="123456 is your code.\n\n@x #123456"))
    out = capsys.readouterr().out
    assert PHONE in out and "123456 is your code." in out


def test_email_delivery_failure_is_recorded_signalled_and_logged_without_the_code(
    issue, settings, failures, caplog, closed_port, clock, mailoutbox
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port
    settings.EMAIL_TIMEOUT = 5
    caplog.set_level(logging.DEBUG)

    issued = issue(purpose=services.PASSWORD_RESET, destination=EMAIL)

    row = OneTimeCode.objects.get(pk=issued.id)
    assert row.delivery_status == "failed"
    assert row.delivery_error and issued.code not in row.delivery_error
    assert failures == [
        (
            OneTimeCode,
            {
                "purpose": services.PASSWORD_RESET,
                "channel": "email",
                "destination": EMAIL,
                "user_id": None,
                "template": "code_password_reset",
                "code_id": issued.id,
            },
        )
    ]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Delivery failed" in r.getMessage() for r in warnings)
    assert all(issued.code not in r.getMessage() for r in caplog.records)

    # A failed delivery does not start the cooldown: the user can resend at once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    resent = issue(purpose=services.PASSWORD_RESET, destination=EMAIL)
    assert len(mailoutbox) == 1 and resent.code in mailoutbox[0].body
    # …but a delivered code does.
    with pytest.raises(OtpCooldown):
        issue(purpose=services.PASSWORD_RESET, destination=EMAIL)


def test_failed_deliveries_count_towards_the_hourly_cap(issue, settings, closed_port, clock):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port
    for _ in range(4):
        issue()
    assert OneTimeCode.objects.filter(delivery_status="failed").count() == 4
    from authsite.errors import OtpSendLimit

    with pytest.raises(OtpSendLimit):
        issue()


def test_failing_signal_receiver_does_not_break_the_request(issue, settings, closed_port):
    from otp.signals import delivery_failed

    def broken(**kwargs):
        raise RuntimeError("receiver bug")

    delivery_failed.connect(broken, weak=False)
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = closed_port
        issued = issue()
    finally:
        delivery_failed.disconnect(broken)
    assert OneTimeCode.objects.get(pk=issued.id).delivery_status == "failed"


@pytest.mark.django_db(transaction=True)
def test_thread_mode_delivers_off_the_request_thread_and_records_the_outcome(
    settings, sms_outbox, mailoutbox, failures, closed_port
):
    settings.OTP_DELIVERY_MODE = "thread"
    issued = services.otp_issue(purpose=services.LOGIN, destination=PHONE)
    by_email = services.otp_issue(purpose=services.LOGIN, destination=EMAIL)

    assert delivery.wait_for_deliveries(timeout=10)
    assert len(sms_outbox) == 1 and sms_outbox[0].body.endswith(f"#{issued.code}")
    assert len(mailoutbox) == 1 and by_email.code in mailoutbox[0].body
    assert OneTimeCode.objects.get(pk=issued.id).delivery_status == "sent"
    assert OneTimeCode.objects.get(pk=by_email.id).delivery_status == "sent"

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port
    failing = services.otp_issue(purpose=services.SIGNUP, destination=EMAIL)
    assert delivery.wait_for_deliveries(timeout=10)
    assert OneTimeCode.objects.get(pk=failing.id).delivery_status == "failed"
    assert [kwargs["code_id"] for _sender, kwargs in failures] == [failing.id]


@pytest.mark.django_db(transaction=True)
def test_thread_mode_waits_for_the_commit(settings, sms_outbox):
    settings.OTP_DELIVERY_MODE = "thread"
    with transaction.atomic():
        services.otp_issue(purpose=services.LOGIN, destination=PHONE)
        assert delivery.wait_for_deliveries(timeout=10)
        assert sms_outbox == []  # nothing handed to the pool before the commit
    assert delivery.wait_for_deliveries(timeout=10)
    assert len(sms_outbox) == 1


@pytest.mark.parametrize("purpose", services.PURPOSES)
def test_a_hindi_sms_still_ends_with_the_webotp_line(issue, sms_outbox, purpose):
    # SPEC §4 and §21: the line phones read the code from is the same in
    # every language.
    with translation.override("hi"):
        issued = issue(purpose=purpose, destination=PHONE)
    (sms,) = sms_outbox
    assert re.search(r"[\u0900-\u097F]", sms.body)
    assert issued.code in sms.body
    assert sms.body.splitlines()[-1] == f"@testserver #{issued.code}"
