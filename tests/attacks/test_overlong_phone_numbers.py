"""Found by an attacker's pass on MariaDB: numbers libphonenumber takes as
valid can be longer than E.164's fifteen digits (German and Nigerian numbers
of seventeen), longer than the sixteen characters the phone columns hold.
MariaDB, in strict mode, refused the write: a 500 at sign-up, and at code
sign-in *after* the code was spent. SQLite does not enforce a column's
length, so only the MariaDB run showed it. E.164 is at most fifteen digits:
anything longer is refused as an invalid number, before anything is sent or
spent."""

from __future__ import annotations

import phonenumbers
import pytest

from accounts.models import SignupAttempt, User
from conftest import STRONG_PASSWORD
from otp.models import OneTimeCode

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
# Valid for libphonenumber, seventeen and sixteen digits after the "+".
LONG = ["+49303826467998662", "+4916920588150967"]


@pytest.mark.parametrize("number", LONG)
def test_the_numbers_are_what_libphonenumber_calls_valid(number):
    # The premise: if libphonenumber ever refuses them, the guard below is
    # no longer what stops them.
    assert phonenumbers.is_valid_number(phonenumbers.parse(number))
    assert len(number) > 16


@pytest.mark.parametrize("number", LONG)
def test_sign_up_with_an_overlong_number_is_a_validation_error(api_client, number):
    response = api_client.post(
        f"{API}/signup", {"phone": number, "password": STRONG_PASSWORD}, format="json"
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error" and "phone" in body["errors"]
    assert not SignupAttempt.objects.exists()
    assert not OneTimeCode.objects.exists()


def test_the_same_number_written_nationally_is_refused_too(api_client):
    body = {"phone": "030 3826467998662", "dialing_code": "49", "password": STRONG_PASSWORD}
    response = api_client.post(f"{API}/signup", body, format="json")
    assert response.status_code == 400, response.content
    assert "phone" in response.json()["errors"]


@pytest.mark.parametrize("number", LONG)
def test_code_sign_in_with_an_overlong_number_sends_nothing(api_client, number):
    response = api_client.post(f"{API}/otp/request", {"phone": number}, format="json")
    assert response.status_code == 400, response.content
    assert not OneTimeCode.objects.exists()
    verify = api_client.post(f"{API}/otp/verify", {"phone": number, "otp": "123456"}, format="json")
    assert verify.status_code == 400, verify.content
    assert verify.json()["code"] == "validation_error"
    assert not User.objects.exists()


def test_an_address_change_to_an_overlong_number_is_refused(auth_client, user):
    response = auth_client.post(
        f"{API}/contact/change",
        {"phone": LONG[0], "password": STRONG_PASSWORD},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "phone" in response.json()["errors"]
    user.refresh_from_db()
    assert user.pending_phone is None
    assert not OneTimeCode.objects.exists()


def test_every_phone_column_holds_the_longest_number_the_normaliser_gives():
    from accounts.identifiers import MAX_E164_LENGTH

    columns = [
        User._meta.get_field("phone"),
        User._meta.get_field("pending_phone"),
        SignupAttempt._meta.get_field("phone"),
    ]
    assert all(column.max_length >= MAX_E164_LENGTH for column in columns)
