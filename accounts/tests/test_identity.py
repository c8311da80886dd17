"""The identity model of SPEC §3."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from accounts.identifiers import (
    EMAIL,
    PHONE,
    USERNAME,
    normalize_email,
    normalize_phone,
    parse_identifier,
)
from accounts.models import User
from accounts.services.users import user_create
from profiles.models import Profile

pytestmark = pytest.mark.django_db


def test_email_is_trimmed_and_lower_cased():
    user = user_create(email="  Alice@Example.COM ", password="Correct-Horse-9-Battery")
    assert user.email == "alice@example.com"


def test_the_same_email_in_another_case_cannot_exist_twice():
    user_create(email="Alice@Example.com", password="Correct-Horse-9-Battery")
    with pytest.raises(IntegrityError), transaction.atomic():
        user_create(email="alice@example.com", password="Correct-Horse-9-Battery")


@pytest.mark.parametrize(
    ("raw", "dialing_code"),
    [
        ("+91 98765 43210", None),
        ("9876543210", "91"),
        ("9876543210", "+91"),
        ("+919876543210", None),
    ],
)
def test_phone_inputs_store_as_e164(raw, dialing_code):
    user = user_create(phone=raw, dialing_code=dialing_code, password="Correct-Horse-9-Battery")
    user.refresh_from_db()
    assert user.phone == "+919876543210"


def test_national_digits_use_the_default_region(settings):
    settings.DEFAULT_PHONE_REGION = "IN"
    assert normalize_phone("98765 43210") == "+919876543210"
    settings.DEFAULT_PHONE_REGION = "US"
    assert normalize_phone("(201) 555-0123") == "+12015550123"


@pytest.mark.parametrize("raw", ["12", "+91 12345", "not a number", "+999 123456789", "9" * 40])
def test_invalid_phone_is_a_validation_error_not_a_crash(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_unknown_dialing_code_is_a_validation_error():
    with pytest.raises(ValidationError):
        normalize_phone("9876543210", "999")


@pytest.mark.parametrize(
    "raw", ["", "   ", "no-at-sign", "a@", "@b.com", "x" * 250 + "@example.com"]
)
def test_invalid_email_is_a_validation_error(raw):
    with pytest.raises(ValidationError):
        normalize_email(raw)


def test_a_user_without_email_or_phone_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email=None, phone=None)])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (id, password, email, phone, username, is_active, "
            "is_staff, is_superuser, date_joined) VALUES (42, '!', NULL, NULL, NULL, "
            "1, 0, 0, '2026-01-01 00:00:00')"
        )


def test_empty_strings_do_not_satisfy_the_constraint():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="", phone="")])


def test_username_is_unique_regardless_of_case():
    user_create(email="a@example.com", username="Alice_1", password="Correct-Horse-9-Battery")
    with pytest.raises(IntegrityError), transaction.atomic():
        user_create(email="b@example.com", username="ALICE_1", password="Correct-Horse-9-Battery")


def test_every_user_gets_a_profile_from_the_creation_service():
    user = user_create(
        email="p@example.com", password="Correct-Horse-9-Battery", profile={"city": "Pune"}
    )
    assert Profile.objects.get(user=user).city == "Pune"


def test_manager_create_user_and_superuser_work():
    manager = get_user_model().objects
    user = manager.create_user(email="u@example.com", password="Correct-Horse-9-Battery")
    assert user.check_password("Correct-Horse-9-Battery")
    assert not user.is_staff
    assert Profile.objects.filter(user=user).exists()
    admin = manager.create_superuser(email="Admin@Example.com", password="Correct-Horse-9-Battery")
    assert admin.is_staff and admin.is_superuser and admin.email == "admin@example.com"
    assert admin.email_verified


def test_createsuperuser_by_email(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Correct-Horse-9-Battery")
    call_command("createsuperuser", "--noinput", "--email", "Root@Example.com")
    admin = User.objects.get(email="root@example.com")
    assert admin.is_superuser and admin.check_password("Correct-Horse-9-Battery")
    assert Profile.objects.filter(user=admin).exists()


def test_argon2id_is_the_password_hasher():
    user = user_create(email="h@example.com", password="Correct-Horse-9-Battery")
    assert user.password.startswith("argon2$argon2id$")


def test_user_ids_are_not_sequential():
    ids = [
        user_create(email=f"seq{i}@example.com", password="Correct-Horse-9-Battery").id
        for i in range(3)
    ]
    assert all(i >= 10**9 for i in ids)
    assert sorted(ids) != [ids[0], ids[0] + 1, ids[0] + 2]


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("Alice@Example.com", EMAIL, "alice@example.com"),
        ("+919876543210", PHONE, "+919876543210"),
        ("alice_1", USERNAME, "alice_1"),
    ],
)
def test_sign_in_identifiers_are_classified(raw, kind, value):
    identifier = parse_identifier(raw)
    assert (identifier.kind, identifier.value) == (kind, value)


def test_national_phone_identifier_uses_the_dialing_code():
    assert parse_identifier("9876543210", dialing_code="91").value == "+919876543210"
