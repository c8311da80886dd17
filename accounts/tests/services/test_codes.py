"""Codes as accounts uses them (SPEC §4, §14 rule 4, §22.1, §22.7):
``accounts/services/codes.py`` (issue and record, spend or check and record,
what a client is told) and ``accounts/services/resend.py`` ("send a new
code", one entry point per purpose)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import SecurityEvent
from accounts.services.codes import (
    code_check_recorded,
    code_consume_recorded,
    code_issue_recorded,
    code_send,
    code_sent,
    user_code_subject,
)
from accounts.services.contact import contact_change_start
from accounts.services.resend import code_resend
from accounts.services.signup import signup_start
from accounts.tests.helpers import CODE_RE, last_code_for, messages_to, wrong_code
from accounts.tests.services.support import (
    CLIENT,
    PASSWORD,
    PHONE_NUMBER,
    delivered,
    email,
    phone,
)
from authsite import clock as clock_module
from authsite.errors import (
    DeliveryRefused,
    NotAuthenticated,
    NotFound,
    OtpAttemptsExceeded,
    OtpCooldown,
    OtpInvalid,
    OtpLocked,
    ValidationFailed,
)
from otp import services as otp
from otp.models import OneTimeCode

pytestmark = pytest.mark.django_db


def _issue(identifier, *, user=None, **extra):
    extra.setdefault("purpose", otp.LOGIN)
    with delivered():
        return code_issue_recorded(identifier=identifier, user=user, client=CLIENT, **extra)


def _issued_code(**overrides) -> otp.IssuedCode:
    fields = dict(
        id=1,
        code="012345",
        purpose=otp.LOGIN,
        channel="sms",
        destination=PHONE_NUMBER,
        expires_at=clock_module.now() + timedelta(seconds=600),
        expires_in=600,
        resend_in=30,
    )
    return otp.IssuedCode(**{**fields, **overrides})


# --- what a client is told ------------------------------------------------------------------


def test_a_client_is_told_the_channel_and_a_masked_destination_but_not_the_code():
    sent = code_sent(_issued_code())
    assert (sent.channel, sent.destination, sent.expires_in, sent.resend_in, sent.code) == (
        "sms",
        "+91******3210",
        600,
        30,
        None,
    )


def test_the_code_is_in_the_answer_only_when_exposed_for_development(settings):
    settings.OTP_EXPOSE_IN_RESPONSE = True
    assert code_sent(_issued_code()).code == "012345"


def test_an_accounts_own_codes_are_bound_to_its_id(user):
    assert user_code_subject(user) == f"user:{user.pk}"


# --- issuing ---------------------------------------------------------------------------------


def test_issuing_writes_the_code_row_and_a_code_sent_event(user):
    issued = _issue(email(user.email), user=user)
    row = OneTimeCode.objects.get()
    assert (row.purpose, row.channel, row.destination, row.user, row.subject) == (
        "login",
        "email",
        user.email,
        user,
        "",
    )
    assert issued.id == row.pk
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user, event.identifier) == ("code_sent", user, "al***@example.com")
    assert (event.ip, event.user_agent) == (CLIENT.ip, CLIENT.user_agent)


@pytest.mark.parametrize("holder", ["an account that still exists", "no account"])
def test_an_integrity_error_is_not_taken_for_a_deleted_account_when_it_is_not_one(
    user, monkeypatch, holder
):
    """Only an account deleted under the request turns the error into an
    answer for an address nobody holds; any other integrity error (a bug, a
    constraint) goes to the caller, and the code and the event are rolled
    back together."""
    from django.db import IntegrityError

    from accounts.services import codes

    real_event_record, calls = codes.event_record, []

    def broken_event_record(**kwargs):
        # Only the first: a retry taken by mistake would then succeed.
        calls.append(kwargs)
        if len(calls) == 1:
            raise IntegrityError("some other constraint")
        return real_event_record(**kwargs)

    monkeypatch.setattr(codes, "event_record", broken_event_record)
    owner = user if holder == "an account that still exists" else None
    with pytest.raises(IntegrityError, match="some other constraint"):
        _issue(email(user.email), user=owner)
    assert len(calls) == 1
    assert not OneTimeCode.objects.exists()
    assert not SecurityEvent.objects.exists()


def test_only_a_keyed_hash_of_the_code_is_stored(user):
    issued = _issue(email(user.email), user=user)
    assert last_code_for(user.email) == issued.code
    assert len(issued.code) == 6 and issued.code.isdigit()
    row = OneTimeCode.objects.get()
    stored = " ".join(str(getattr(row, f.attname)) for f in row._meta.fields)
    assert issued.code not in stored
    assert len(row.code_hash) == 64
    assert issued.code not in repr(issued)


def test_a_refused_code_writes_nothing(user, clock):
    _issue(email(user.email), user=user)
    clock.advance(5)
    with pytest.raises(OtpCooldown) as caught:
        _issue(email(user.email), user=user)
    assert (caught.value.code, caught.value.retry_after) == ("otp_cooldown", 25)
    assert OneTimeCode.objects.count() == 1
    assert SecurityEvent.objects.count() == 1


def test_a_code_not_delivered_writes_the_same_row_and_event_and_sends_nothing():
    _issue(email("nobody@example.com"), deliver=False)
    assert messages_to("nobody@example.com") == []
    row = OneTimeCode.objects.get()
    assert row.delivery_status == OneTimeCode.DeliveryStatus.SKIPPED
    assert SecurityEvent.objects.get().kind == SecurityEvent.CODE_SENT


def test_a_template_replaces_the_message_of_the_code():
    _issue(email("nobody@example.com"), template="notice_login_no_account")
    (message,) = messages_to("nobody@example.com")
    assert "no account" in message
    assert not CODE_RE.search(message)


def test_an_sms_outside_the_allowed_countries_is_refused_before_anything_is_stored(settings):
    settings.SMS_ALLOWED_COUNTRIES = ["GB"]
    with pytest.raises(DeliveryRefused) as caught:
        _issue(phone(PHONE_NUMBER))
    assert caught.value.code == "validation_error"
    assert list(caught.value.errors) == ["phone"]
    assert not OneTimeCode.objects.exists()
    assert not SecurityEvent.objects.exists()
    _issue(phone("+447400123456"))  # an allowed country


def test_a_code_for_an_account_goes_to_the_address_stored_on_it(make_user):
    account = make_user(email="stored@example.com")
    with delivered():
        sent = code_send(
            purpose=otp.LOGIN, identifier=email("typed@example.com"), user=account, client=CLIENT
        )
    assert sent.destination == "st***@example.com"
    assert messages_to("typed@example.com") == []
    assert CODE_RE.search(messages_to("stored@example.com")[0])
    assert OneTimeCode.objects.get().destination == "stored@example.com"


def test_a_code_for_no_account_goes_to_the_identifier():
    with delivered():
        sent = code_send(
            purpose=otp.LOGIN, identifier=phone(PHONE_NUMBER), user=None, client=CLIENT
        )
    assert sent.channel == "sms"
    assert CODE_RE.search(messages_to(PHONE_NUMBER)[0])


# --- spending and checking ---------------------------------------------------------------------


def test_the_right_code_is_spent_without_an_event(user, clock):
    issued = _issue(email(user.email), user=user)
    code_consume_recorded(
        purpose=otp.LOGIN, identifier=email(user.email), code=issued.code, user=user, client=CLIENT
    )
    assert OneTimeCode.objects.get().consumed_at == clock.current
    assert list(SecurityEvent.objects.values_list("kind", flat=True)) == ["code_sent"]


def test_a_pasted_code_with_spaces_is_the_code(user):
    issued = _issue(email(user.email), user=user)
    spaced = f" {issued.code[:3]} {issued.code[3:]} "
    code_consume_recorded(
        purpose=otp.LOGIN, identifier=email(user.email), code=spaced, user=user, client=CLIENT
    )


def test_a_wrong_code_is_counted_recorded_and_raised(user):
    issued = _issue(email(user.email), user=user)
    with pytest.raises(OtpInvalid):
        code_consume_recorded(
            purpose=otp.LOGIN,
            identifier=email(user.email),
            code=wrong_code(issued.code),
            user=user,
            client=CLIENT,
        )
    assert OneTimeCode.objects.get().attempts == 1
    failed = SecurityEvent.objects.get(kind=SecurityEvent.CODE_FAILED)
    assert (failed.user, failed.identifier) == (user, "al***@example.com")


def test_a_wrong_code_says_how_many_tries_it_has_left(user):
    issued = _issue(email(user.email), user=user)
    said = []
    for _ in range(4):
        with pytest.raises(OtpInvalid) as caught:
            code_consume_recorded(
                purpose=otp.LOGIN,
                identifier=email(user.email),
                code=wrong_code(issued.code),
                user=user,
                client=CLIENT,
            )
        said.append((caught.value.message, caught.value.data))
    assert said == [
        ("Invalid or expired code. 4 tries left.", {"attempts_left": 4}),
        ("Invalid or expired code. 3 tries left.", {"attempts_left": 3}),
        ("Invalid or expired code. 2 tries left.", {"attempts_left": 2}),
        ("Invalid or expired code. 1 try left.", {"attempts_left": 1}),
    ]


def test_a_wrong_code_checked_before_a_reset_says_its_tries_left_too(user):
    issued = _issue(email(user.email), user=user, purpose=otp.PASSWORD_RESET)
    with pytest.raises(OtpInvalid) as caught:
        code_check_recorded(
            purpose=otp.PASSWORD_RESET,
            identifier=email(user.email),
            code=wrong_code(issued.code),
            user=user,
            client=CLIENT,
        )
    assert caught.value.message == "Invalid or expired code. 4 tries left."
    assert caught.value.data == {"attempts_left": 4}


def test_a_code_that_was_never_sent_says_no_tries_left(user):
    with pytest.raises(OtpInvalid) as caught:
        code_consume_recorded(
            purpose=otp.LOGIN, identifier=email(user.email), code="123456", user=user, client=CLIENT
        )
    assert caught.value.message == "Invalid or expired code."
    assert caught.value.data is None


def test_the_fifth_wrong_try_kills_the_code_and_is_recorded_as_a_failure(user):
    issued = _issue(email(user.email), user=user)
    raised = []
    for _ in range(5):
        with pytest.raises((OtpInvalid, OtpAttemptsExceeded)) as caught:
            code_consume_recorded(
                purpose=otp.LOGIN,
                identifier=email(user.email),
                code=wrong_code(issued.code),
                user=user,
                client=CLIENT,
            )
        raised.append(type(caught.value))
    assert raised == [OtpInvalid] * 4 + [OtpAttemptsExceeded]
    assert SecurityEvent.objects.filter(kind=SecurityEvent.CODE_FAILED).count() == 5


def test_a_spent_budget_is_recorded_as_code_locked(user, settings):
    settings.OTP_MAX_FAILURES_PER_DAY = 1
    issued = _issue(email(user.email), user=user)
    with pytest.raises(OtpLocked):
        code_consume_recorded(
            purpose=otp.LOGIN,
            identifier=email(user.email),
            code=wrong_code(issued.code),
            user=user,
            client=CLIENT,
        )
    assert SecurityEvent.objects.filter(kind=SecurityEvent.CODE_LOCKED).count() == 1
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.CODE_FAILED).exists()


@pytest.mark.parametrize(
    "mismatch",
    [
        {"purpose": otp.PASSWORD_RESET},
        {"identifier": email("other@example.com")},
        {"subject": "user:1"},
    ],
    ids=["purpose", "destination", "subject"],
)
def test_a_code_is_bound_to_its_purpose_destination_and_subject(user, mismatch):
    issued = _issue(email(user.email), user=user)
    spend = {"purpose": otp.LOGIN, "identifier": email(user.email), **mismatch}
    with pytest.raises(OtpInvalid):
        code_consume_recorded(code=issued.code, user=user, client=CLIENT, **spend)
    assert OneTimeCode.objects.get().consumed_at is None


def test_a_code_bound_to_an_account_cannot_be_spent_by_another(make_user):
    owner = make_user(email="owner@example.com")
    other = make_user(email="other@example.com")
    issued = _issue(email("new@example.com"), user=owner, purpose=otp.CONTACT_CHANGE)
    with pytest.raises(OtpInvalid):
        code_consume_recorded(
            purpose=otp.CONTACT_CHANGE,
            identifier=email("new@example.com"),
            code=issued.code,
            user=other,
            bound_user=other,
            client=CLIENT,
        )
    code_consume_recorded(
        purpose=otp.CONTACT_CHANGE,
        identifier=email("new@example.com"),
        code=issued.code,
        user=owner,
        bound_user=owner,
        client=CLIENT,
    )


def test_checking_a_code_leaves_it_unspent(user):
    issued = _issue(email(user.email), user=user, purpose=otp.PASSWORD_RESET)
    for _ in range(2):
        code_check_recorded(
            purpose=otp.PASSWORD_RESET,
            identifier=email(user.email),
            code=issued.code,
            user=user,
            client=CLIENT,
        )
    assert OneTimeCode.objects.get().consumed_at is None
    code_consume_recorded(
        purpose=otp.PASSWORD_RESET,
        identifier=email(user.email),
        code=issued.code,
        user=user,
        client=CLIENT,
    )


def test_checking_a_wrong_code_counts_and_records_a_try(user):
    issued = _issue(email(user.email), user=user, purpose=otp.PASSWORD_RESET)
    with pytest.raises(OtpInvalid):
        code_check_recorded(
            purpose=otp.PASSWORD_RESET,
            identifier=email(user.email),
            code=wrong_code(issued.code),
            user=user,
            client=CLIENT,
        )
    assert OneTimeCode.objects.get().attempts == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.CODE_FAILED, user=user).count() == 1


def test_a_new_code_kills_the_previous_one_of_the_same_subject(user, clock):
    first = _issue(email(user.email), user=user)
    clock.advance(31)
    second = _issue(email(user.email), user=user)
    if first.code != second.code:
        with pytest.raises(OtpInvalid):
            code_consume_recorded(
                purpose=otp.LOGIN,
                identifier=email(user.email),
                code=first.code,
                user=user,
                client=CLIENT,
            )
    code_consume_recorded(
        purpose=otp.LOGIN, identifier=email(user.email), code=second.code, user=user, client=CLIENT
    )


# --- "send a new code" (resend.py) ---------------------------------------------------------------


def test_a_resend_for_a_sign_up_goes_to_its_attempt(clock):
    with delivered():
        started = signup_start(
            email="new@example.com", phone=None, password=PASSWORD, client=CLIENT
        )
    clock.advance(31)
    with delivered():
        sent = code_resend(purpose=otp.SIGNUP, signup_token=started.signup_token, client=CLIENT)
    assert sent.destination == "n***@example.com"
    assert len(messages_to("new@example.com")) == 2
    assert OneTimeCode.objects.filter(purpose="signup").count() == 2


def test_a_sign_up_resend_needs_its_token():
    with pytest.raises(ValidationFailed) as caught:
        code_resend(purpose=otp.SIGNUP, identifier=email("new@example.com"), client=CLIENT)
    assert list(caught.value.errors) == ["signup_token"]


@pytest.mark.parametrize(
    ("purpose", "subject_word"), [(otp.LOGIN, "sign-in"), (otp.PASSWORD_RESET, "password reset")]
)
def test_a_resend_for_sign_in_or_reset_sends_that_purposes_code(user, purpose, subject_word):
    with delivered():
        code_resend(purpose=purpose, identifier=email(user.email), client=CLIENT)
    assert OneTimeCode.objects.get().purpose == purpose
    (message,) = messages_to(user.email)
    assert subject_word in message.splitlines()[0]


def test_a_resend_without_an_address_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        code_resend(purpose=otp.LOGIN, client=CLIENT)
    assert list(caught.value.errors) == ["email"]


def test_a_resend_for_an_unknown_purpose_is_refused(user):
    with pytest.raises(ValidationFailed) as caught:
        code_resend(purpose="admin", identifier=email(user.email), client=CLIENT)
    assert list(caught.value.errors) == ["purpose"]


def test_an_address_change_resend_needs_a_signed_in_user(user):
    with pytest.raises(NotAuthenticated) as caught:
        code_resend(purpose=otp.CONTACT_CHANGE, identifier=email("new@example.com"), client=CLIENT)
    assert (caught.value.code, caught.value.status) == ("not_authenticated", 401)


def test_an_address_change_resend_goes_only_to_the_pending_address(user, clock):
    with delivered():
        contact_change_start(
            user=user, identifier=email("new@example.com"), password=PASSWORD, client=CLIENT
        )
    clock.advance(31)
    with delivered():
        code_resend(
            purpose=otp.CONTACT_CHANGE,
            identifier=email("new@example.com"),
            user=user,
            client=CLIENT,
        )
    assert len(messages_to("new@example.com")) == 2
    with pytest.raises(NotFound):
        code_resend(
            purpose=otp.CONTACT_CHANGE,
            identifier=email("other@example.com"),
            user=user,
            client=CLIENT,
        )


# --- the address's budget of wrong codes (SPEC §4) ---------------------------------------------


def test_a_new_code_does_not_refill_the_budget_of_wrong_codes(user, clock, settings):
    settings.OTP_MAX_FAILURES_PER_DAY = 3
    first = _issue(email(user.email), user=user)
    for _ in range(2):
        with pytest.raises(OtpInvalid):
            code_consume_recorded(
                purpose=otp.LOGIN,
                identifier=email(user.email),
                code=wrong_code(first.code),
                user=user,
                client=CLIENT,
            )
    clock.advance(31)
    second = _issue(email(user.email), user=user)
    with pytest.raises(OtpLocked):
        code_consume_recorded(
            purpose=otp.LOGIN,
            identifier=email(user.email),
            code=wrong_code(second.code),
            user=user,
            client=CLIENT,
        )
    # Locked: no new code either, until the oldest wrong try leaves the 24 h window.
    clock.advance(31)
    with pytest.raises(OtpLocked) as caught:
        _issue(email(user.email), user=user)
    assert 0 < caught.value.retry_after <= 24 * 3600
    clock.advance(24 * 3600)
    _issue(email(user.email), user=user)


def test_the_budget_is_per_purpose(user, settings):
    settings.OTP_MAX_FAILURES_PER_DAY = 1
    issued = _issue(email(user.email), user=user)
    with pytest.raises(OtpLocked):
        code_consume_recorded(
            purpose=otp.LOGIN,
            identifier=email(user.email),
            code=wrong_code(issued.code),
            user=user,
            client=CLIENT,
        )
    reset = _issue(email(user.email), user=user, purpose=otp.PASSWORD_RESET)
    code_consume_recorded(
        purpose=otp.PASSWORD_RESET,
        identifier=email(user.email),
        code=reset.code,
        user=user,
        client=CLIENT,
    )
