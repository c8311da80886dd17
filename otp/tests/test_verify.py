"""Checking and consuming codes: lifetime, attempts, the 24 h budget, binding (SPEC §4)."""

from __future__ import annotations

import pytest
from django.db import transaction

from authsite.errors import OtpAttemptsExceeded, OtpInvalid, OtpLocked
from otp import services
from otp.models import OneTimeCode

from .conftest import EMAIL

pytestmark = pytest.mark.django_db

DAY = 24 * 60 * 60


def wrong(code: str) -> str:
    """A code that is certainly not ``code``."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def check(code: str, **kwargs) -> None:
    kwargs.setdefault("purpose", services.LOGIN)
    kwargs.setdefault("destination", EMAIL)
    services.otp_check(code=code, **kwargs)


def consume(code: str, **kwargs) -> int:
    kwargs.setdefault("purpose", services.LOGIN)
    kwargs.setdefault("destination", EMAIL)
    return services.otp_consume(code=code, **kwargs)


def test_right_code_is_consumed_once(issue):
    issued = issue()

    assert consume(issued.code) == issued.id
    assert OneTimeCode.objects.get().consumed_at is not None
    with pytest.raises(OtpInvalid):
        consume(issued.code)


def test_check_does_not_consume(issue):
    issued = issue()
    check(issued.code)
    check(issued.code)
    assert consume(issued.code) == issued.id
    with pytest.raises(OtpInvalid):
        check(issued.code)


def test_code_works_one_second_before_expiry_and_fails_one_second_after(issue, clock):
    issued = issue()

    clock.advance(599)
    check(issued.code)

    clock.advance(2)
    with pytest.raises(OtpInvalid):
        check(issued.code)
    with pytest.raises(OtpInvalid):
        consume(issued.code)


def test_lifetime_comes_from_settings(issue, clock, settings):
    settings.OTP_TTL = 60
    issued = issue()
    clock.advance(61)
    with pytest.raises(OtpInvalid):
        consume(issued.code)


def test_wrong_try_is_counted_and_raises_invalid(issue):
    issued = issue()
    with pytest.raises(OtpInvalid):
        check(wrong(issued.code))
    with pytest.raises(OtpInvalid):
        consume(wrong(issued.code))
    assert OneTimeCode.objects.get().attempts == 2


def test_code_dies_after_five_wrong_attempts(issue):
    issued = issue()
    for _ in range(4):
        with pytest.raises(OtpInvalid):
            check(wrong(issued.code))
    with pytest.raises(OtpAttemptsExceeded):  # the fifth wrong try kills the code
        check(wrong(issued.code))

    with pytest.raises(OtpAttemptsExceeded):  # even the right code fails now
        consume(issued.code)
    with pytest.raises(OtpAttemptsExceeded):
        check(issued.code)
    assert OneTimeCode.objects.get().attempts == 5
    assert OneTimeCode.objects.get().consumed_at is None


def test_a_wrong_try_tells_the_tries_the_code_has_left(issue):
    issued = issue()
    left = []
    for verify in (check, consume, check, consume):
        with pytest.raises(OtpInvalid) as caught:
            verify(wrong(issued.code))
        left.append(caught.value.data["attempts_left"])
    assert left == [4, 3, 2, 1]
    with pytest.raises(OtpAttemptsExceeded):
        check(wrong(issued.code))


def test_the_tries_left_follow_the_setting(issue, settings):
    settings.OTP_MAX_ATTEMPTS = 3
    issued = issue()
    with pytest.raises(OtpInvalid) as caught:
        consume(wrong(issued.code))
    assert caught.value.data == {"attempts_left": 2}


def test_no_tries_left_are_told_when_no_try_was_counted(issue, clock):
    with pytest.raises(OtpInvalid) as caught:
        consume("123456", destination="nobody@example.com")  # no code at all
    assert caught.value.data is None
    issued = issue()
    consume(issued.code)
    with pytest.raises(OtpInvalid) as caught:
        consume(wrong(issued.code))  # a spent code counts nothing
    assert caught.value.data is None
    assert OneTimeCode.objects.get().attempts == 0


def test_attempts_per_code_come_from_settings(issue, settings):
    settings.OTP_MAX_ATTEMPTS = 2
    issued = issue()
    with pytest.raises(OtpInvalid):
        check(wrong(issued.code))
    with pytest.raises(OtpAttemptsExceeded):
        check(wrong(issued.code))
    with pytest.raises(OtpAttemptsExceeded):
        consume(issued.code)


def test_failure_budget_spans_resends_and_then_refuses_everything(issue, clock):
    first = issue()
    for _ in range(4):
        with pytest.raises(OtpInvalid):
            check(wrong(first.code))
    clock.advance(31)  # past the cooldown
    second = issue()  # a resend does not reset the count
    for _ in range(4):
        with pytest.raises(OtpInvalid):
            check(wrong(second.code))
    clock.advance(31)
    third = issue()
    with pytest.raises(OtpInvalid):  # 9 wrong tries in 24 h
        check(wrong(third.code))
    with pytest.raises(OtpLocked) as excinfo:  # the 10th spends the budget
        check(wrong(third.code))
    # Enough tries leave the window when the first code's 4 do, 24 h after it.
    assert excinfo.value.retry_after == DAY - 62

    with pytest.raises(OtpLocked) as excinfo:  # the right code of the newest code
        consume(third.code)
    assert excinfo.value.retry_after == DAY - 62
    clock.advance(60)
    with pytest.raises(OtpLocked) as excinfo:  # and a fresh code
        issue()
    assert excinfo.value.retry_after == DAY - 122
    assert OneTimeCode.objects.count() == 3

    clock.advance(DAY - 122)  # the first code's tries leave the window
    fresh = issue()
    assert consume(fresh.code) == fresh.id


def test_failure_budget_is_per_destination_and_purpose(issue, settings):
    settings.OTP_MAX_FAILURES_PER_DAY = 3
    login = issue(purpose=services.LOGIN)
    reset = issue(purpose=services.PASSWORD_RESET)
    other = issue(destination="bob@example.com")
    for _ in range(2):
        with pytest.raises(OtpInvalid):
            check(wrong(login.code))
    with pytest.raises(OtpLocked):
        check(wrong(login.code))

    check(reset.code, purpose=services.PASSWORD_RESET)
    check(other.code, destination="bob@example.com")


def test_success_does_not_clear_past_failures(issue, clock):
    """Documented in otp_consume: the budget keeps counting after a success."""
    first = issue()
    for _ in range(4):
        with pytest.raises(OtpInvalid):
            check(wrong(first.code))
    clock.advance(31)
    second = issue()
    for _ in range(4):
        with pytest.raises(OtpInvalid):
            check(wrong(second.code))
    clock.advance(31)
    third = issue()
    assert consume(third.code) == third.id  # a success, 8 failures behind it

    clock.advance(31)
    fourth = issue()
    with pytest.raises(OtpInvalid):
        check(wrong(fourth.code))
    with pytest.raises(OtpLocked):  # 10 failures: the success did not reset them
        check(wrong(fourth.code))


def test_new_code_kills_the_previous_one(issue, clock):
    old = issue()
    clock.advance(31)
    new = issue()
    if old.code != new.code:  # one chance in a million that they coincide
        with pytest.raises(OtpInvalid):
            consume(old.code)
    assert consume(new.code) == new.id
    assert OneTimeCode.objects.get(pk=old.id).consumed_at is None


def test_a_login_code_does_not_reset_a_password(issue):
    issued = issue(purpose=services.LOGIN)
    with pytest.raises(OtpInvalid):
        consume(issued.code, purpose=services.PASSWORD_RESET)
    consume(issued.code, purpose=services.LOGIN)


def test_stored_hash_is_bound_to_purpose_and_destination(issue):
    """Even a row relabelled in the database does not accept the code: the
    hash covers purpose and destination."""
    issued = issue(purpose=services.LOGIN)
    OneTimeCode.objects.filter(pk=issued.id).update(purpose=services.PASSWORD_RESET)
    with pytest.raises(OtpInvalid):
        consume(issued.code, purpose=services.PASSWORD_RESET)

    other = issue(purpose=services.SIGNUP, destination=EMAIL)
    OneTimeCode.objects.filter(pk=other.id).update(destination="mallory@example.com")
    with pytest.raises(OtpInvalid):
        consume(other.code, purpose=services.SIGNUP, destination="mallory@example.com")


def test_a_code_for_one_destination_does_not_work_for_another(issue):
    issued = issue(destination=EMAIL)
    with pytest.raises(OtpInvalid):
        consume(issued.code, destination="bob@example.com")
    consume(issued.code, destination=EMAIL)


def test_contact_change_code_bound_to_one_user_fails_for_another(issue, make_user):
    alice = make_user(email="alice@example.com")
    bob = make_user(email="bob@example.com")
    issued = issue(purpose=services.CONTACT_CHANGE, destination="new@example.com", user=alice)

    with pytest.raises(OtpInvalid):
        check(issued.code, purpose=services.CONTACT_CHANGE, destination="new@example.com", user=bob)
    with pytest.raises(OtpInvalid):
        consume(
            issued.code, purpose=services.CONTACT_CHANGE, destination="new@example.com", user=bob
        )
    assert (
        consume(
            issued.code, purpose=services.CONTACT_CHANGE, destination="new@example.com", user=alice
        )
        == issued.id
    )


def test_unknown_destination_is_invalid():
    with pytest.raises(OtpInvalid):
        consume("123456", destination="nobody@example.com")


def test_pasted_spaces_are_ignored(issue):
    issued = issue()
    consume(f" {issued.code[:3]} {issued.code[3:]} ")


def test_errors_leave_the_callers_transaction_usable(issue):
    """Errors are raised outside otp's savepoint-less atomic block, so a caller
    that catches one inside its own transaction can carry on, and the counted
    wrong try commits with it."""
    issued = issue()
    with transaction.atomic():
        with pytest.raises(OtpInvalid):
            check(wrong(issued.code))
        assert OneTimeCode.objects.get().attempts == 1  # no TransactionManagementError
    assert OneTimeCode.objects.get().attempts == 1


def test_consume_costs_one_select_and_one_update(issue, django_assert_num_queries):
    issued = issue()
    with django_assert_num_queries(2):
        consume(issued.code)


def test_wrong_try_costs_one_select_and_one_update(issue, django_assert_num_queries):
    issued = issue()
    with django_assert_num_queries(2), pytest.raises(OtpInvalid):
        check(wrong(issued.code))


def test_delete_for_destinations_and_user(issue, make_user):
    alice = make_user(email="alice@example.com")
    issue(destination="alice@example.com")
    issue(destination="+919876543210")
    issue(purpose=services.CONTACT_CHANGE, destination="new@example.com", user=alice)
    keep = issue(destination="bob@example.com")

    deleted = services.otp_delete_for(
        destinations=["alice@example.com", "+919876543210"], user=alice
    )

    assert deleted == 3
    assert list(OneTimeCode.objects.values_list("pk", flat=True)) == [keep.id]
    assert services.otp_delete_for(destinations=[]) == 0
