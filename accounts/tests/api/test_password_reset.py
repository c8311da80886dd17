"""Forgot → verify → reset (SPEC §5.3, §14 rules 2, 3, 5, 6)."""

import time

import pytest
from django.contrib.auth.hashers import get_hashers
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import DeviceSession, SecurityEvent, User
from accounts.services.websessions import web_session_open
from accounts.tests.helpers import (
    CODE_RE,
    assert_error,
    assert_ok,
    comparable_content,
    last_code_for,
    messages_to,
    wrong_code,
)
from accounts.tests.views.conftest import sign_in as web_sign_in
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

FORGOT = "/api/v1/auth/password/forgot"
FORGOT_VERIFY = "/api/v1/auth/password/forgot/verify"
RESET = "/api/v1/auth/password/reset"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/token/refresh"
OTP_REQUEST = "/api/v1/auth/otp/request"
ME = "/api/v1/auth/me"
SIGNUP = "/api/v1/auth/signup"
CHANGE = "/api/v1/auth/password/change"

NEW_PASSWORD = "Brand-New-Horse-42!"
WRITES = ("INSERT", "UPDATE", "DELETE")


def post(client, path, body, **extra):
    return client.post(path, body, format="json", **extra)


def login(client, email, password, **extra):
    return post(client, LOGIN, {"email": email, "password": password}, **extra)


def forgot_code(client, email):
    assert_ok(post(client, FORGOT, {"email": email}))
    return last_code_for(email)


def reset(client, email, code, new_password=NEW_PASSWORD):
    return post(client, RESET, {"email": email, "otp": code, "new_password": new_password})


@pytest.fixture
def three_addresses(make_user):
    """A registered, an unregistered and an inactive address that mask alike."""
    make_user(email="al1@example.com")
    make_user(email="al3@example.com", is_active=False)
    return ("al1@example.com", "al2@example.com", "al3@example.com")


@pytest.fixture
def hasher_calls(monkeypatch):
    """Counts every password hash computed or checked, by any configured hasher."""
    calls = []
    for hasher in get_hashers():
        cls = type(hasher)
        for name in ("encode", "verify"):
            original = getattr(cls, name)

            def spy(self, *args, _original=original, _name=name, **kwargs):
                calls.append(_name)
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(cls, name, spy)
    return calls


# --- forgot: the same answer for every kind of address -----------------------------


def test_forgot_answers_byte_identically_for_registered_unregistered_and_inactive(
    api_client, three_addresses
):
    responses = [post(api_client, FORGOT, {"email": email}) for email in three_addresses]
    for response in responses:
        data = assert_ok(response)
        assert data["destination"] == "a***@example.com"
        assert "otp" not in data
    assert responses[0].content == responses[1].content == responses[2].content
    assert (
        responses[0]["Content-Type"] == responses[1]["Content-Type"] == responses[2]["Content-Type"]
    )
    # Only the active account was sent a code.
    assert CODE_RE.search(messages_to("al1@example.com")[-1])
    assert messages_to("al2@example.com") == []
    assert messages_to("al3@example.com") == []


def test_forgot_refusals_are_alike_too(api_client, three_addresses):
    for email in three_addresses:
        assert_ok(post(api_client, FORGOT, {"email": email}))
    again = [post(api_client, FORGOT, {"email": email}) for email in three_addresses]
    for response in again:
        assert_error(response, 429, "otp_cooldown")
    assert (
        comparable_content(again[0]) == comparable_content(again[1]) == comparable_content(again[2])
    )
    assert again[0]["Retry-After"] == again[1]["Retry-After"] == again[2]["Retry-After"]


def test_forgot_does_the_same_database_work_and_no_hashing_for_every_kind_of_address(
    api_client, three_addresses, hasher_calls
):
    writes, totals, hashes = [], [], []
    for email in three_addresses:
        hasher_calls.clear()
        with CaptureQueriesContext(connection) as queries:
            assert_ok(post(api_client, FORGOT, {"email": email}))
        statements = [q["sql"].lstrip().upper() for q in queries.captured_queries]
        writes.append(sum(1 for sql in statements if sql.startswith(WRITES)))
        totals.append(len(statements))
        hashes.append(len(hasher_calls))
    assert writes[0] == writes[1] == writes[2]
    assert writes[0] >= 1  # the code row is written for every address
    assert totals[0] == totals[1] == totals[2]
    assert hashes == [0, 0, 0]


def test_wrong_codes_get_the_same_answer_and_work_for_every_kind_of_address(
    api_client, three_addresses, hasher_calls
):
    for email in three_addresses:
        assert_ok(post(api_client, FORGOT, {"email": email}))
    wrong = wrong_code(last_code_for("al1@example.com"))
    for path, extra in ((FORGOT_VERIFY, {}), (RESET, {"new_password": NEW_PASSWORD})):
        contents, writes = [], []
        for email in three_addresses:
            with CaptureQueriesContext(connection) as queries:
                response = post(api_client, path, {"email": email, "otp": wrong, **extra})
            assert_error(response, 400, "otp_invalid")
            contents.append(comparable_content(response))
            writes.append(
                sum(
                    1
                    for q in queries.captured_queries
                    if q["sql"].lstrip().upper().startswith(WRITES)
                )
            )
        assert contents[0] == contents[1] == contents[2], path
        assert writes[0] == writes[1] == writes[2], (path, writes)
    assert hasher_calls == []


def test_forgot_with_a_phone_sends_an_sms(api_client, make_user, sms_outbox):
    make_user(phone="+919876543210")
    data = assert_ok(post(api_client, FORGOT, {"phone": "9876543210", "dialing_code": "91"}))
    assert data["channel"] == "sms"
    code = last_code_for("+919876543210")
    assert_ok(
        post(
            api_client, RESET, {"phone": "+919876543210", "otp": code, "new_password": NEW_PASSWORD}
        )
    )
    user = User.objects.get(phone="+919876543210")
    assert user.check_password(NEW_PASSWORD)


def test_forgot_without_an_address_is_a_validation_error(api_client):
    body = assert_error(post(api_client, FORGOT, {}), 400, "validation_error")
    assert "email" in body["errors"]


# --- forgot/verify: checks without spending ----------------------------------------


def test_verify_says_valid_and_leaves_the_code_usable(api_client, user):
    code = forgot_code(api_client, user.email)
    data = assert_ok(post(api_client, FORGOT_VERIFY, {"email": user.email, "otp": code}))
    assert data == {"valid": True}
    # Checking twice is fine: nothing was spent.
    assert_ok(post(api_client, FORGOT_VERIFY, {"email": user.email, "otp": code}))
    assert_ok(reset(api_client, user.email, code))
    # Now it is spent.
    assert_error(
        post(api_client, FORGOT_VERIFY, {"email": user.email, "otp": code}), 400, "otp_invalid"
    )


def test_five_wrong_tries_on_verify_kill_the_code_for_reset(api_client, user):
    code = forgot_code(api_client, user.email)
    for _ in range(4):
        assert_error(
            post(api_client, FORGOT_VERIFY, {"email": user.email, "otp": wrong_code(code)}),
            400,
            "otp_invalid",
        )
    assert_error(
        post(api_client, FORGOT_VERIFY, {"email": user.email, "otp": wrong_code(code)}),
        400,
        "otp_attempts_exceeded",
    )
    assert_error(reset(api_client, user.email, code), 400, "otp_attempts_exceeded")
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.CODE_FAILED).count() == 6


def test_verify_and_reset_for_an_unregistered_address_fail_like_a_wrong_code(
    api_client, three_addresses
):
    assert_ok(post(api_client, FORGOT, {"email": "al2@example.com"}))
    for path, body in (
        (FORGOT_VERIFY, {"email": "al2@example.com", "otp": "123456"}),
        (RESET, {"email": "al2@example.com", "otp": "123456", "new_password": NEW_PASSWORD}),
        (RESET, {"email": "al3@example.com", "otp": "123456", "new_password": NEW_PASSWORD}),
        (
            RESET,
            {"email": "nobody-at-all@example.com", "otp": "123456", "new_password": NEW_PASSWORD},
        ),
    ):
        assert_error(post(api_client, path, body), 400, "otp_invalid")
    assert not User.objects.filter(email="al2@example.com").exists()


# --- reset --------------------------------------------------------------------------


def test_reset_with_a_login_code_fails(api_client, user):
    assert_ok(post(api_client, OTP_REQUEST, {"email": user.email}))
    login_code = last_code_for(user.email)
    assert_error(reset(api_client, user.email, login_code), 400, "otp_invalid")
    assert_error(
        post(api_client, FORGOT_VERIFY, {"email": user.email, "otp": login_code}),
        400,
        "otp_invalid",
    )
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_reset_sets_the_password_revokes_everything_and_signs_nobody_in(
    api_client, user, web_client
):
    # Two API devices, one browser signed in through the real sign-in page.
    first = assert_ok(login(api_client, user.email, STRONG_PASSWORD, HTTP_USER_AGENT="phone"))
    second = assert_ok(login(api_client, user.email, STRONG_PASSWORD, HTTP_USER_AGENT="tablet"))
    browser = web_client
    web_sign_in(browser, user.email)
    assert browser.get("/profile/").status_code == 200
    extra_web = web_session_open(user=user, client=ClientInfo(ip="10.0.0.9", user_agent="laptop"))
    assert DeviceSession.objects.filter(user=user, kind=DeviceSession.WEB).count() == 2

    code = forgot_code(api_client, user.email)
    response = reset(api_client, user.email, code)
    data = assert_ok(response)
    # Nobody is signed in: no token of any kind in the answer.
    assert data is None
    assert b"access" not in response.content and b"refresh" not in response.content

    # Every session is gone: tokens (access and refresh) of both devices, the browser.
    assert not DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    extra_web.refresh_from_db()
    assert extra_web.revoked_at is not None
    for pair in (first, second):
        assert_error(
            api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {pair['access']}"), 401, "token_invalid"
        )
        assert_error(post(api_client, REFRESH, {"refresh": pair["refresh"]}), 401, "token_invalid")
    page = browser.get("/profile/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")

    # The old password fails, the new one works.
    assert_error(login(api_client, user.email, STRONG_PASSWORD), 401, "invalid_credentials")
    assert_ok(login(api_client, user.email, NEW_PASSWORD))

    # The notice: sent, about the reset, without the code or the password.
    notice = messages_to(user.email)[-1]
    assert "reset" in notice.lower()
    assert code not in notice and CODE_RE.search(notice) is None
    assert NEW_PASSWORD not in notice
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.PASSWORD_RESET).count() == 1


def test_reset_is_single_use(api_client, user):
    code = forgot_code(api_client, user.email)
    assert_ok(reset(api_client, user.email, code))
    assert_error(reset(api_client, user.email, code, "Another-Horse-77!"), 400, "otp_invalid")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_reset_of_an_unverified_account_verifies_its_address(api_client, make_user):
    pending = make_user(email="pending@example.com", verified=False)
    code = forgot_code(api_client, pending.email)
    assert_ok(reset(api_client, pending.email, code))
    pending.refresh_from_db()
    assert pending.email_verified
    assert_ok(login(api_client, pending.email, NEW_PASSWORD))


def test_reset_by_phone_verifies_the_phone(api_client, make_user, sms_outbox):
    owner = make_user(phone="+919876543210", email="both@example.com", verified=False)
    assert_ok(post(api_client, FORGOT, {"phone": "+919876543210"}))
    code = last_code_for("+919876543210")
    assert_ok(
        post(
            api_client, RESET, {"phone": "+919876543210", "otp": code, "new_password": NEW_PASSWORD}
        )
    )
    owner.refresh_from_db()
    assert owner.phone_verified and not owner.email_verified
    # The notice goes to every address of the account.
    assert any("reset" in text.lower() for text in messages_to("+919876543210"))
    assert any("reset" in text.lower() for text in messages_to("both@example.com"))


def test_a_weak_new_password_is_refused_with_reasons_and_the_code_survives(api_client, user):
    code = forgot_code(api_client, user.email)
    body = assert_error(reset(api_client, user.email, code, "password"), 400, "validation_error")
    reasons = body["errors"]["new_password"]
    assert len(reasons) >= 2 and all(isinstance(r, str) and r for r in reasons)
    assert_ok(reset(api_client, user.email, code))


def test_a_locked_out_user_can_still_reset(api_client, user):
    for attempt in range(10):
        assert_error(
            login(api_client, user.email, "Wrong-Password-1!", REMOTE_ADDR=f"10.1.0.{attempt}"),
            401,
            "invalid_credentials",
        )
    assert_error(
        login(api_client, user.email, STRONG_PASSWORD, REMOTE_ADDR="10.2.0.1"), 429, "rate_limited"
    )
    code = forgot_code(api_client, user.email)
    assert_ok(reset(api_client, user.email, code))
    assert_ok(login(api_client, user.email, NEW_PASSWORD, REMOTE_ADDR="10.2.0.2"))


# --- long passwords (SPEC §14 rule 5) -----------------------------------------------


def test_a_128_character_password_set_by_reset_is_checked_exactly(api_client, user):
    long_password = ("Aa1!" + "x7Yz-" * 30)[:128]
    assert len(long_password) == 128
    code = forgot_code(api_client, user.email)
    assert_ok(reset(api_client, user.email, code, long_password))
    assert_error(login(api_client, user.email, long_password[:64]), 401, "invalid_credentials")
    assert_error(login(api_client, user.email, long_password[:127]), 401, "invalid_credentials")
    assert_error(
        login(api_client, user.email, long_password.swapcase()), 401, "invalid_credentials"
    )
    assert_ok(login(api_client, user.email, long_password))


@pytest.mark.parametrize("where", ["reset", "change", "signup"])
def test_a_one_megabyte_password_is_a_fast_validation_error(api_client, auth_client, user, where):
    huge = "Aa1!" * (1024 * 1024 // 4)
    if where == "reset":
        code = forgot_code(api_client, user.email)
        client, path, body = (
            api_client,
            RESET,
            {"email": user.email, "otp": code, "new_password": huge},
        )
        field = "new_password"
    elif where == "change":
        client, path = auth_client, CHANGE
        body = {"current_password": STRONG_PASSWORD, "new_password": huge}
        field = "new_password"
    else:
        client, path, body = api_client, SIGNUP, {"email": "huge@example.com", "password": huge}
        field = "password"
    started = time.monotonic()
    response = post(client, path, body)
    elapsed = time.monotonic() - started
    body = assert_error(response, 400, "validation_error")
    assert body["errors"][field]
    assert elapsed < 2.0
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert not User.objects.filter(email="huge@example.com").exists()


def test_reset_does_not_reveal_an_account_through_the_password_rules(api_client, make_user):
    """The password rules compare the new password with the account's other
    identifiers (its username here). Those must not be consulted before the
    code is proved right, or a password like the username tells a stranger
    that the address belongs to that account."""
    make_user(email="al1@example.com", username="zebrafish")
    for email in ("al1@example.com", "al2@example.com"):
        assert_ok(post(api_client, FORGOT, {"email": email}))
    responses = [
        reset(api_client, email, "000000", "Zebrafish-77!")
        for email in ("al1@example.com", "al2@example.com")
    ]
    assert_error(responses[0], 400, "otp_invalid")
    assert comparable_content(responses[0]) == comparable_content(responses[1])


def test_the_owner_is_still_told_the_password_is_like_the_username(api_client, make_user):
    owner = make_user(email="al1@example.com", username="zebrafish")
    code = forgot_code(api_client, owner.email)
    body = assert_error(
        reset(api_client, owner.email, code, "Zebrafish-77!"), 400, "validation_error"
    )
    assert any("similar" in reason for reason in body["errors"]["new_password"])
    # The code was not spent on the refusal.
    assert_ok(reset(api_client, owner.email, code))
