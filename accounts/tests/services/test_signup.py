"""Sign-up attempts (SPEC §5.3 as amended by §22.2): ``accounts/services/signup.py``.

A sign-up stores an attempt, never an account; the account is made when a
code sent for that attempt is entered with its ``signup_token``. The answer
is the same for a fresh address, one with other attempts and an account's."""

from __future__ import annotations

import datetime
import hashlib
from itertools import count

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import selectors
from accounts.models import SecurityEvent, SignupAttempt, User
from accounts.services import signup
from accounts.services.contact import contact_change_verify
from accounts.services.signup import (
    PendingAddress,
    signup_attempts_end,
    signup_attempts_purge,
    signup_complete,
    signup_resend,
    signup_start,
    signup_token_renew,
)
from accounts.tests.helpers import CODE_RE, last_code_for, messages_to, wrong_code
from accounts.tests.services.support import (
    CLIENT,
    PASSWORD,
    PHONE_NUMBER,
    delivered,
    email,
    event_kinds,
    phone,
    statement_shape,
)
from authsite.errors import (
    AccountExists,
    OtpCooldown,
    OtpInvalid,
    OtpSendLimit,
    ValidationFailed,
)
from otp.delivery.sms import SmsDeliveryError
from otp.models import OneTimeCode
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db

ADDRESS = "newcomer@example.com"


class FailingSmsBackend:
    """An SMS provider that refuses every message."""

    def send(self, message) -> None:
        raise SmsDeliveryError("provider unavailable")


def _start(address: str | None = ADDRESS, *, phone_number: str | None = None, **extra):
    extra.setdefault("password", PASSWORD)
    with delivered():
        return signup_start(email=address, phone=phone_number, client=CLIENT, **extra)


def _complete(started, code: str, **extra):
    return signup_complete(signup_token=started.signup_token, code=code, client=CLIENT, **extra)


def _refused(**fields) -> ValidationFailed:
    fields.setdefault("email", ADDRESS)
    fields.setdefault("phone", None)
    fields.setdefault("password", PASSWORD)
    with pytest.raises(ValidationFailed) as caught:
        signup_start(client=CLIENT, **fields)
    assert caught.value.code == "validation_error"
    return caught.value


# --- starting a sign-up ------------------------------------------------------------------------


def test_a_sign_up_stores_an_attempt_and_no_account(clock, settings):
    started = _start(username="Newcomer", profile={"first_name": "Nia"})
    attempt = SignupAttempt.objects.get()
    assert (attempt.email, attempt.phone, attempt.username) == (ADDRESS, None, "newcomer")
    assert attempt.profile == {"first_name": "Nia"}
    assert attempt.blocked is False
    assert attempt.created_at == clock.current
    assert attempt.expires_at == clock.current + datetime.timedelta(
        seconds=settings.SIGNUP_ATTEMPT_TTL
    )
    assert attempt.password != PASSWORD and check_password(PASSWORD, attempt.password)
    assert not User.objects.exists()
    assert started.primary == email(ADDRESS)
    assert started.pending is None


def test_only_a_hash_of_the_signup_token_is_stored():
    first = _start()
    second = _start("other@example.com")
    assert first.signup_token != second.signup_token
    assert len(first.signup_token) >= 40
    stored = set(SignupAttempt.objects.values_list("token_hash", flat=True))
    assert stored == {
        hashlib.sha256(t.encode()).hexdigest() for t in (first.signup_token, second.signup_token)
    }


def test_the_code_is_sent_to_the_address_and_bound_to_the_attempt(settings):
    started = _start()
    attempt = SignupAttempt.objects.get()
    row = OneTimeCode.objects.get()
    assert (row.purpose, row.destination, row.subject, row.user) == (
        "signup",
        ADDRESS,
        f"signup:{attempt.pk}",
        None,
    )
    assert CODE_RE.search(messages_to(ADDRESS)[0])
    assert (started.sent.channel, started.sent.destination) == ("email", "ne***@example.com")
    assert started.sent.expires_in == settings.OTP_TTL
    assert started.sent.code is None


def test_a_sign_up_is_recorded_as_one_anonymous_signup_event():
    _start()
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user, event.identifier) == ("signup", None, "ne***@example.com")
    assert event.ip == CLIENT.ip


def test_with_a_phone_and_an_email_the_code_goes_to_the_phone_and_the_email_waits():
    started = _start(ADDRESS, phone_number=PHONE_NUMBER)
    attempt = SignupAttempt.objects.get()
    assert (attempt.email, attempt.phone) == (ADDRESS, PHONE_NUMBER)
    assert started.primary == phone(PHONE_NUMBER)
    assert started.sent.channel == "sms"
    assert started.pending == PendingAddress(channel="email", destination="ne***@example.com")
    assert CODE_RE.search(messages_to(PHONE_NUMBER)[0])
    # The email gets a code of its own, for an address change, bound to the attempt.
    pending = OneTimeCode.objects.get(destination=ADDRESS)
    assert (pending.purpose, pending.subject) == ("contact_change", f"signup:{attempt.pk}")
    assert CODE_RE.search(messages_to(ADDRESS)[0])


def test_national_digits_with_a_dialing_code_are_stored_in_e164():
    with delivered():
        started = signup_start(
            email=None, phone="98765 43210", dialing_code="+91", password=PASSWORD, client=CLIENT
        )
    assert SignupAttempt.objects.get().phone == PHONE_NUMBER
    assert started.primary == phone(PHONE_NUMBER)


def test_an_email_is_stored_in_its_normal_form():
    _start("  Mixed.Case@EXAMPLE.com ")
    assert SignupAttempt.objects.get().email == "mixed.case@example.com"


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"email": "not-an-address"}, {"email"}),
        ({"email": None, "phone": "12"}, {"phone"}),
        ({"email": None, "phone": None}, {"email", "phone"}),
        ({"email": "  "}, {"email", "phone"}),
        ({"password": "short"}, {"password"}),
        ({"password": "alllowercaseletters"}, {"password"}),  # the composition rule
        ({"username": "1-not-a-handle"}, {"username"}),
        ({"profile": {"gender": "robot"}}, {"gender"}),
        ({"profile": {"date_of_birth": "2999-01-01"}}, {"date_of_birth"}),
    ],
)
def test_a_sign_up_with_a_bad_field_is_refused_and_stores_nothing(fields, bad):
    refused = _refused(**fields)
    assert set(refused.errors) == bad
    assert all(refused.errors[field] for field in bad)
    assert not SignupAttempt.objects.exists()
    assert not OneTimeCode.objects.exists()
    assert not SecurityEvent.objects.exists()


def test_a_taken_username_is_refused_in_any_case(make_user):
    make_user(email="owner@example.com", username="taken")
    refused = _refused(username="TAKEN")
    assert refused.errors == {"username": ["This username is already taken."]}


def test_a_password_like_the_address_is_refused():
    refused = _refused(email="horsebattery@example.com", password="Horsebattery@example1")
    assert refused.errors == {"password": ["The password is too similar to the email."]}


@pytest.mark.parametrize(
    "fields",
    [{"password": "password"}, {"username": "taken"}, {"profile": {"gender": "robot"}}],
)
def test_a_sign_up_is_refused_alike_whoever_holds_the_address(make_user, fields):
    make_user(email="owner@example.com", username="taken")
    fresh = _refused(**fields)
    owned = _refused(**{**fields, "email": "owner@example.com"})
    assert (fresh.message, fresh.errors) == (owned.message, owned.errors)


def test_a_verified_accounts_address_gets_a_notice_and_a_blocked_attempt(user):
    fresh = _start("fresh@example.com")
    taken = _start(user.email)
    attempt = SignupAttempt.objects.get(email=user.email)
    assert attempt.blocked is True
    (notice,) = messages_to(user.email)
    assert "already belongs to an account" in notice
    assert not CODE_RE.search(notice)
    # The same answer as for a fresh address.
    assert (taken.sent.channel, taken.sent.expires_in, taken.sent.resend_in) == (
        fresh.sent.channel,
        fresh.sent.expires_in,
        fresh.sent.resend_in,
    )
    assert taken.signup_token and taken.pending is None
    # The event is the account's: its owner sees someone tried.
    assert SecurityEvent.objects.get(user=user).kind == SecurityEvent.SIGNUP


def test_a_sign_up_costs_one_hash_and_the_same_statements_whoever_holds_the_address(
    make_user, hasher_calls, clock
):
    make_user(email="known@example.com")
    make_user(email="gone@example.com", is_active=False)
    _start("pending@example.com")
    clock.advance(31)
    shapes = []
    for address in (
        "fresh@example.com",
        "pending@example.com",
        "known@example.com",
        "gone@example.com",
    ):
        before = sum(hasher_calls.values())
        with CaptureQueriesContext(connection) as queries:
            started = _start(address, username=address.split("@")[0])
        assert sum(hasher_calls.values()) - before == 1, address
        assert started.signup_token
        shapes.append(statement_shape(queries.captured_queries))
    assert shapes[0] == [
        "SELECT accounts_user",  # who holds the address
        "SELECT accounts_user",  # is the username free
        "INSERT accounts_signupattempt",
        "INSERT otp_coderequestlock",  # the destination's lock (upsert)
        "SELECT otp_onetimecode",
        "INSERT otp_onetimecode",
        "INSERT accounts_securityevent",
    ]
    assert all(shape == shapes[0] for shape in shapes), shapes


def test_a_disabled_accounts_address_is_sent_nothing(make_user):
    account = make_user(email="gone@example.com", is_active=False)
    _start(account.email)
    assert SignupAttempt.objects.get().blocked is True
    assert OneTimeCode.objects.get().delivery_status == OneTimeCode.DeliveryStatus.SKIPPED
    assert messages_to(account.email) == []


def test_revealing_existing_accounts_answers_account_exists_and_stores_nothing(user, settings):
    settings.ACCOUNT_SIGNUP_REVEALS_EXISTING = True
    with pytest.raises(AccountExists) as caught:
        _start(user.email)
    assert (caught.value.code, caught.value.status) == ("account_exists", 409)
    assert not SignupAttempt.objects.exists()
    assert not OneTimeCode.objects.exists()
    _start("fresh@example.com")  # a fresh address is not refused


def test_a_later_attempt_for_the_same_address_leaves_the_earlier_one_whole(clock):
    first = _start(username="first", password="First-Attempt-1-Pass")
    first_code = last_code_for(ADDRESS)
    before = SignupAttempt.objects.get()
    clock.advance(31)
    _start(username="second", password="Second-Attempt-2-Pass")
    before.refresh_from_db()
    assert (before.username, check_password("First-Attempt-1-Pass", before.password)) == (
        "first",
        True,
    )
    # The second attempt's code did not kill the first attempt's.
    account, _primary = _complete(first, first_code)
    assert account.username == "first"
    assert account.check_password("First-Attempt-1-Pass")


def test_a_sign_up_within_the_cooldown_of_its_address_is_refused_and_stores_nothing(clock):
    _start()
    clock.advance(10)
    with pytest.raises(OtpCooldown) as caught:
        _start()
    assert caught.value.retry_after == 20
    assert SignupAttempt.objects.count() == 1
    assert SecurityEvent.objects.count() == 1


def test_the_pending_email_of_an_attempt_that_cannot_complete_or_of_an_account_gets_nothing(
    make_user,
):
    make_user(phone=PHONE_NUMBER)
    make_user(email="owned@example.com")
    _start("blocked@example.com", phone_number=PHONE_NUMBER)  # the phone has an account
    _start("owned@example.com", phone_number="+919812345678")  # the email has one
    for address in ("blocked@example.com", "owned@example.com"):
        row = OneTimeCode.objects.get(destination=address)
        assert row.delivery_status == OneTimeCode.DeliveryStatus.SKIPPED
        assert messages_to(address) == []


def test_a_failed_delivery_keeps_the_attempt_is_recorded_and_can_be_resent_at_once(settings, clock):
    settings.SMS_BACKEND = f"{__name__}.FailingSmsBackend"
    started = _start(None, phone_number=PHONE_NUMBER)
    assert SignupAttempt.objects.exists()
    row = OneTimeCode.objects.get()
    assert row.delivery_status == OneTimeCode.DeliveryStatus.FAILED
    assert "provider unavailable" in row.delivery_error
    failed = SecurityEvent.objects.get(kind=SecurityEvent.DELIVERY_FAILED)
    assert failed.identifier == "+91******3210"
    settings.SMS_BACKEND = "otp.delivery.sms.OutboxSmsBackend"
    clock.advance(1)  # a failed send does not start the cooldown
    with delivered():
        signup_resend(signup_token=started.signup_token, client=CLIENT)
    account, _primary = _complete(started, last_code_for(PHONE_NUMBER))
    assert account.phone == PHONE_NUMBER


# --- resending the code of an attempt -----------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "unknown-token", "x" * 500])
def test_a_resend_needs_the_token_of_a_live_attempt(token):
    _start()
    with pytest.raises(ValidationFailed) as caught:
        signup_resend(signup_token=token, client=CLIENT)
    assert list(caught.value.errors) == ["signup_token"]


def test_a_resend_within_the_cooldown_is_refused(clock):
    started = _start()
    clock.advance(12)
    with pytest.raises(OtpCooldown) as caught:
        signup_resend(signup_token=started.signup_token, client=CLIENT)
    assert caught.value.retry_after == 18


def test_a_resent_code_replaces_the_previous_one(clock):
    started = _start()
    old = last_code_for(ADDRESS)
    clock.advance(31)
    with delivered():
        sent = signup_resend(signup_token=started.signup_token, client=CLIENT)
    new = last_code_for(ADDRESS)
    assert sent.channel == "email" and sent.destination == "ne***@example.com"
    assert SecurityEvent.objects.filter(kind=SecurityEvent.CODE_SENT).count() == 1
    if old != new:
        with pytest.raises(OtpInvalid):
            _complete(started, old)
    account, _primary = _complete(started, new)
    assert account.email == ADDRESS


def test_a_blocked_attempt_is_resent_nothing(user, clock):
    started = _start(user.email)
    clock.advance(31)
    with delivered():
        signup_resend(signup_token=started.signup_token, client=CLIENT)
    assert len(messages_to(user.email)) == 1  # the first notice only
    newest = OneTimeCode.objects.order_by("-id").first()
    assert newest.delivery_status == OneTimeCode.DeliveryStatus.SKIPPED


def test_an_attempts_address_gets_four_codes_an_hour_at_most(clock):
    started = _start()
    for _ in range(3):
        clock.advance(31)
        signup_resend(signup_token=started.signup_token, client=CLIENT)
    clock.advance(31)
    with pytest.raises(OtpSendLimit) as caught:
        signup_resend(signup_token=started.signup_token, client=CLIENT)
    assert caught.value.code == "otp_send_limit"
    assert 0 < caught.value.retry_after <= 3600


def test_renewing_the_token_kills_the_old_one():
    started = _start()
    attempt = SignupAttempt.objects.get()
    token = signup_token_renew(attempt=attempt)
    assert selectors.signup_attempt_by_token(started.signup_token) is None
    assert selectors.signup_attempt_by_token(token) == attempt


# --- completing a sign-up ------------------------------------------------------------------------


def test_the_right_code_with_its_token_makes_the_account(clock):
    started = _start(username="Newcomer", profile={"first_name": "Nia", "city": "Pune"})
    account, primary = _complete(started, last_code_for(ADDRESS))
    assert primary == email(ADDRESS)
    account.refresh_from_db()
    assert (account.email, account.phone, account.username) == (ADDRESS, None, "newcomer")
    assert account.email_verified_at == clock.current
    assert account.check_password(PASSWORD)
    assert (account.profile.first_name, account.profile.city) == ("Nia", "Pune")
    assert not SignupAttempt.objects.exists()
    assert OneTimeCode.objects.get().consumed_at == clock.current
    # The sign-up recorded before the account existed is now the account's.
    assert event_kinds(account) == [SecurityEvent.SIGNUP, SecurityEvent.VERIFICATION]


def test_a_username_and_profile_given_at_completion_win_over_the_attempts(make_user):
    started = _start(username="first", profile={"first_name": "Old", "city": "Pune"})
    account, _primary = _complete(
        started, last_code_for(ADDRESS), username="chosen", profile={"first_name": "New"}
    )
    assert account.username == "chosen"
    assert (account.profile.first_name, account.profile.city) == ("New", "Pune")


def test_a_sign_up_with_phone_and_email_verifies_the_phone_and_keeps_the_email_pending():
    started = _start(ADDRESS, phone_number=PHONE_NUMBER)
    email_code = last_code_for(ADDRESS)
    account, primary = _complete(started, last_code_for(PHONE_NUMBER))
    assert primary == phone(PHONE_NUMBER)
    assert (account.phone, account.email, account.pending_email) == (PHONE_NUMBER, None, ADDRESS)
    assert account.phone_verified_at is not None and account.email_verified_at is None
    # The pending email's code now belongs to the account: it confirms the address.
    row = OneTimeCode.objects.get(destination=ADDRESS)
    assert (row.subject, row.user) == (f"user:{account.pk}", account)
    contact_change_verify(user=account, identifier=email(ADDRESS), code=email_code, client=CLIENT)
    account.refresh_from_db()
    assert account.email == ADDRESS and account.email_verified_at is not None


def test_a_wrong_code_makes_nothing_and_is_counted_and_recorded():
    started = _start()
    code = last_code_for(ADDRESS)
    with pytest.raises(OtpInvalid):
        _complete(started, wrong_code(code))
    assert not User.objects.exists()
    assert OneTimeCode.objects.get().attempts == 1
    failed = SecurityEvent.objects.get(kind=SecurityEvent.CODE_FAILED)
    assert failed.user is None
    # The attempt is still there: the right code completes it.
    account, _primary = _complete(started, code)
    assert account.email == ADDRESS


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_completing_needs_the_token_of_a_live_attempt(token):
    _start()
    with pytest.raises(ValidationFailed) as caught:
        signup_complete(signup_token=token, code=last_code_for(ADDRESS), client=CLIENT)
    assert list(caught.value.errors) == ["signup_token"]
    assert not User.objects.exists()


def test_an_expired_attempt_cannot_complete(clock, settings):
    started = _start()
    code = last_code_for(ADDRESS)
    clock.advance(settings.SIGNUP_ATTEMPT_TTL)
    with pytest.raises(ValidationFailed):
        _complete(started, code)


def test_a_code_completes_only_the_attempt_it_was_sent_for(clock):
    first = _start("first@example.com")
    first_code = last_code_for("first@example.com")
    clock.advance(31)
    second = _start(ADDRESS)
    with pytest.raises(OtpInvalid):
        _complete(second, first_code)
    clock.advance(31)
    # Nor another attempt for the same address.
    third = _start("first@example.com")
    with pytest.raises(OtpInvalid):
        _complete(third, first_code)
    account, _primary = _complete(first, first_code)
    assert account.email == "first@example.com"


def test_a_blocked_attempt_never_completes_even_with_its_code(user, settings):
    settings.OTP_EXPOSE_IN_RESPONSE = True  # the notice holds no code: take it from the answer
    started = _start(user.email)
    with pytest.raises(OtpInvalid):
        _complete(started, started.sent.code)
    assert User.objects.get() == user


def test_a_username_taken_since_is_asked_for_again_and_the_code_is_not_spent(make_user):
    started = _start(username="wanted")
    code = last_code_for(ADDRESS)
    make_user(email="quicker@example.com", username="wanted")
    with pytest.raises(ValidationFailed) as caught:
        _complete(started, code)
    assert list(caught.value.errors) == ["username"]
    row = OneTimeCode.objects.get(destination=ADDRESS)
    assert (row.attempts, row.consumed_at) == (0, None)
    account, _primary = _complete(started, code, username="another")
    assert account.username == "another"


def test_a_username_taken_between_the_check_and_the_insert_asks_for_another(
    make_user, monkeypatch, clock
):
    started = _start(username="wanted")
    code = last_code_for(ADDRESS)
    make_user(email="quicker@example.com", username="wanted")
    # The race: the check ran before the other account was inserted.
    check = signup.username_available
    monkeypatch.setattr(signup, "username_available", lambda value: value)
    with pytest.raises(ValidationFailed) as caught:
        _complete(started, code)
    assert caught.value.errors == {
        "username": ["This username was just taken. Choose another and ask for a new code."]
    }
    assert User.objects.count() == 1
    assert SignupAttempt.objects.exists()
    monkeypatch.setattr(signup, "username_available", check)
    clock.advance(31)
    with delivered():
        signup_resend(signup_token=started.signup_token, client=CLIENT)
    account, _primary = _complete(started, last_code_for(ADDRESS), username="another")
    assert account.username == "another"


def test_the_profile_an_attempt_holds_reaches_the_account_intact():
    started = _start(
        profile={
            "date_of_birth": "1990-05-17",
            "gender": "female",
            "preferences": ["music", "travel"],
            "attributes": {"mat_status": "single"},
        }
    )
    assert SignupAttempt.objects.get().profile["date_of_birth"] == "1990-05-17"
    account, _primary = _complete(started, last_code_for(ADDRESS))
    profile = account.profile
    profile.refresh_from_db()
    assert profile.date_of_birth == datetime.date(1990, 5, 17)
    assert (profile.gender, profile.preferences, profile.attributes) == (
        "female",
        ["music", "travel"],
        {"mat_status": "single"},
    )


def test_a_bad_profile_at_completion_is_refused_before_the_code_is_spent():
    started = _start()
    code = last_code_for(ADDRESS)
    with pytest.raises(ValidationFailed) as caught:
        _complete(started, code, profile={"gender": "robot"})
    assert list(caught.value.errors) == ["gender"]
    assert OneTimeCode.objects.get().consumed_at is None
    _complete(started, code)


def test_completing_one_attempt_ends_the_others_for_its_address(clock):
    first = _start()
    first_code = last_code_for(ADDRESS)
    clock.advance(31)
    second = _start()
    _complete(first, first_code)
    assert not SignupAttempt.objects.exists()
    with pytest.raises(ValidationFailed):
        _complete(second, last_code_for(ADDRESS))


def test_an_address_taken_since_the_attempt_answers_account_exists_and_ends_it(make_user):
    started = _start()
    code = last_code_for(ADDRESS)
    staff_made = make_user(email=ADDRESS)  # e.g. staff made the account meanwhile
    with pytest.raises(AccountExists):
        _complete(started, code)
    assert list(User.objects.all()) == [staff_made]
    assert not SignupAttempt.objects.exists()


def test_ending_the_attempts_of_an_address_ends_those_whose_code_goes_there():
    _start(ADDRESS)
    _start("second@example.com", phone_number=PHONE_NUMBER)
    # The second attempt's code goes to its phone; its email only waits.
    assert signup_attempts_end(identifier=email("second@example.com")) == 0
    assert signup_attempts_end(identifier=email(ADDRESS)) == 1
    assert signup_attempts_end(identifier=phone(PHONE_NUMBER)) == 1
    assert not SignupAttempt.objects.exists()


def test_purging_deletes_only_the_attempts_past_their_lifetime(clock, settings):
    _start("old@example.com")
    clock.advance(settings.SIGNUP_ATTEMPT_TTL // 2)
    _start("young@example.com")
    clock.advance(settings.SIGNUP_ATTEMPT_TTL // 2)
    assert signup_attempts_purge() == 1
    assert list(SignupAttempt.objects.values_list("email", flat=True)) == ["young@example.com"]


# --- concurrency ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_completions_of_one_attempt_make_one_account():
    started = _start()
    code = last_code_for(ADDRESS)
    results = run_concurrently(lambda: _complete(started, code), count=4)
    made = [r for r in results if isinstance(r, tuple)]
    assert len(made) == 1, results
    others = [r for r in results if not isinstance(r, tuple)]
    assert all(isinstance(r, OtpInvalid | ValidationFailed) for r in others), others
    assert User.objects.count() == 1
    assert not SignupAttempt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_attempts_for_one_address_completed_together_make_one_account(clock):
    first = _start()
    first_code = last_code_for(ADDRESS)
    clock.advance(31)
    second = _start()
    second_code = last_code_for(ADDRESS)
    jobs = [(first, first_code), (second, second_code)]
    turn = count()

    def complete():
        started, code = jobs[next(turn)]
        return _complete(started, code)

    results = run_concurrently(complete, count=2)
    made = [r for r in results if isinstance(r, tuple)]
    assert len(made) == 1, results
    (other,) = [r for r in results if not isinstance(r, tuple)]
    assert isinstance(other, AccountExists | OtpInvalid | ValidationFailed), other
    assert User.objects.filter(email=ADDRESS).count() == 1
