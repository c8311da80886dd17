"""Found by an attacker's pass: SPEC §4's 24 h budget of wrong codes belongs
to an address and a purpose, and anyone who knows the address can spend it
with blind guesses at codes its owner receives. With the sign-in and reset
budgets spent and ten wrong passwords, the owner can neither sign in by
password, nor by code, nor reset: ``otp_locked`` for a day. The limits are
SPEC's and stay (README, "Who can block whom"); what is tested here is the
way back: staff's "Unblock sign-in codes and lockout" lets the owner reset
and sign in at once, and gives no code the stranger triggered its tries
back."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.tests.admin.support import action
from accounts.tests.helpers import last_code_for, with_second_factor
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
OWNER = "alice@example.com"
NEW_PASSWORD = "Owners-New-Horse-9"


@pytest.fixture
def admin_web(make_user) -> Client:
    staff = with_second_factor(
        make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    )
    client = Client()
    client.force_login(staff)
    return client


STRANGER_IP, OWNER_IP = "198.51.100.7", "203.0.113.9"


def _post(api_client, path: str, body: dict, ip: str = OWNER_IP):
    return api_client.post(f"{API}/{path}", body, format="json", REMOTE_ADDR=ip)


def _spend(api_client, clock, request_path: str, verify_path: str) -> None:
    """A stranger's blind guesses until the address's budget is spent."""
    guesses = 0
    while guesses < settings.OTP_MAX_FAILURES_PER_DAY:
        _post(api_client, request_path, {"email": OWNER}, STRANGER_IP)
        for _ in range(settings.OTP_MAX_ATTEMPTS):
            _post(api_client, verify_path, {"email": OWNER, "otp": "000000"}, STRANGER_IP)
            guesses += 1
        clock.advance(settings.OTP_RESEND_COOLDOWN + 1)


def test_staff_can_give_the_owner_back_what_a_stranger_spent(
    api_client, user, clock, admin_web, settings, django_capture_on_commit_callbacks
):
    assert user.email == OWNER
    # The stranger spreads the tries over addresses and minutes: the per-IP
    # limits are not what this is about.
    settings.RATELIMIT_ENABLE = False
    _spend(api_client, clock, "otp/request", "otp/verify")
    _spend(api_client, clock, "password/forgot", "password/forgot/verify")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _post(api_client, "login", {"email": OWNER, "password": "Wrong-Horse-1!"}, STRANGER_IP)
    # The stranger's last code, still alive.
    _post(api_client, "password/forgot", {"email": OWNER}, STRANGER_IP)
    strangers_code = last_code_for(OWNER)

    # The owner is locked out of every way in but a passkey.
    assert (
        _post(api_client, "login", {"email": OWNER, "password": STRONG_PASSWORD}).json()["code"]
        == "rate_limited"
    )
    assert _post(api_client, "otp/request", {"email": OWNER}).json()["code"] == "otp_locked"
    assert _post(api_client, "password/forgot", {"email": OWNER}).json()["code"] == "otp_locked"

    with django_capture_on_commit_callbacks(execute=True):
        action(admin_web, reverse("admin:accounts_user_changelist"), "unblock_signin", [user.pk])

    # No code of before the unblocking works again.
    reset = {"email": OWNER, "otp": strangers_code, "new_password": NEW_PASSWORD}
    assert _post(api_client, "password/reset", reset).json()["code"] == "otp_invalid"
    # The owner signs in with the password, and can reset it by code.
    signed_in = _post(api_client, "login", {"email": OWNER, "password": STRONG_PASSWORD})
    assert signed_in.status_code == 200, signed_in.content
    clock.advance(settings.OTP_RESEND_COOLDOWN + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(api_client, "password/forgot", {"email": OWNER}).status_code == 200
    reset = {"email": OWNER, "otp": last_code_for(OWNER), "new_password": NEW_PASSWORD}
    assert _post(api_client, "password/reset", reset).status_code == 200
