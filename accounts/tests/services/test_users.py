"""Making a user and marking an address verified (SPEC §3, §22.1, §22.9):
``accounts/services/users.py`` (through ``UserManager.create_user``)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.identifiers import EMAIL, PHONE, Identifier
from accounts.managers import USER_ID_MAX, USER_ID_MIN
from accounts.models import User
from accounts.services.users import user_create, user_mark_verified
from accounts.tests.services.support import PASSWORD, PHONE_NUMBER
from authsite.errors import ValidationFailed
from profiles.models import Profile

pytestmark = pytest.mark.django_db


def test_identifiers_are_stored_in_their_normal_form(clock):
    account = user_create(
        email="  Bob@EXÄMPLE.com ", phone="98765 43210", dialing_code="+91", username=" Bobby "
    )
    account.refresh_from_db()
    assert (account.email, account.phone, account.username) == (
        "bob@xn--exmple-cua.com",
        PHONE_NUMBER,
        "bobby",
    )
    assert account.date_joined == clock.current


def test_the_password_is_stored_hashed_with_argon2():
    account = user_create(email="bob@example.com", password=PASSWORD)
    assert account.password.startswith("argon2$") and PASSWORD not in account.password
    assert account.check_password(PASSWORD)


def test_an_account_made_without_a_password_has_no_usable_one():
    account = user_create(email="bob@example.com")
    assert not account.has_usable_password()
    assert not account.check_password("")


def test_a_hash_made_earlier_is_kept_as_it_is():
    hashed = make_password(PASSWORD)
    account = user_create(email="bob@example.com", password_hash=hashed)
    account.refresh_from_db()
    assert account.password == hashed


def test_verified_marks_every_given_address_and_only_then(clock):
    verified = user_create(email="bob@example.com", phone=PHONE_NUMBER, verified=True)
    assert verified.email_verified_at == verified.phone_verified_at == clock.current
    assert verified.is_verified
    plain = user_create(email="carol@example.com")
    assert (plain.email_verified_at, plain.phone_verified_at, plain.is_verified) == (
        None,
        None,
        False,
    )


def test_the_flags_and_the_pending_address_are_stored():
    account = user_create(
        phone=PHONE_NUMBER,
        pending_email="later@example.com",
        is_active=False,
        is_staff=True,
        is_superuser=True,
    )
    account.refresh_from_db()
    assert (account.is_active, account.is_staff, account.is_superuser) == (False, True, True)
    assert (account.email, account.pending_email) == (None, "later@example.com")


def test_a_user_always_has_a_profile_with_the_fields_given():
    bare = user_create(email="bob@example.com")
    assert Profile.objects.filter(user=bare).exists()
    filled = user_create(email="carol@example.com", profile={"first_name": "Carol", "city": "Goa"})
    filled.profile.refresh_from_db()
    assert (filled.profile.first_name, filled.profile.city) == ("Carol", "Goa")


def test_a_user_whose_profile_is_refused_is_not_made():
    with pytest.raises(ValidationFailed):
        user_create(email="bob@example.com", profile={"gender": "robot"})
    assert not User.objects.filter(email="bob@example.com").exists()


def test_user_ids_are_random_and_safe_in_javascript():
    ids = {user_create(email=f"user{n}@example.com").pk for n in range(5)}
    assert len(ids) == 5
    assert all(USER_ID_MIN <= pk <= USER_ID_MAX < 2**53 for pk in ids)


@pytest.mark.parametrize(
    "fields",
    [{}, {"email": ""}, {"email": "not-an-address"}, {"phone": "12"}, {"username": "x"}],
)
def test_a_user_needs_a_valid_email_or_phone(fields):
    with pytest.raises(ValidationError):
        user_create(**fields)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"email": "bob@example.com"}, {"email": "BOB@example.com"}),
        ({"phone": PHONE_NUMBER}, {"phone": "9876543210", "dialing_code": "91"}),
        (
            {"email": "a@example.com", "username": "bobby"},
            {"email": "b@example.com", "username": "BOBBY"},
        ),
    ],
    ids=["email", "phone", "username"],
)
def test_an_identifier_belongs_to_one_account_in_any_spelling(first, second):
    user_create(**first)
    with pytest.raises(IntegrityError), transaction.atomic():
        user_create(**second)
    assert User.objects.count() == 1


def test_marking_an_address_verified_happens_once(clock):
    account = user_create(email="bob@example.com", phone=PHONE_NUMBER)
    assert user_mark_verified(user=account, kind=PHONE) is True
    first = clock.current
    clock.advance(60)
    assert user_mark_verified(user=account, kind=PHONE) is False
    account.refresh_from_db()
    assert (account.phone_verified_at, account.email_verified_at) == (first, None)
    assert user_mark_verified(user=account, kind=EMAIL) is True
    account.refresh_from_db()
    assert account.email_verified_at == clock.current


def test_the_primary_address_is_the_phone_when_there_is_one():
    both = user_create(email="bob@example.com", phone=PHONE_NUMBER)
    assert both.primary_identifier == Identifier(PHONE, PHONE_NUMBER)
    assert (both.primary_channel, both.primary_destination) == ("sms", PHONE_NUMBER)
    email_only = user_create(email="carol@example.com")
    assert email_only.primary_identifier == Identifier(EMAIL, "carol@example.com")
    assert (both.address(EMAIL), both.address(PHONE), both.address("username")) == (
        "bob@example.com",
        PHONE_NUMBER,
        None,
    )
