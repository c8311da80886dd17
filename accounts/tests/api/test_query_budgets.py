"""Query budgets of SPEC §13, measured through the real HTTP stack."""

import pytest

from accounts.tests.helpers import assert_ok, last_code_for

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-9-Battery"


def test_me_takes_at_most_two_queries(auth_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        assert_ok(auth_client.get("/api/v1/auth/me"))


def test_sessions_list_takes_at_most_two_queries(auth_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        assert_ok(auth_client.get("/api/v1/auth/sessions"))


def test_refresh_takes_at_most_four_queries(api_client, user, django_assert_max_num_queries):
    data = assert_ok(
        api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
        )
    )
    with django_assert_max_num_queries(4):
        assert_ok(
            api_client.post(
                "/api/v1/auth/token/refresh", {"refresh": data["refresh"]}, format="json"
            )
        )


def test_login_takes_at_most_six_queries(api_client, user, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert_ok(
            api_client.post(
                "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
            )
        )


def test_code_request_takes_at_most_seven_queries(
    api_client, user, clock, django_assert_max_num_queries
):
    # Seven since the destination's lock (tests/attacks/test_code_request_burst.py).
    with django_assert_max_num_queries(7):
        assert_ok(api_client.post("/api/v1/auth/otp/request", {"email": user.email}, format="json"))
    clock.advance(31)  # a second request, with a previous code alive
    with django_assert_max_num_queries(7):
        assert_ok(api_client.post("/api/v1/auth/otp/request", {"email": user.email}, format="json"))


def test_code_verify_takes_at_most_eight_queries(api_client, user, django_assert_max_num_queries):
    api_client.post("/api/v1/auth/otp/request", {"email": user.email}, format="json")
    code = last_code_for(user.email)
    with django_assert_max_num_queries(8):
        assert_ok(
            api_client.post(
                "/api/v1/auth/otp/verify", {"email": user.email, "otp": code}, format="json"
            )
        )


def test_mfa_verify_by_totp_takes_at_most_ten_queries(
    api_client, user, clock, django_assert_max_num_queries
):
    """SPEC §16 / issue 15: the second step by an authenticator app. Nine
    since 2026-12-07 (eight before): the token's try is taken by its own
    UPDATE before the factor is checked, so that requests in flight get no
    more than five checks (tests/attacks/test_mfa_token_tries_race.py). Ten
    since the same day's second race pass: the factor's try toward §18.3's
    ceiling is taken the same way, by its own UPDATE, before the code is
    checked (tests/attacks/test_second_factor_ceiling_race.py)."""
    import pyotp

    from accounts.services import mfa
    from accounts.services.tokens import session_open
    from authsite.client import ClientInfo

    session = session_open(user=user, client=ClientInfo()).session
    secret = mfa.totp_setup(user=user, session=session).secret
    mfa.totp_confirm(
        user=user,
        session=session,
        code=pyotp.TOTP(secret).at(clock.current.timestamp()),
        client=ClientInfo(),
    )
    clock.advance(60)
    body = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    ).json()
    token = body["data"]["mfa_token"]
    with django_assert_max_num_queries(10):
        assert_ok(
            api_client.post(
                "/api/v1/auth/mfa/verify",
                {
                    "mfa_token": token,
                    "method": "totp",
                    "code": pyotp.TOTP(secret).at(clock.current.timestamp()),
                },
                format="json",
            )
        )
