"""The sign-in pipeline (SPEC §15, §14 rules 1 and 3, §22.3 to 22.5):
``accounts/services/signin.py``.

first factor (password, sign-in code, sign-up code) → account state →
second factor (lets everyone through today) → finalise (session, last_login,
one ``login_success`` event, lockout cleared)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import selectors
from accounts.models import DeviceSession, SecurityEvent, SignupAttempt, User
from accounts.services.lockout import password_confirm
from accounts.services.password import password_forgot
from accounts.services.signin import (
    API,
    LOGIN_CODE,
    PASSWORD,
    SIGNUP_CODE,
    WEB,
    FirstFactor,
    code_first_factor,
    login_code_request,
    password_first_factor,
    signin_authenticate,
    signin_code,
    signin_complete,
    signin_finalise_django_login,
    signin_password,
    signin_password_unreadable,
    signin_signup,
)
from accounts.services.signup import signup_start
from accounts.services.tokens import session_authenticate
from accounts.tests.helpers import CODE_RE, last_code_for, messages_to, wrong_code
from accounts.tests.services.support import (
    CLIENT,
    PHONE_NUMBER,
    WRONG,
    delivered,
    email,
    event_kinds,
    phone,
    statement_shape,
    username,
)
from accounts.tests.services.support import PASSWORD as RIGHT
from authsite.errors import (
    AccountInactive,
    AccountNotVerified,
    InvalidCredentials,
    OtpAttemptsExceeded,
    OtpCooldown,
    OtpInvalid,
    OtpLocked,
    RateLimited,
)
from otp.models import OneTimeCode
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db

ATTEMPT_PASSWORD = "Pending-Sign-Up-4-Kettle"


def _attempt(address: str = "pending@example.com", password: str = ATTEMPT_PASSWORD, **extra):
    fields = {"phone": address} if address.startswith("+") else {"email": address}
    with delivered():
        return signup_start(
            email=fields.get("email"),
            phone=fields.get("phone"),
            password=password,
            client=CLIENT,
            **extra,
        )


def _request_code(address: str) -> str:
    identifier = phone(address) if address.startswith("+") else email(address)
    with delivered():
        login_code_request(identifier=identifier, client=CLIENT)
    return last_code_for(address)


def _failures() -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(kind=SecurityEvent.LOGIN_FAILURE).order_by("id"))


# --- the password first factor ------------------------------------------------------------


def test_the_right_password_proves_the_account(user):
    factor = password_first_factor(identifier=email(user.email), password=RIGHT, client=CLIENT)
    assert factor == FirstFactor(
        user=user, method=PASSWORD, identifier=user.email, security_version=user.security_version
    )
    assert factor.created is False
    # The first factor records nothing: the last stage records the sign-in.
    assert event_kinds() == []


@pytest.mark.parametrize(
    "identifier", [email("erin@example.com"), phone(PHONE_NUMBER), username("erin")]
)
def test_an_account_is_found_by_any_of_its_identifiers(make_user, identifier):
    account = make_user(email="erin@example.com", phone=PHONE_NUMBER, username="Erin")
    factor = password_first_factor(identifier=identifier, password=RIGHT, client=CLIENT)
    assert factor.user == account
    assert factor.identifier == identifier.value


def test_a_wrong_password_is_refused_and_recorded_as_a_failure_of_the_account(user):
    with pytest.raises(InvalidCredentials) as caught:
        password_first_factor(identifier=email(user.email), password=WRONG, client=CLIENT)
    assert caught.value.code == "invalid_credentials"
    assert caught.value.status == 401
    (failure,) = _failures()
    assert failure.user == user
    assert failure.identifier == "al***@example.com"
    assert failure.ip == CLIENT.ip
    assert failure.user_agent == CLIENT.user_agent


def test_an_unknown_identifier_is_refused_exactly_like_a_wrong_password(user):
    with pytest.raises(InvalidCredentials) as wrong:
        password_first_factor(identifier=email(user.email), password=WRONG, client=CLIENT)
    with pytest.raises(InvalidCredentials) as unknown:
        password_first_factor(identifier=email("nobody@example.com"), password=WRONG, client=CLIENT)
    assert unknown.value.message == wrong.value.message
    assert unknown.value.data is None and wrong.value.data is None
    assert [event.user for event in _failures()] == [user, None]


def test_password_comparison_is_exact(user):
    for guess in (RIGHT.lower(), RIGHT.upper(), RIGHT + " ", RIGHT[:-1]):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=email(user.email), password=guess, client=CLIENT)


def test_a_password_sign_in_hashes_once_for_an_account_an_attempt_and_nobody(user, hasher_calls):
    _attempt("pending@example.com")
    shapes = []
    for address in (user.email, "pending@example.com", "nobody@example.com"):
        before = sum(hasher_calls.values())
        with CaptureQueriesContext(connection) as queries, pytest.raises(InvalidCredentials):
            password_first_factor(identifier=email(address), password=WRONG, client=CLIENT)
        assert sum(hasher_calls.values()) - before == 1, address
        shapes.append(statement_shape(queries.captured_queries))
    # And the same statements: the account, the attempts, the wrong-password
    # count (SPEC §18.3; matching no row without an account), the event.
    assert shapes[0] == [
        "SELECT accounts_user",
        "SELECT accounts_signupattempt",
        "UPDATE accounts_user",
        "INSERT accounts_securityevent",
    ]
    assert shapes[0] == shapes[1] == shapes[2]


def test_a_locked_account_and_an_account_without_a_password_cost_one_hash_too(
    make_user, small_lockout, hasher_calls
):
    codes_only = make_user(email="codes@example.com", password=None)
    locked = make_user(email="locked@example.com", username="locked")
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=username("locked"), password=WRONG, client=CLIENT)
    for account in (codes_only, locked):
        before = sum(hasher_calls.values())
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=email(account.email), password=RIGHT, client=CLIENT)
        assert sum(hasher_calls.values()) - before == 1


def test_an_account_without_a_password_cannot_sign_in_with_one(make_user):
    account = make_user(email="codes@example.com", password=None)
    for guess in ("", "!", RIGHT):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=email(account.email), password=guess, client=CLIENT)


def test_a_successful_sign_in_upgrades_an_old_password_hash(user):
    User.objects.filter(pk=user.pk).update(password=make_password(RIGHT, hasher="pbkdf2_sha256"))
    password_first_factor(identifier=email(user.email), password=RIGHT, client=CLIENT)
    user.refresh_from_db()
    assert user.password.startswith("argon2")
    assert user.check_password(RIGHT)


# --- the lockout, as the password first factor applies it ------------------------------------


def test_a_wrong_password_counts_on_the_identifier_and_on_the_account(
    make_user, small_lockout, hasher_calls
):
    make_user(email="frank@example.com", phone=PHONE_NUMBER, username="frank")
    # One failure on each identifier: three on the account, one on each identifier.
    for identifier in (email("frank@example.com"), phone(PHONE_NUMBER), username("frank")):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=identifier, password=WRONG, client=CLIENT)
    # The account is locked: even its right password, on any identifier, is
    # answered like a wrong one, and checked against a throw-away hash only.
    before = hasher_calls["verify"]
    for identifier in (email("frank@example.com"), username("frank")):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=identifier, password=RIGHT, client=CLIENT)
    assert hasher_calls["verify"] == before


def test_only_the_identifiers_own_count_answers_429(make_user, small_lockout, clock):
    make_user(email="grace@example.com", username="grace")
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            password_first_factor(
                identifier=email("grace@example.com"), password=WRONG, client=CLIENT
            )
    with pytest.raises(RateLimited) as caught:
        password_first_factor(identifier=email("grace@example.com"), password=RIGHT, client=CLIENT)
    assert caught.value.retry_after == 60
    # The username shares the account's lock, but its own count is low: it is
    # answered like a wrong password, so it does not reveal that it is the
    # same account as the locked address.
    with pytest.raises(InvalidCredentials):
        password_first_factor(identifier=username("grace"), password=RIGHT, client=CLIENT)


def test_an_unknown_identifier_gets_the_same_sequence_of_answers_as_an_account(
    user, small_lockout, clock
):
    def answers(address: str) -> list[str]:
        seen = []
        for _ in range(5):
            try:
                password_first_factor(identifier=email(address), password=WRONG, client=CLIENT)
            except (InvalidCredentials, RateLimited) as exc:
                seen.append((exc.code, exc.retry_after))
        return seen

    known = answers(user.email)
    assert known == answers("nobody@example.com")
    assert [code for code, _ in known] == ["invalid_credentials"] * 3 + ["rate_limited"] * 2


def test_a_success_clears_the_count_of_the_identifier_and_of_the_account(
    user, small_lockout, clock
):
    for _round in range(3):
        for _ in range(2):
            with pytest.raises(InvalidCredentials):
                password_first_factor(identifier=email(user.email), password=WRONG, client=CLIENT)
        password_first_factor(identifier=email(user.email), password=RIGHT, client=CLIENT)


def test_a_rate_limited_try_checks_no_password_and_records_no_failure(
    user, small_lockout, clock, hasher_calls
):
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=email(user.email), password=WRONG, client=CLIENT)
    hashes = sum(hasher_calls.values())
    with pytest.raises(RateLimited):
        password_first_factor(identifier=email(user.email), password=WRONG, client=CLIENT)
    assert sum(hasher_calls.values()) == hashes
    assert len(_failures()) == 3


def test_a_locked_out_identifier_opens_again_when_the_lock_runs_out(user, small_lockout, clock):
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=email(user.email), password=WRONG, client=CLIENT)
    clock.advance(61)
    factor = password_first_factor(identifier=email(user.email), password=RIGHT, client=CLIENT)
    assert factor.user == user


# --- sign-up attempts as the candidate of a password sign-in (SPEC §22.3) ---------------------


def test_the_right_password_of_a_pending_sign_up_answers_not_verified_with_a_new_token():
    started = _attempt("pending@example.com")
    with pytest.raises(AccountNotVerified) as caught:
        password_first_factor(
            identifier=email("pending@example.com"), password=ATTEMPT_PASSWORD, client=CLIENT
        )
    assert caught.value.code == "account_not_verified"
    assert caught.value.status == 403
    data = caught.value.data
    assert data["verification"] == {"channel": "email", "destination": "pe***@example.com"}
    attempt = SignupAttempt.objects.get()
    # The old token is dead, the new one finds the same attempt.
    assert data["signup_token"] != started.signup_token
    assert selectors.signup_attempt_by_token(started.signup_token) is None
    assert selectors.signup_attempt_by_token(data["signup_token"]) == attempt
    assert not User.objects.exists()
    assert _failures() == []


def test_a_pending_sign_up_by_phone_is_told_its_code_goes_by_sms():
    _attempt(PHONE_NUMBER)
    with pytest.raises(AccountNotVerified) as caught:
        password_first_factor(
            identifier=phone(PHONE_NUMBER), password=ATTEMPT_PASSWORD, client=CLIENT
        )
    assert caught.value.data["verification"] == {
        "channel": "sms",
        "destination": "+91******3210",
    }


def test_a_wrong_password_for_a_pending_sign_up_is_a_wrong_password():
    _attempt("pending@example.com")
    with pytest.raises(InvalidCredentials):
        password_first_factor(
            identifier=email("pending@example.com"), password=WRONG, client=CLIENT
        )
    (failure,) = _failures()
    assert failure.user is None


def test_only_the_newest_live_attempt_is_checked(clock):
    _attempt("pending@example.com", password="Older-Attempt-1-Pass")
    clock.advance(31)  # past the address's cooldown
    _attempt("pending@example.com", password="Newer-Attempt-2-Pass")
    with pytest.raises(InvalidCredentials):
        password_first_factor(
            identifier=email("pending@example.com"), password="Older-Attempt-1-Pass", client=CLIENT
        )
    with pytest.raises(AccountNotVerified):
        password_first_factor(
            identifier=email("pending@example.com"), password="Newer-Attempt-2-Pass", client=CLIENT
        )


def test_an_expired_attempt_is_no_candidate(clock, settings):
    _attempt("pending@example.com")
    clock.advance(settings.SIGNUP_ATTEMPT_TTL + 1)
    with pytest.raises(InvalidCredentials):
        password_first_factor(
            identifier=email("pending@example.com"), password=ATTEMPT_PASSWORD, client=CLIENT
        )


def test_a_strangers_attempt_on_an_accounts_address_is_never_checked(user):
    _attempt(user.email, password=ATTEMPT_PASSWORD)
    with pytest.raises(InvalidCredentials):
        password_first_factor(
            identifier=email(user.email), password=ATTEMPT_PASSWORD, client=CLIENT
        )
    assert password_first_factor(identifier=email(user.email), password=RIGHT, client=CLIENT)


# --- the admin's sign-in: staff only -----------------------------------------------------------


def test_staff_only_refuses_everyone_but_active_staff_like_a_wrong_password(make_user):
    make_user(email="plain@example.com")
    make_user(email="former@example.com", is_staff=True, is_active=False)
    staff = make_user(email="staff@example.com", is_staff=True)
    for address in ("plain@example.com", "former@example.com"):
        with pytest.raises(InvalidCredentials):
            password_first_factor(
                identifier=email(address), password=RIGHT, client=CLIENT, staff_only=True
            )
    assert len(_failures()) == 2
    factor = password_first_factor(
        identifier=email(staff.email), password=RIGHT, client=CLIENT, staff_only=True
    )
    assert factor.user == staff


# --- the sign-in code first factor -------------------------------------------------------------


def test_a_sign_in_code_proves_the_address_and_marks_it_verified(make_user):
    account = make_user(phone=PHONE_NUMBER, verified=False)
    code = _request_code(PHONE_NUMBER)
    factor = code_first_factor(identifier=phone(PHONE_NUMBER), code=code, client=CLIENT)
    assert factor == FirstFactor(user=account, method=LOGIN_CODE, identifier=PHONE_NUMBER)
    account.refresh_from_db()
    assert account.phone_verified_at is not None
    assert OneTimeCode.objects.get().consumed_at is not None


def test_a_code_to_an_address_nobody_holds_makes_a_fresh_verified_account():
    code = _request_code("newcomer@example.com")
    factor = code_first_factor(identifier=email("newcomer@example.com"), code=code, client=CLIENT)
    assert factor.created is True
    account = User.objects.get()
    assert factor.user == account
    assert account.email == "newcomer@example.com"
    assert account.email_verified_at is not None
    assert not account.has_usable_password()
    assert account.profile is not None
    # The code request made before the account existed is now the account's.
    assert event_kinds(account) == [SecurityEvent.CODE_SENT, SecurityEvent.SIGNUP]


def test_a_code_sign_in_to_a_pending_address_applies_nothing_of_its_attempts(clock):
    started = _attempt(
        "pending@example.com", username="squatter", profile={"first_name": "Mallory"}
    )
    clock.advance(31)
    code = _request_code("pending@example.com")
    factor = code_first_factor(identifier=email("pending@example.com"), code=code, client=CLIENT)
    account = factor.user
    assert factor.created is True
    assert not account.has_usable_password()
    assert account.username is None
    assert account.profile.first_name == ""
    # The attempts for the address end: the stranger's token completes nothing.
    assert not SignupAttempt.objects.exists()
    assert selectors.signup_attempt_by_token(started.signup_token) is None


def test_a_code_sign_in_to_an_account_ends_the_attempts_for_its_address(user, clock):
    _attempt(user.email)  # a stranger's sign-up with the account's address
    clock.advance(31)
    code = _request_code(user.email)
    code_first_factor(identifier=email(user.email), code=code, client=CLIENT)
    assert not SignupAttempt.objects.exists()


def test_without_account_creation_a_code_to_an_unknown_address_makes_nothing(settings):
    settings.OTP_LOGIN_CREATES_ACCOUNT = False
    settings.OTP_EXPOSE_IN_RESPONSE = True  # the only way to hold the code
    with delivered():
        sent = login_code_request(identifier=email("nobody@example.com"), client=CLIENT)
    # The address is told there is no account; the message holds no code.
    (message,) = messages_to("nobody@example.com")
    assert "no account" in message
    assert not CODE_RE.search(message)
    with pytest.raises(OtpInvalid):
        code_first_factor(identifier=email("nobody@example.com"), code=sent.code, client=CLIENT)
    assert not User.objects.exists()


def test_a_wrong_code_is_refused_counted_and_recorded(user):
    code = _request_code(user.email)
    with pytest.raises(OtpInvalid) as caught:
        code_first_factor(identifier=email(user.email), code=wrong_code(code), client=CLIENT)
    assert caught.value.code == "otp_invalid"
    assert OneTimeCode.objects.get().attempts == 1
    failed = SecurityEvent.objects.get(kind=SecurityEvent.CODE_FAILED)
    assert failed.user == user


def test_a_code_dies_after_five_wrong_tries_even_for_the_right_one(user):
    code = _request_code(user.email)
    errors = []
    for _ in range(5):
        with pytest.raises((OtpInvalid, OtpAttemptsExceeded)) as caught:
            code_first_factor(identifier=email(user.email), code=wrong_code(code), client=CLIENT)
        errors.append(caught.value.code)
    assert errors == ["otp_invalid"] * 4 + ["otp_attempts_exceeded"]
    with pytest.raises(OtpAttemptsExceeded):
        code_first_factor(identifier=email(user.email), code=code, client=CLIENT)


def test_the_address_budget_of_wrong_codes_locks_it_and_is_recorded(user, settings):
    settings.OTP_MAX_FAILURES_PER_DAY = 3
    code = _request_code(user.email)
    for _ in range(2):
        with pytest.raises(OtpInvalid):
            code_first_factor(identifier=email(user.email), code=wrong_code(code), client=CLIENT)
    with pytest.raises(OtpLocked) as caught:
        code_first_factor(identifier=email(user.email), code=wrong_code(code), client=CLIENT)
    assert caught.value.code == "otp_locked"
    assert caught.value.retry_after > 0
    with pytest.raises(OtpLocked):
        code_first_factor(identifier=email(user.email), code=code, client=CLIENT)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.CODE_LOCKED, user=user).count() == 2


def test_a_sign_in_code_is_single_use(user):
    code = _request_code(user.email)
    code_first_factor(identifier=email(user.email), code=code, client=CLIENT)
    with pytest.raises(OtpInvalid):
        code_first_factor(identifier=email(user.email), code=code, client=CLIENT)


def test_a_sign_in_code_dies_with_its_lifetime(user, clock, settings):
    code = _request_code(user.email)
    clock.advance(settings.OTP_TTL)
    with pytest.raises(OtpInvalid):
        code_first_factor(identifier=email(user.email), code=code, client=CLIENT)


def test_a_password_reset_code_cannot_sign_in(user):
    with delivered():
        password_forgot(identifier=email(user.email), client=CLIENT)
    code = last_code_for(user.email)
    with pytest.raises(OtpInvalid):
        code_first_factor(identifier=email(user.email), code=code, client=CLIENT)


def test_a_code_sent_to_one_address_does_not_sign_in_another(make_user):
    make_user(email="one@example.com")
    make_user(email="two@example.com")
    code = _request_code("one@example.com")
    with pytest.raises(OtpInvalid):
        code_first_factor(identifier=email("two@example.com"), code=code, client=CLIENT)


# --- account state, second factor, finalise ----------------------------------------------------


def test_a_password_sign_in_opens_a_token_session_records_last_login_and_one_success(user, clock):
    signed_in = signin_password(
        identifier=email(user.email), password=RIGHT, client=CLIENT, kind=API
    )
    assert signed_in.user == user and signed_in.method == PASSWORD and signed_in.created is False
    session = signed_in.session
    assert session.kind == DeviceSession.API and session.revoked_at is None
    assert session.ip == CLIENT.ip and session.user_agent == CLIENT.user_agent
    assert signed_in.tokens is not None and signed_in.tokens.session == session
    authenticated, live, _claims = session_authenticate(raw_access=signed_in.tokens.access)
    assert authenticated == user and live.pk == session.pk
    user.refresh_from_db()
    assert user.last_login == clock.current
    assert event_kinds(user) == [SecurityEvent.LOGIN_SUCCESS]
    success = SecurityEvent.objects.get()
    assert success.identifier == "al***@example.com"


def test_a_web_sign_in_opens_a_web_session_row_and_no_tokens(user):
    signed_in = signin_password(
        identifier=email(user.email), password=RIGHT, client=CLIENT, kind=WEB
    )
    assert signed_in.tokens is None
    assert signed_in.session.kind == DeviceSession.WEB
    assert DeviceSession.objects.get() == signed_in.session


def test_a_disabled_account_is_refused_after_its_first_factor_and_nothing_is_opened(make_user):
    account = make_user(email="gone@example.com", is_active=False)
    with pytest.raises(AccountInactive) as caught:
        signin_password(identifier=email(account.email), password=RIGHT, client=CLIENT, kind=API)
    assert caught.value.code == "account_inactive"
    assert caught.value.status == 403
    assert not DeviceSession.objects.exists()
    assert event_kinds() == []
    account.refresh_from_db()
    assert account.last_login is None


def test_disabled_is_decided_before_unverified(make_user):
    account = make_user(email="both@example.com", is_active=False, verified=False)
    with pytest.raises(AccountInactive):
        signin_password(identifier=email(account.email), password=RIGHT, client=CLIENT, kind=API)


def test_an_unverified_account_is_told_where_its_code_goes_and_is_sent_nothing(make_user):
    account = make_user(phone=PHONE_NUMBER, verified=False)
    with delivered(), pytest.raises(AccountNotVerified) as caught:
        signin_password(identifier=phone(PHONE_NUMBER), password=RIGHT, client=CLIENT, kind=WEB)
    assert caught.value.data == {"verification": {"channel": "sms", "destination": "+91******3210"}}
    assert not OneTimeCode.objects.exists()
    assert messages_to(PHONE_NUMBER) == []
    assert not DeviceSession.objects.exists()
    account.refresh_from_db()
    assert account.last_login is None


def test_signin_complete_refuses_a_disabled_account_whatever_proved_it(user):
    user.is_active = False
    factor = FirstFactor(user=user, method=LOGIN_CODE, identifier=user.email)
    with pytest.raises(AccountInactive):
        signin_complete(factor, client=CLIENT, kind=API)
    assert not DeviceSession.objects.exists()


def test_a_code_sign_in_goes_through_the_same_last_stage(user, clock):
    code = _request_code(user.email)
    signed_in = signin_code(identifier=email(user.email), code=code, client=CLIENT, kind=API)
    assert signed_in.method == LOGIN_CODE
    assert signed_in.tokens is not None
    user.refresh_from_db()
    assert user.last_login == clock.current
    assert event_kinds(user) == [SecurityEvent.CODE_SENT, SecurityEvent.LOGIN_SUCCESS]


def test_a_sign_up_code_goes_through_the_same_last_stage(clock):
    started = _attempt("newcomer@example.com")
    code = last_code_for("newcomer@example.com")
    signed_in = signin_signup(signup_token=started.signup_token, code=code, client=CLIENT, kind=WEB)
    assert signed_in.method == SIGNUP_CODE and signed_in.created is True
    assert signed_in.session.kind == DeviceSession.WEB
    account = signed_in.user
    assert account.last_login == clock.current
    assert event_kinds(account) == [
        SecurityEvent.SIGNUP,
        SecurityEvent.VERIFICATION,
        SecurityEvent.LOGIN_SUCCESS,
    ]


def test_a_code_sign_in_clears_the_lock_of_the_account(make_user, small_lockout, clock):
    account = make_user(email="henry@example.com", username="henry")
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=username("henry"), password=WRONG, client=CLIENT)
    with pytest.raises(InvalidCredentials):  # locked: the right password is refused
        password_first_factor(identifier=email(account.email), password=RIGHT, client=CLIENT)
    code = _request_code(account.email)
    signin_code(identifier=email(account.email), code=code, client=CLIENT, kind=API)
    factor = password_first_factor(identifier=email(account.email), password=RIGHT, client=CLIENT)
    assert factor.user == account


def test_a_code_sign_in_also_clears_the_count_of_the_address_it_proved(user, small_lockout, clock):
    # Three wrong passwords on the address: the address answers 429 for a minute.
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=email(user.email), password=WRONG, client=CLIENT)
    code = _request_code(user.email)
    signin_code(identifier=email(user.email), code=code, client=CLIENT, kind=API)
    # The owner just proved the address and signed in: a success clears the
    # lockout (SPEC §14.3, §15 "finalise"), as a password success, a reset and
    # a change do for every identifier of the account.
    factor = password_first_factor(identifier=email(user.email), password=RIGHT, client=CLIENT)
    assert factor.user == user


# --- the ways in that open nothing themselves ---------------------------------------------------


def test_authenticate_gives_the_user_and_opens_nothing(user):
    assert signin_authenticate(identifier=email(user.email), password=RIGHT, client=CLIENT) == user
    assert not DeviceSession.objects.exists()
    assert event_kinds() == []
    user.refresh_from_db()
    assert user.last_login is None


def test_authenticate_gives_none_for_every_refusal_and_counts_the_failures(
    make_user, small_lockout, clock
):
    make_user(email="gone@example.com", is_active=False)
    make_user(email="unverified@example.com", verified=False)
    locked = make_user(email="locked@example.com")
    for _ in range(3):
        password_confirm(user=locked, password=WRONG)
    refused = [
        ("alice@example.com", WRONG),
        ("nobody@example.com", RIGHT),
        ("gone@example.com", RIGHT),
        ("unverified@example.com", RIGHT),
        ("locked@example.com", RIGHT),
    ]
    make_user(email="alice@example.com")
    for address, password in refused:
        assert (
            signin_authenticate(identifier=email(address), password=password, client=CLIENT) is None
        )
    assert len(_failures()) == 2  # the wrong password and the unknown address
    assert not DeviceSession.objects.exists()


def test_a_django_login_is_finalised_by_the_pipelines_last_stage(make_user, small_lockout, clock):
    account = make_user(email="ivy@example.com", username="ivy")
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            password_first_factor(identifier=username("ivy"), password=WRONG, client=CLIENT)
    session = signin_finalise_django_login(user=account, client=CLIENT)
    assert session.kind == DeviceSession.WEB
    account.refresh_from_db()
    assert account.last_login == clock.current
    success = SecurityEvent.objects.get(kind=SecurityEvent.LOGIN_SUCCESS)
    assert success.user == account and success.identifier == "i***@example.com"
    # The account's lock is cleared: its right password works again.
    factor = password_first_factor(identifier=email(account.email), password=RIGHT, client=CLIENT)
    assert factor.user == account


# --- asking for a sign-in code -------------------------------------------------------------------


def test_an_accounts_sign_in_code_goes_to_its_stored_address(user, settings):
    with delivered():
        sent = login_code_request(identifier=email(user.email), client=CLIENT)
    assert sent.channel == "email"
    assert sent.destination == "al***@example.com"
    assert sent.expires_in == settings.OTP_TTL
    assert sent.resend_in == settings.OTP_RESEND_COOLDOWN
    assert sent.code is None
    row = OneTimeCode.objects.get()
    assert (row.purpose, row.destination, row.user, row.subject) == (
        "login",
        user.email,
        user,
        "",
    )
    assert len(messages_to(user.email)) == 1
    assert SecurityEvent.objects.get(kind=SecurityEvent.CODE_SENT).user == user


def test_an_unknown_address_gets_a_code_that_will_make_its_account():
    with delivered():
        login_code_request(identifier=email("newcomer@example.com"), client=CLIENT)
    assert CODE_RE.search(messages_to("newcomer@example.com")[0])
    row = OneTimeCode.objects.get()
    assert row.user is None
    assert SecurityEvent.objects.get().user is None


def test_a_disabled_account_is_sent_nothing_but_the_same_row_is_written(make_user):
    account = make_user(email="gone@example.com", is_active=False)
    with delivered():
        sent = login_code_request(identifier=email(account.email), client=CLIENT)
    assert messages_to(account.email) == []
    row = OneTimeCode.objects.get()
    assert row.delivery_status == OneTimeCode.DeliveryStatus.SKIPPED
    assert (sent.channel, sent.destination, sent.code) == ("email", "go***@example.com", None)


def test_the_answer_to_a_code_request_is_the_same_whoever_holds_the_address(make_user):
    make_user(email="known@example.com")
    make_user(email="gone@example.com", is_active=False)
    answers = []
    for address in ("known@example.com", "nobody@example.com", "gone@example.com"):
        with delivered():
            sent = login_code_request(identifier=email(address), client=CLIENT)
        answers.append((sent.channel, sent.expires_in, sent.resend_in, sent.code))
    assert len(set(answers)) == 1


def test_a_code_request_costs_the_same_whoever_holds_the_address(make_user, hasher_calls):
    make_user(email="known@example.com")
    make_user(email="gone@example.com", is_active=False)
    shapes = []
    hashes = sum(hasher_calls.values())
    for address in ("known@example.com", "nobody@example.com", "gone@example.com"):
        with CaptureQueriesContext(connection) as queries, delivered():
            login_code_request(identifier=email(address), client=CLIENT)
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


def test_the_code_is_in_the_answer_only_when_exposed(user, settings):
    settings.OTP_EXPOSE_IN_RESPONSE = True
    with delivered():
        sent = login_code_request(identifier=email(user.email), client=CLIENT)
    assert sent.code == last_code_for(user.email)


def test_a_second_code_request_within_the_cooldown_is_refused_alike(user, clock):
    for address in (user.email, "nobody@example.com"):
        login_code_request(identifier=email(address), client=CLIENT)
        clock.advance(10)
        with pytest.raises(OtpCooldown) as caught:
            login_code_request(identifier=email(address), client=CLIENT)
        assert caught.value.retry_after == 20
        assert caught.value.status == 429


# --- an identifier that is not one ---------------------------------------------------------------


def test_an_unreadable_identifier_costs_and_counts_like_an_unknown_one(
    small_lockout, clock, hasher_calls
):
    answers = []
    for _ in range(4):
        try:
            signin_password_unreadable(raw="  Not An Address!  ", password=WRONG, client=CLIENT)
        except (InvalidCredentials, RateLimited) as exc:
            answers.append(exc.code)
    assert answers == ["invalid_credentials"] * 3 + ["rate_limited"]
    assert sum(hasher_calls.values()) == 3
    failures = _failures()
    assert len(failures) == 3
    # The junk is not stored: it may be a password typed in the wrong box.
    assert {(e.user, e.identifier, e.identifier_digest) for e in failures} == {(None, "", "")}
    # Counted on the text as typed, trimmed and lower-cased.
    with pytest.raises(RateLimited):
        signin_password_unreadable(raw="not an address!", password=WRONG, client=CLIENT)


def test_no_event_holds_a_password_or_code(user):
    code = _request_code(user.email)
    with pytest.raises(InvalidCredentials):
        password_first_factor(identifier=email(user.email), password=WRONG, client=CLIENT)
    with pytest.raises(OtpInvalid):
        code_first_factor(identifier=email(user.email), code=wrong_code(code), client=CLIENT)
    signin_code(identifier=email(user.email), code=code, client=CLIENT, kind=API)
    for event in SecurityEvent.objects.all():
        stored = " ".join(
            str(v) for v in (event.identifier, event.identifier_digest, event.user_agent)
        )
        assert WRONG not in stored
        assert not re.search(rf"{code}|{wrong_code(code)}", stored)
    assert mail.outbox  # the code did go out, by message only


# --- concurrency ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_code_sign_ins_with_one_code_make_one_account():
    code = _request_code("racer@example.com")

    def sign_in():
        return code_first_factor(identifier=email("racer@example.com"), code=code, client=CLIENT)

    results = run_concurrently(sign_in, count=5)
    made = [r for r in results if isinstance(r, FirstFactor)]
    assert len(made) == 1, results
    assert made[0].created is True
    assert all(isinstance(r, OtpInvalid) for r in results if r not in made), results
    assert User.objects.count() == 1
