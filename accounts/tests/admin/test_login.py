"""The admin's sign-in: the same rate limits and lockout as the API's (SPEC §11,
§14 rules 1 and 3)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
STAFF_PASSWORD = "Staff-Strong-9-Secret"
WRONG = "Wrong-Password-1!"
ERRORNOTE = re.compile(r'<p class="errornote">\s*(.*?)\s*</p>', re.S)


def sign_in(client: Client, username: str, password: str, ip: str = "127.0.0.1"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def error_of(response) -> str:
    notes = ERRORNOTE.findall(response.content.decode())
    assert notes, response.content.decode()[:500]
    return " ".join(notes)


@pytest.fixture
def staff_member(make_user):
    return make_user(email="staff@example.com", password=STAFF_PASSWORD, is_staff=True)


def test_staff_sign_in_works_and_is_recorded(staff_member):
    response = sign_in(Client(), "staff@example.com", STAFF_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert SecurityEvent.objects.filter(
        user=staff_member, kind=SecurityEvent.LOGIN_SUCCESS
    ).exists()


def test_staff_sign_in_by_phone_in_national_form(make_user):
    make_user(phone="+919876543210", password=STAFF_PASSWORD, is_staff=True)
    assert sign_in(Client(), "98765 43210", STAFF_PASSWORD).status_code == 302


def test_unknown_wrong_password_inactive_and_non_staff_get_the_same_error(make_user, staff_member):
    make_user(email="gone@example.com", password=STAFF_PASSWORD, is_staff=True, is_active=False)
    make_user(email="plain@example.com", password=STAFF_PASSWORD)
    answers = [
        sign_in(Client(), "nobody@example.com", WRONG),
        sign_in(Client(), "staff@example.com", WRONG),
        sign_in(Client(), "gone@example.com", STAFF_PASSWORD),  # inactive, right password
        sign_in(Client(), "plain@example.com", STAFF_PASSWORD),  # not staff, right password
    ]
    assert {r.status_code for r in answers} == {200}
    errors = {error_of(r) for r in answers}
    assert len(errors) == 1, errors
    assert "correct" in errors.pop()


@pytest.mark.parametrize("username", ["staff@example.com", "nobody@example.com"])
def test_eleventh_failure_for_one_identifier_is_429_whatever_the_ip(staff_member, username):
    for i in range(10):
        response = sign_in(Client(), username, WRONG, ip=f"10.0.{i}.1")
        assert response.status_code == 200, i
    locked = sign_in(Client(), username, WRONG, ip="10.9.9.9")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "Too many sign-in attempts" in error_of(locked)
    # Even the right password waits: the lock is checked before the password.
    assert sign_in(Client(), "staff@example.com", STAFF_PASSWORD, ip="10.8.8.8").status_code == (
        429 if username == "staff@example.com" else 302
    )


def test_the_lock_follows_the_identifier_in_any_form(make_user):
    make_user(phone="+919876543210", password=STAFF_PASSWORD, is_staff=True)
    forms = ["+919876543210", "9876543210", "+91 98765 43210", "098765 43210"]
    for i in range(10):
        assert sign_in(Client(), forms[i % 4], WRONG, ip=f"10.1.{i}.1").status_code == 200
    assert sign_in(Client(), "98765-43210", WRONG, ip="10.1.99.1").status_code == 429


def test_api_and_admin_failures_count_together(staff_member, api_client):
    for i in range(5):
        api_client.post(
            "/api/v1/auth/login",
            {"email": "staff@example.com", "password": WRONG},
            format="json",
            REMOTE_ADDR=f"10.2.{i}.1",
        )
    for i in range(5):
        assert sign_in(Client(), "staff@example.com", WRONG, ip=f"10.3.{i}.1").status_code == 200
    assert sign_in(Client(), "staff@example.com", WRONG, ip="10.3.99.1").status_code == 429


def test_a_success_clears_the_failure_count(staff_member):
    for i in range(9):
        sign_in(Client(), "staff@example.com", WRONG, ip=f"10.4.{i}.1")
    assert sign_in(Client(), "staff@example.com", STAFF_PASSWORD).status_code == 302
    for i in range(9):
        assert sign_in(Client(), "staff@example.com", WRONG, ip=f"10.5.{i}.1").status_code == 200


def test_per_ip_rate_limit(settings, staff_member):
    settings.RATELIMITS = {**settings.RATELIMITS, "login_ip": "3/m"}
    client = Client()
    for i in range(3):
        assert sign_in(client, f"user{i}@example.com", WRONG, ip="10.6.0.1").status_code == 200
    limited = sign_in(client, "someone@example.com", WRONG, ip="10.6.0.1")
    assert limited.status_code == 429
    assert limited["Retry-After"]
    assert sign_in(client, "someone@example.com", WRONG, ip="10.6.0.2").status_code == 200


def test_failures_are_recorded_without_the_password(staff_member):
    sign_in(Client(), "staff@example.com", WRONG, ip="10.7.0.1")
    event = SecurityEvent.objects.get(kind=SecurityEvent.LOGIN_FAILURE)
    assert event.user == staff_member
    assert event.ip == "10.7.0.1"
    assert WRONG not in event.identifier
    # Junk in the username box (maybe a password typed there) is not recorded.
    sign_in(Client(), "Not an identifier!", WRONG, ip="10.7.0.1")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.LOGIN_FAILURE, identifier="").exists()


def test_get_shows_the_form_with_any_identifier():
    response = Client().get(LOGIN)
    assert response.status_code == 200
    assert "Email, phone or username" in response.content.decode()
