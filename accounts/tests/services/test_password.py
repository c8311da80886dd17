"""Forgot → verify → reset, change, and a password set by staff (SPEC §5.3,
§14 rules 2, 5, 6, §18.2): ``accounts/services/password.py``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import DeviceSession, SecurityEvent
from accounts.services.password import (
    notify_account,
    password_change,
    password_forgot,
    password_forgot_verify,
    password_reset,
    password_set_by_staff,
    password_validate,
)
from accounts.services.signin import login_code_request, password_first_factor
from accounts.services.tokens import session_authenticate, session_open
from accounts.services.websessions import web_session_open
from accounts.tests.helpers import CODE_RE, last_code_for, messages_to, wrong_code
from accounts.tests.services.support import (
    CLIENT,
    NEW_PASSWORD,
    PASSWORD,
    PHONE_NUMBER,
    WRONG,
    delivered,
    email,
    event_kinds,
    phone,
    statement_shape,
    username,
)
from authsite.errors import (
    CurrentPasswordIncorrect,
    InvalidCredentials,
    OtpAttemptsExceeded,
    OtpInvalid,
    PasswordUnchanged,
    RateLimited,
    TokenInvalid,
    ValidationFailed,
)
from otp.models import OneTimeCode

pytestmark = pytest.mark.django_db


def _forgot(address: str) -> str | None:
    identifier = phone(address) if address.startswith("+") else email(address)
    with delivered():
        password_forgot(identifier=identifier, client=CLIENT)
    sent = messages_to(address)
    return last_code_for(address) if sent else None


def _reset(address: str, code: str, new_password: str = NEW_PASSWORD):
    identifier = phone(address) if address.startswith("+") else email(address)
    with delivered():
        return password_reset(
            identifier=identifier, code=code, new_password=new_password, client=CLIENT
        )


def _sessions(user) -> tuple[DeviceSession, DeviceSession]:
    api = session_open(user=user, client=CLIENT).session
    web = web_session_open(user=user, client=CLIENT)
    return api, web


@pytest.fixture
def breach_check_down(settings):
    """The breached-password check refuses every password: its service (a
    closed local port, see the test settings) cannot be reached."""
    settings.PASSWORD_BREACH_CHECK = "fail_closed"


# --- the rules of a password -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Sh0rt!", "too short"),
        ("alllowercase-letters", "upper-case letter"),
        ("12345678901234", "entirely numeric"),
        ("Password1!", "too common"),
    ],
)
def test_a_refused_password_comes_with_its_reason(user, password, reason):
    with pytest.raises(ValidationFailed) as caught:
        password_validate(user=user, password=password)
    (messages,) = caught.value.errors.values()
    assert any(reason in message for message in messages), messages


def test_the_reasons_are_given_under_the_field_named(user):
    with pytest.raises(ValidationFailed) as caught:
        password_validate(user=user, password="short", field="password")
    assert list(caught.value.errors) == ["password"]


def test_a_long_password_is_accepted_and_compared_whole(user):
    long_password = "Aa1!" + "x" * 124
    password_validate(user=user, password=long_password)
    password_set_by_staff(user=user, new_password=long_password, client=CLIENT)
    user.refresh_from_db()
    assert user.check_password(long_password)
    assert not user.check_password(long_password[:-1])


def test_the_local_rules_leave_out_the_breached_password_check(user, breach_check_down):
    password_validate(user=user, password=NEW_PASSWORD, local_only=True)
    with pytest.raises(ValidationFailed) as caught:
        password_validate(user=user, password=NEW_PASSWORD)
    assert "data breaches" in caught.value.errors["new_password"][0]


# --- forgot ----------------------------------------------------------------------------------


def test_a_reset_code_goes_to_an_active_accounts_address(user):
    code = _forgot(user.email)
    assert code is not None
    row = OneTimeCode.objects.get()
    assert (row.purpose, row.destination, row.user) == ("password_reset", user.email, user)
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user) == (SecurityEvent.CODE_SENT, user)


@pytest.mark.parametrize("holder", ["nobody", "disabled"])
def test_an_unknown_or_disabled_address_gets_the_same_row_and_no_message(make_user, holder):
    if holder == "disabled":
        make_user(email="target@example.com", is_active=False)
    assert _forgot("target@example.com") is None
    row = OneTimeCode.objects.get()
    assert (row.purpose, row.user, row.delivery_status) == ("password_reset", None, "skipped")
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user) == (SecurityEvent.CODE_SENT, None)


def test_the_answer_to_forgot_is_the_same_whoever_holds_the_address(make_user):
    make_user(email="known@example.com")
    make_user(email="gone@example.com", is_active=False)
    answers = set()
    for address in ("known@example.com", "nobody@example.com", "gone@example.com"):
        sent = password_forgot(identifier=email(address), client=CLIENT)
        answers.add((sent.channel, sent.expires_in, sent.resend_in, sent.code))
    assert len(answers) == 1


def test_forgot_costs_the_same_whoever_holds_the_address(make_user, hasher_calls):
    make_user(email="known@example.com")
    make_user(email="gone@example.com", is_active=False)
    shapes = []
    hashes = sum(hasher_calls.values())
    for address in ("known@example.com", "nobody@example.com", "gone@example.com"):
        with CaptureQueriesContext(connection) as queries, delivered():
            password_forgot(identifier=email(address), client=CLIENT)
        shapes.append(statement_shape(queries.captured_queries))
    assert shapes[0] == [
        "SELECT accounts_user",
        "INSERT otp_coderequestlock",  # the destination's lock (upsert)
        "SELECT otp_onetimecode",
        "INSERT otp_onetimecode",
        "INSERT accounts_securityevent",
    ]
    assert shapes[0] == shapes[1] == shapes[2]
    assert sum(hasher_calls.values()) == hashes  # no password is hashed


def test_a_phone_accounts_reset_code_goes_by_sms(make_user):
    make_user(phone=PHONE_NUMBER)
    sent = password_forgot(identifier=phone(PHONE_NUMBER), client=CLIENT)
    assert (sent.channel, sent.destination) == ("sms", "+91******3210")


def test_a_user_locked_out_of_sign_in_can_still_reset_and_is_let_in_after(
    make_user, small_lockout, clock
):
    account = make_user(email="locked@example.com", username="locked")
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=email(account.email), password=WRONG, client=CLIENT)
    with pytest.raises(RateLimited):
        password_first_factor(identifier=email(account.email), password=PASSWORD, client=CLIENT)
    with pytest.raises(InvalidCredentials):  # the account's lock holds on its username too
        password_first_factor(identifier=username("locked"), password=PASSWORD, client=CLIENT)
    code = _forgot(account.email)
    _reset(account.email, code)
    # The reset forgot every failure: the account's and each identifier's.
    for identifier in (email(account.email), username("locked")):
        assert password_first_factor(identifier=identifier, password=NEW_PASSWORD, client=CLIENT)


# --- verify (without spending) ------------------------------------------------------------------


def test_verifying_a_reset_code_leaves_it_for_the_reset(user):
    code = _forgot(user.email)
    password_forgot_verify(identifier=email(user.email), code=code, client=CLIENT)
    assert OneTimeCode.objects.get().consumed_at is None
    _reset(user.email, code)


def test_verifying_a_wrong_code_counts_a_try_and_records_it(user):
    code = _forgot(user.email)
    with pytest.raises(OtpInvalid):
        password_forgot_verify(identifier=email(user.email), code=wrong_code(code), client=CLIENT)
    assert OneTimeCode.objects.get().attempts == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.CODE_FAILED, user=user).count() == 1


def test_five_wrong_verifications_kill_the_reset_code(user):
    code = _forgot(user.email)
    for _ in range(4):
        with pytest.raises(OtpInvalid):
            password_forgot_verify(
                identifier=email(user.email), code=wrong_code(code), client=CLIENT
            )
    with pytest.raises(OtpAttemptsExceeded):
        password_forgot_verify(identifier=email(user.email), code=wrong_code(code), client=CLIENT)
    with pytest.raises(OtpAttemptsExceeded):
        _reset(user.email, code)


# --- reset ---------------------------------------------------------------------------------------


def test_a_reset_sets_the_password_and_spends_the_code(user, clock):
    code = _forgot(user.email)
    assert _reset(user.email, code) == user
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    assert OneTimeCode.objects.get().consumed_at == clock.current
    with pytest.raises(OtpInvalid):
        _reset(user.email, code, "Yet-Another-8-Password")


def test_a_reset_revokes_every_session_and_signs_nobody_in(user):
    api, web = _sessions(user)
    pair = session_open(user=user, client=CLIENT)
    _reset(user.email, _forgot(user.email))
    for session in (api, web, pair.session):
        session.refresh_from_db()
        assert (session.revoked_reason, session.revoked_at is not None) == ("password_reset", True)
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=pair.access)
    assert DeviceSession.objects.count() == 3  # none opened
    assert event_kinds(user) == [SecurityEvent.CODE_SENT, SecurityEvent.PASSWORD_RESET]


def test_a_reset_sends_a_notice_without_secrets_to_every_address(make_user):
    make_user(email="both@example.com", phone=PHONE_NUMBER)
    code = _forgot(PHONE_NUMBER)
    _reset(PHONE_NUMBER, code)
    email_notices = messages_to("both@example.com")
    sms = messages_to(PHONE_NUMBER)
    assert len(email_notices) == 1 and "password was reset" in email_notices[0]
    assert len(sms) == 2 and "password was reset" in sms[1]
    for text in (email_notices[0], sms[1]):
        assert NEW_PASSWORD not in text and code not in text and not CODE_RE.search(text)


def test_a_reset_proves_the_address_it_went_to(make_user, clock):
    account = make_user(email="unproved@example.com", phone=PHONE_NUMBER, verified=False)
    _reset(PHONE_NUMBER, _forgot(PHONE_NUMBER))
    account.refresh_from_db()
    assert account.phone_verified_at == clock.current
    assert account.email_verified_at is None


def test_a_weak_new_password_is_refused_before_the_code_is_touched(user):
    code = _forgot(user.email)
    with pytest.raises(ValidationFailed) as caught:
        _reset(user.email, code, "weak")
    assert list(caught.value.errors) == ["new_password"]
    row = OneTimeCode.objects.get()
    assert (row.attempts, row.consumed_at) == (0, None)
    _reset(user.email, code)


def test_a_weak_new_password_is_refused_alike_whoever_holds_the_address(make_user):
    make_user(email="known@example.com", username="known")
    answers = []
    for address in ("known@example.com", "nobody@example.com"):
        with pytest.raises(ValidationFailed) as caught:
            _reset(address, "000000", "weak")
        answers.append((caught.value.message, caught.value.errors))
    assert answers[0] == answers[1]
    assert not OneTimeCode.objects.exists()


def test_a_password_like_the_accounts_other_identifiers_is_refused_only_to_the_codes_holder(
    make_user,
):
    account = make_user(email="plain@example.com", username="horsebattery")
    code = _forgot(account.email)
    similar = "Horsebattery-42!"
    # With a wrong code, the answer is the code's: nothing about the username.
    with pytest.raises(OtpInvalid):
        _reset(account.email, wrong_code(code), similar)
    with pytest.raises(ValidationFailed) as caught:
        _reset(account.email, code, similar)
    assert "similar to the username" in caught.value.errors["new_password"][0]
    assert OneTimeCode.objects.get().consumed_at is None
    _reset(account.email, code)


def test_a_breached_password_is_refused_for_the_codes_holder_and_the_code_kept(
    user, breach_check_down
):
    code = _forgot(user.email)
    with pytest.raises(ValidationFailed):
        _reset(user.email, code)
    assert OneTimeCode.objects.get().consumed_at is None
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_wrong_reset_code_changes_nothing_and_is_recorded(user):
    code = _forgot(user.email)
    with pytest.raises(OtpInvalid):
        _reset(user.email, wrong_code(code))
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.CODE_FAILED).count() == 1


@pytest.mark.parametrize("holder", ["nobody", "disabled"])
def test_a_reset_code_for_no_active_account_resets_nothing(make_user, settings, holder):
    settings.OTP_EXPOSE_IN_RESPONSE = True  # the code was never sent: take it from the answer
    account = (
        make_user(email="target@example.com", is_active=False) if holder == "disabled" else None
    )
    sent = password_forgot(identifier=email("target@example.com"), client=CLIENT)
    with pytest.raises(OtpInvalid):
        _reset("target@example.com", sent.code)
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.PASSWORD_RESET).exists()
    if account is not None:
        account.refresh_from_db()
        assert account.check_password(PASSWORD)


def test_a_sign_in_code_cannot_reset_a_password(user):
    with delivered():
        login_code_request(identifier=email(user.email), client=CLIENT)
    with pytest.raises(OtpInvalid):
        _reset(user.email, last_code_for(user.email))


# --- change --------------------------------------------------------------------------------------


def _change(user, current=PASSWORD, new=NEW_PASSWORD, **extra):
    with delivered():
        return password_change(
            user=user, current_password=current, new_password=new, client=CLIENT, **extra
        )


def test_a_change_needs_the_current_password(user):
    with pytest.raises(CurrentPasswordIncorrect) as caught:
        _change(user, current=WRONG)
    assert (caught.value.code, caught.value.status) == ("current_password_incorrect", 400)
    assert list(caught.value.errors) == ["current_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_wrong_current_passwords_count_toward_the_lock(user, small_lockout, clock):
    for _ in range(3):
        with pytest.raises(CurrentPasswordIncorrect):
            _change(user, current=WRONG)
    with pytest.raises(RateLimited):
        _change(user)


def test_the_new_password_must_differ_from_the_current_one(user):
    with pytest.raises(PasswordUnchanged) as caught:
        _change(user, new=PASSWORD)
    assert (caught.value.code, list(caught.value.errors)) == (
        "password_unchanged",
        ["new_password"],
    )


def test_a_weak_new_password_is_refused_with_its_reasons(user):
    with pytest.raises(ValidationFailed) as caught:
        _change(user, new="weak")
    assert list(caught.value.errors) == ["new_password"]


def test_a_change_keeps_the_session_it_was_made_from_and_revokes_the_others(user):
    api, web = _sessions(user)
    other_web = web_session_open(user=user, client=CLIENT)
    assert _change(user, keep_session_id=web.pk) is None
    for session in (api, web, other_web):
        session.refresh_from_db()
    assert web.revoked_at is None
    assert (api.revoked_reason, other_web.revoked_reason) == ("password_changed",) * 2
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_change_from_the_api_opens_a_fresh_token_session(user):
    old = session_open(user=user, client=CLIENT)
    pair = _change(user, reopen_token_session=True)
    assert pair is not None and pair.session.pk != old.session.pk
    assert session_authenticate(raw_access=pair.access)[0] == user
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=old.access)


def test_a_change_is_recorded_once_and_noticed_at_every_address(make_user):
    account = make_user(email="both@example.com", phone=PHONE_NUMBER)
    session_open(user=account, client=CLIENT)
    _change(account)
    assert event_kinds(account) == [SecurityEvent.PASSWORD_CHANGED]
    for address in ("both@example.com", PHONE_NUMBER):
        (notice,) = messages_to(address)
        assert "password was changed" in notice
        assert NEW_PASSWORD not in notice


# --- set by staff --------------------------------------------------------------------------------


def test_a_password_set_by_staff_ends_every_session_is_recorded_and_noticed(user):
    api, web = _sessions(user)
    with delivered():
        password_set_by_staff(user=user, new_password=NEW_PASSWORD, client=CLIENT)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    for session in (api, web):
        session.refresh_from_db()
        assert session.revoked_reason == "password_changed"
    assert event_kinds(user) == [SecurityEvent.PASSWORD_CHANGED]
    (notice,) = messages_to(user.email)
    assert "password was changed" in notice


def test_a_password_set_by_staff_clears_the_lock(make_user, small_lockout, clock):
    account = make_user(email="locked@example.com")
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=email(account.email), password=WRONG, client=CLIENT)
    password_set_by_staff(user=account, new_password=NEW_PASSWORD, client=CLIENT)
    factor = password_first_factor(
        identifier=email(account.email), password=NEW_PASSWORD, client=CLIENT
    )
    assert factor.user == account


def test_a_notice_goes_to_each_address_of_the_account(make_user):
    account = make_user(email="both@example.com", phone=PHONE_NUMBER)
    with delivered():
        notify_account(user=account, template="notice_password_changed")
    assert len(messages_to("both@example.com")) == len(messages_to(PHONE_NUMBER)) == 1
