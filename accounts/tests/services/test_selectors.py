"""Reads several flows share (SPEC §22.1 to 22.3): ``accounts/selectors.py``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts import selectors
from accounts.identifiers import normalize_email
from accounts.models import SecurityEvent, SignupAttempt
from accounts.services.events import event_record
from accounts.tests.services.support import PHONE_NUMBER, email, phone, username

pytestmark = pytest.mark.django_db


def _attempt(clock, *, email_value=None, phone_value=None, blocked=False, age=0, token="t"):
    return SignupAttempt.objects.create(
        token_hash=selectors.signup_token_hash(token),
        email=email_value,
        phone=phone_value,
        password="!",
        blocked=blocked,
        created_at=clock.current - timedelta(seconds=age),
        expires_at=clock.current + timedelta(seconds=3600 - age),
    )


def test_a_user_is_found_by_the_exact_stored_form_of_each_identifier(make_user):
    account = make_user(email="alice@example.com", phone=PHONE_NUMBER, username="alice")
    for identifier in (email("alice@example.com"), phone(PHONE_NUMBER), username("alice")):
        assert selectors.user_by_identifier(identifier) == account
    for identifier in (
        email("ALICE@example.com"),  # not a normal form: no folding happens here
        email(normalize_email("alice@exámple.com")),  # a look-alike domain is another address
        phone("+919876543211"),
        username("alice2"),
    ):
        assert selectors.user_by_identifier(identifier) is None


def test_a_disabled_account_is_found_too(make_user):
    account = make_user(email="gone@example.com", is_active=False)
    assert selectors.user_by_identifier(email("gone@example.com")) == account


def test_the_attempts_for_an_address_are_those_whose_code_goes_there(clock):
    email_only = _attempt(clock, email_value="a@example.com", token="1")
    both = _attempt(clock, email_value="a@example.com", phone_value=PHONE_NUMBER, token="2")
    assert list(selectors.signup_attempts_for(email("a@example.com"))) == [email_only]
    assert list(selectors.signup_attempts_for(phone(PHONE_NUMBER))) == [both]
    assert list(selectors.signup_attempts_for(username("a"))) == []


def test_the_live_attempts_are_unblocked_unexpired_and_newest_first(clock):
    older = _attempt(clock, email_value="a@example.com", age=60, token="1")
    newer = _attempt(clock, email_value="a@example.com", age=10, token="2")
    _attempt(clock, email_value="a@example.com", blocked=True, token="3")
    _attempt(clock, email_value="a@example.com", age=3600, token="4")  # expired now
    assert list(selectors.signup_attempts_live(email("a@example.com"))) == [newer, older]


@pytest.mark.parametrize("token", [None, "", 42, "x" * 129, "unknown"])
def test_an_attempt_is_found_only_by_its_own_token(clock, token):
    _attempt(clock, email_value="a@example.com", token="the-token")
    assert selectors.signup_attempt_by_token(token) is None


def test_an_attempt_is_found_by_its_token_until_it_expires(clock):
    attempt = _attempt(clock, email_value="a@example.com", token="the-token")
    assert selectors.signup_attempt_by_token("the-token") == attempt
    clock.advance(3600)
    assert selectors.signup_attempt_by_token("the-token") is None


def test_a_users_events_are_their_own_newest_first(make_user, clock):
    account = make_user(email="alice@example.com")
    other = make_user(email="bob@example.com")
    first = event_record(kind=SecurityEvent.LOGIN_SUCCESS, user=account)
    event_record(kind=SecurityEvent.LOGIN_SUCCESS, user=other)
    clock.advance(1)
    second = event_record(kind=SecurityEvent.LOGOUT, user=account)
    third = event_record(kind=SecurityEvent.LOGIN_SUCCESS, user=account)  # same instant: by id
    assert list(selectors.events_for_user(user=account)) == [third, second, first]
