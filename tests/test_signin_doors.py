"""Every way in goes through the one sign-in pipeline (SPEC §15): each door's
success records exactly one ``login_success`` event and ``last_login``, and
each door's failure counts toward the account's lock — the API (password,
code, sign-up), the pages (password, code, sign-up), the admin's sign-in and
Django's ``authenticate()`` + ``login()``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth import authenticate, login
from django.test import RequestFactory

from accounts.models import DeviceSession, SecurityEvent, User
from accounts.tests.helpers import last_code_for, wrong_code
from conftest import STRONG_PASSWORD, CommitAPIClient, CommitClient

pytestmark = pytest.mark.django_db

EMAIL = "door@example.com"
WRONG = "Wrong-Horse-9-x"
API = "/api/v1/auth"


@dataclass
class Door:
    name: str
    sign_in: Callable[[], None]  # a successful sign-in of EMAIL
    fail: Callable[[], None]  # one failed password or code


def _api_password(ok: bool):
    response = CommitAPIClient().post(
        f"{API}/login",
        {"email": EMAIL, "password": STRONG_PASSWORD if ok else WRONG},
        format="json",
    )
    assert response.status_code == (200 if ok else 401), response.content


def _api_code(ok: bool):
    client = CommitAPIClient()
    assert client.post(f"{API}/otp/request", {"email": EMAIL}, format="json").status_code == 200
    code = last_code_for(EMAIL)
    response = client.post(
        f"{API}/otp/verify",
        {"email": EMAIL, "otp": code if ok else wrong_code(code)},
        format="json",
    )
    assert response.status_code == (200 if ok else 400), response.content


def _page_password(ok: bool):
    client = CommitClient()
    response = client.post(
        "/accounts/login/", {"identifier": EMAIL, "password": STRONG_PASSWORD if ok else WRONG}
    )
    assert response.status_code == (302 if ok else 200)


def _page_code(ok: bool):
    client = CommitClient()
    client.post("/accounts/login/code/", {"identifier": EMAIL})
    code = last_code_for(EMAIL)
    response = client.post(
        "/accounts/login/code/verify/", {"otp": code if ok else wrong_code(code)}
    )
    assert response.status_code == (302 if ok else 200)


def _admin(ok: bool):
    client = CommitClient()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": EMAIL, "password": STRONG_PASSWORD if ok else WRONG, "next": "/admin/"},
    )
    assert ("_auth_user_id" in client.session) is ok, response.status_code


def _authenticate(ok: bool):
    request = RequestFactory().post("/somewhere-else/")
    from django.contrib.sessions.backends.db import SessionStore

    request.session = SessionStore()
    user = authenticate(request, username=EMAIL, password=STRONG_PASSWORD if ok else WRONG)
    assert (user is not None) is ok
    if user is not None:
        login(request, user)


PASSWORD_DOORS = {
    "api password": _api_password,
    "page password": _page_password,
    "admin": _admin,
    "authenticate()": _authenticate,
}
CODE_DOORS = {"api code": _api_code, "page code": _page_code}


@pytest.fixture
def account(make_user):
    return make_user(email=EMAIL, is_staff=True, is_superuser=True)


def _successes(user) -> int:
    return SecurityEvent.objects.filter(user=user, kind=SecurityEvent.LOGIN_SUCCESS).count()


@pytest.mark.parametrize("door", [*PASSWORD_DOORS, *CODE_DOORS])
def test_a_sign_in_through_each_door_is_finalised_once(account, door, clock):
    assert account.last_login is None
    (PASSWORD_DOORS | CODE_DOORS)[door](True)
    account.refresh_from_db()
    assert account.last_login == clock.current
    assert _successes(account) == 1
    # A session was opened for it: a token session for the API, a web one otherwise.
    kind = DeviceSession.API if door.startswith("api") else DeviceSession.WEB
    assert DeviceSession.objects.filter(user=account, kind=kind).count() == 1


@pytest.mark.parametrize("door", list(PASSWORD_DOORS))
def test_each_doors_failures_count_toward_the_accounts_lock(account, door, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        PASSWORD_DOORS[door](False)
    assert SecurityEvent.objects.filter(user=account, kind=SecurityEvent.LOGIN_FAILURE).count() == (
        settings.LOGIN_FAILURE_LIMIT
    )
    # The account is locked, whichever door counted: the API refuses the right password.
    response = CommitAPIClient().post(
        f"{API}/login", {"email": EMAIL, "password": STRONG_PASSWORD}, format="json"
    )
    assert response.status_code == 429, response.content


@pytest.mark.parametrize("door", list(CODE_DOORS))
def test_each_code_doors_failures_are_recorded(account, door):
    CODE_DOORS[door](False)
    assert SecurityEvent.objects.filter(user=account, kind=SecurityEvent.CODE_FAILED).count() == 1
    assert _successes(account) == 0


@pytest.mark.parametrize("door", ["api", "page"])
def test_a_signup_verification_through_each_door_is_finalised_once(door, clock):
    if door == "api":
        client = CommitAPIClient()
        started = client.post(
            f"{API}/signup", {"email": EMAIL, "password": STRONG_PASSWORD}, format="json"
        ).json()["data"]
        response = client.post(
            f"{API}/signup/verify",
            {"signup_token": started["signup_token"], "otp": last_code_for(EMAIL)},
            format="json",
        )
        assert response.status_code == 200
    else:
        client = CommitClient()
        client.post(
            "/accounts/signup/",
            {"email": EMAIL, "password": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
        )
        assert client.post("/accounts/verify/", {"otp": last_code_for(EMAIL)}).status_code == 302
    user = User.objects.get(email=EMAIL)
    assert user.last_login == clock.current
    assert _successes(user) == 1
