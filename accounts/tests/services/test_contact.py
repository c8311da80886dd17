"""Changing or adding an email address or phone number (SPEC §5.3, §14 rule
10, §22.7): ``accounts/services/contact.py``. The password (for accounts that
have one), then a code to the new address, bound to the account."""

from __future__ import annotations

import pytest

from accounts.models import SecurityEvent, User
from accounts.services.contact import (
    contact_change_resend,
    contact_change_start,
    contact_change_verify,
)
from accounts.services.signin import password_first_factor
from accounts.services.tokens import session_open
from accounts.tests.helpers import CODE_RE, last_code_for, messages_to, wrong_code
from accounts.tests.services.support import (
    CLIENT,
    PASSWORD,
    PHONE_NUMBER,
    WRONG,
    delivered,
    email,
    event_kinds,
    phone,
    username,
)
from authsite.errors import (
    AccountExists,
    CurrentPasswordIncorrect,
    InvalidCredentials,
    NotFound,
    OtpCooldown,
    OtpInvalid,
    RateLimited,
    ReauthenticationRequired,
    ValidationFailed,
)
from otp.models import OneTimeCode

pytestmark = pytest.mark.django_db

NEW = "new@example.com"


def _start(user, identifier=None, password: str | None = PASSWORD, session=None):
    with delivered():
        return contact_change_start(
            user=user,
            identifier=identifier or email(NEW),
            password=password,
            client=CLIENT,
            session=session,
        )


def _verify(user, code: str, identifier=None):
    with delivered():
        return contact_change_verify(
            user=user, identifier=identifier or email(NEW), code=code, client=CLIENT
        )


# --- start -------------------------------------------------------------------------------------


def test_a_change_sends_a_code_to_the_new_address_bound_to_the_account(user):
    sent = _start(user)
    assert (sent.channel, sent.destination) == ("email", "n***@example.com")
    row = OneTimeCode.objects.get()
    assert (row.purpose, row.destination, row.subject, row.user) == (
        "contact_change",
        NEW,
        f"user:{user.pk}",
        user,
    )
    assert CODE_RE.search(messages_to(NEW)[0])
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("alice@example.com", NEW)
    assert event_kinds(user) == [SecurityEvent.CODE_SENT]


def test_a_new_phone_waits_as_the_pending_phone(user):
    sent = _start(user, phone(PHONE_NUMBER))
    assert sent.channel == "sms"
    user.refresh_from_db()
    assert (user.phone, user.pending_phone) == (None, PHONE_NUMBER)
    assert CODE_RE.search(messages_to(PHONE_NUMBER)[0])


def test_a_username_is_no_address_to_change_to(user):
    with pytest.raises(ValidationFailed) as caught:
        _start(user, username("someone"))
    assert list(caught.value.errors) == ["email"]


def test_a_wrong_password_is_refused(user):
    with pytest.raises(CurrentPasswordIncorrect) as caught:
        _start(user, password=WRONG)
    assert list(caught.value.errors) == ["password"]
    assert not OneTimeCode.objects.exists()
    assert messages_to(NEW) == []


@pytest.mark.parametrize("given", ["", None])
def test_without_the_password_a_change_needs_a_recent_authentication(user, given, clock, settings):
    session = session_open(user=user, client=CLIENT).session
    clock.advance(settings.REAUTH_WINDOW + 1)
    for given_session in (None, session):
        with pytest.raises(ReauthenticationRequired):
            _start(user, password=given, session=given_session)
    assert not OneTimeCode.objects.exists()
    assert messages_to(NEW) == []
    user.refresh_from_db()
    assert user.pending_email is None


def test_wrong_passwords_here_count_toward_the_sign_in_lock(user, small_lockout, clock):
    for _ in range(3):
        with pytest.raises(CurrentPasswordIncorrect):
            _start(user, password=WRONG)
    with pytest.raises(RateLimited):
        _start(user)
    with pytest.raises(RateLimited):
        password_first_factor(identifier=email(user.email), password=PASSWORD, client=CLIENT)


def test_an_account_without_a_password_needs_only_a_recent_authentication(make_user):
    account = make_user(phone=PHONE_NUMBER, password=None)
    session = session_open(user=account, client=CLIENT).session  # signed in just now
    _start(account, password=None, session=session)
    account.refresh_from_db()
    assert account.pending_email == NEW


def test_the_current_address_is_no_change(user):
    with pytest.raises(AccountExists) as caught:
        _start(user, email(user.email))
    assert list(caught.value.errors) == ["email"]
    assert not OneTimeCode.objects.exists()


def test_an_address_of_another_account_gets_the_same_answer_and_no_message(make_user, user):
    make_user(email="taken@example.com")
    free = _start(user)
    taken = _start(make_user(email="bob@example.com"), email("taken@example.com"))
    assert (free.channel, free.expires_in, free.resend_in) == (
        taken.channel,
        taken.expires_in,
        taken.resend_in,
    )
    assert messages_to("taken@example.com") == []
    row = OneTimeCode.objects.get(destination="taken@example.com")
    assert row.delivery_status == OneTimeCode.DeliveryStatus.SKIPPED


def test_another_account_asking_for_the_same_address_neither_kills_the_code_nor_waits(
    make_user, user, clock
):
    _start(user)
    code = last_code_for(NEW)
    other = make_user(email="bob@example.com")
    _start(other)  # no cooldown: the cooldown counts per account for this purpose
    clock.advance(31)
    for _ in range(3):
        _start(other)
        clock.advance(31)
    _verify(user, code)
    user.refresh_from_db()
    assert user.email == NEW


def test_starting_again_replaces_the_pending_address(user, clock):
    _start(user)
    first_code = last_code_for(NEW)
    clock.advance(31)
    _start(user, email("newer@example.com"))
    user.refresh_from_db()
    assert user.pending_email == "newer@example.com"
    with pytest.raises(OtpInvalid):
        _verify(user, first_code)


# --- resend ------------------------------------------------------------------------------------


def test_a_resend_goes_only_to_the_pending_address(user, clock):
    with pytest.raises(NotFound) as caught:
        contact_change_resend(user=user, identifier=email(NEW), client=CLIENT)
    assert list(caught.value.errors) == ["email"]
    assert not OneTimeCode.objects.exists()
    _start(user)
    clock.advance(31)
    with delivered():
        contact_change_resend(user=user, identifier=email(NEW), client=CLIENT)
    assert len(messages_to(NEW)) == 2
    with pytest.raises(NotFound):
        contact_change_resend(user=user, identifier=email("other@example.com"), client=CLIENT)


def test_a_resend_within_the_cooldown_is_refused(user, clock):
    _start(user)
    clock.advance(10)
    with pytest.raises(OtpCooldown) as caught:
        contact_change_resend(user=user, identifier=email(NEW), client=CLIENT)
    assert caught.value.retry_after == 20


def test_a_resent_code_replaces_the_first(user, clock):
    _start(user)
    first = last_code_for(NEW)
    clock.advance(31)
    with delivered():
        contact_change_resend(user=user, identifier=email(NEW), client=CLIENT)
    second = last_code_for(NEW)
    if first != second:
        with pytest.raises(OtpInvalid):
            _verify(user, first)
    _verify(user, second)


# --- verify ------------------------------------------------------------------------------------


def test_the_code_makes_the_new_address_the_accounts_verified_one(user, clock):
    _start(user)
    changed = _verify(user, last_code_for(NEW))
    assert changed == user
    user.refresh_from_db()
    assert (user.email, user.email_verified_at, user.pending_email) == (NEW, clock.current, None)
    assert event_kinds(user) == [SecurityEvent.CODE_SENT, SecurityEvent.CONTACT_CHANGED]
    assert SecurityEvent.objects.get(kind=SecurityEvent.CONTACT_CHANGED).identifier == (
        "n***@example.com"
    )
    # The account signs in with its new address, no longer with the old.
    assert password_first_factor(identifier=email(NEW), password=PASSWORD, client=CLIENT)
    with pytest.raises(InvalidCredentials):
        password_first_factor(
            identifier=email("alice@example.com"), password=PASSWORD, client=CLIENT
        )


def test_the_old_address_is_told_of_the_change(user):
    _start(user)
    _verify(user, last_code_for(NEW))
    (notice,) = messages_to("alice@example.com")
    assert "was changed to n***@example.com" in notice
    assert not CODE_RE.search(notice)


def test_adding_a_first_address_of_a_kind_tells_nobody(make_user):
    account = make_user(phone=PHONE_NUMBER)
    _start(account)
    _verify(account, last_code_for(NEW))
    account.refresh_from_db()
    assert (account.phone, account.email) == (PHONE_NUMBER, NEW)
    assert messages_to(PHONE_NUMBER) == []


def test_only_the_pending_address_can_be_confirmed(user):
    with pytest.raises(OtpInvalid):
        _verify(user, "123456")
    assert not SecurityEvent.objects.exists()


def test_a_wrong_code_changes_nothing_and_is_recorded(user):
    _start(user)
    code = last_code_for(NEW)
    with pytest.raises(OtpInvalid):
        _verify(user, wrong_code(code))
    user.refresh_from_db()
    assert user.email == "alice@example.com"
    failed = SecurityEvent.objects.get(kind=SecurityEvent.CODE_FAILED)
    assert (failed.user, failed.identifier) == (user, "n***@example.com")


def test_one_accounts_code_does_not_move_another_account(make_user, user):
    _start(user)
    code = last_code_for(NEW)
    other = make_user(email="bob@example.com")
    _start(other)
    with pytest.raises(OtpInvalid):
        _verify(other, code)
    other.refresh_from_db()
    assert other.email == "bob@example.com"


def test_an_address_taken_by_another_account_since_the_code_was_sent_is_refused(make_user, user):
    _start(user)
    code = last_code_for(NEW)
    make_user(email=NEW)
    with pytest.raises(OtpInvalid):
        _verify(user, code)
    user.refresh_from_db()
    assert user.email == "alice@example.com"
    assert User.objects.filter(email=NEW).count() == 1
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.CONTACT_CHANGED).exists()
