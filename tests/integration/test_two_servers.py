"""Two app servers, one database, one cache: the limits and revocations hold
across both (SPEC §11, §14 rules 3-4, §5.2).

Two gunicorn instances (two workers each, production settings, DEBUG off)
run against a dedicated MariaDB database and a Redis database of their own;
every test alternates its requests between them. The servers deliver codes
by email through Django's file backend (EMAIL_URL=filemail://): the test
reads them from the files, as a user would from their inbox, since the
development shortcut that returns codes in responses is refused without
DEBUG.
"""

from __future__ import annotations

import itertools
import time

import pytest

from tests.integration.support import Gunicorn, Mailbox, production_env, redis_flush, redis_url_for

pytestmark = pytest.mark.integration

REDIS_DB = 11
PASSWORD = "Integration-Horse-9-Battery"
COOLDOWN = 2  # OTP_RESEND_COOLDOWN for these servers: the hourly cap is reached in seconds
SENDS_PER_HOUR = 4
FAILURE_LIMIT = 10


@pytest.fixture(scope="module")
def servers(it_database, work_dir):
    cache_url = redis_url_for(REDIS_DB)
    redis_flush(cache_url)
    env = production_env(
        database_url=it_database,
        cache_url=cache_url,
        mail_dir=work_dir / "mail",
        OTP_RESEND_COOLDOWN=str(COOLDOWN),
        OTP_MAX_SENDS_PER_HOUR=str(SENDS_PER_HOUR),
        LOGIN_FAILURE_LIMIT=str(FAILURE_LIMIT),
        # The per-IP rates stay on but out of the way: every request here
        # comes from 127.0.0.1, and these tests are about the other limits.
        RATELIMIT_ANON_IP="10000/m",
        RATELIMIT_LOGIN_IP="10000/m",
        RATELIMIT_CODE_REQUEST_IP="10000/m",
    )
    started: list[Gunicorn] = []
    try:
        for _ in range(2):
            started.append(Gunicorn(env=env, log_dir=work_dir, workers=2).start())
        yield started
    finally:
        for server in started:
            server.stop()
        redis_flush(cache_url)


@pytest.fixture(scope="module")
def mailbox(work_dir) -> Mailbox:
    return Mailbox(work_dir / "mail")


def alternate(servers):
    """A, B, A, B, … forever."""
    return itertools.cycle(servers)


def signed_up(servers, mailbox, email: str) -> dict:
    """Sign up on one server, verify on the other: a verified account and its token session."""
    a, b = servers
    sent = a.api().post("/api/v1/auth/signup", {"email": email, "password": PASSWORD})
    assert sent.status == 201, sent
    code = mailbox.wait_for_code(email, count=1)
    token = sent.data["signup_token"]
    verified = b.api().post("/api/v1/auth/signup/verify", {"signup_token": token, "otp": code})
    assert verified.status == 200, verified
    return verified.data


def test_sign_in_lockout_holds_across_both_servers(servers, mailbox):
    email = "lockout@example.com"
    signed_up(servers, mailbox, email)
    turns = alternate(servers)
    for attempt in range(1, FAILURE_LIMIT + 1):
        server = next(turns)
        reply = server.api().post(
            "/api/v1/auth/login", {"email": email, "password": f"wrong-{attempt}"}
        )
        assert (reply.status, reply.code) == (401, "invalid_credentials"), (attempt, reply)
    # Ten failures, five on each server: the identifier is locked on both,
    # even for the right password.
    for server in servers:
        reply = server.api().post("/api/v1/auth/login", {"email": email, "password": PASSWORD})
        assert (reply.status, reply.code) == (429, "rate_limited"), reply
        assert int(reply.headers["retry-after"]) > 0


def test_code_send_cooldown_and_hourly_cap_hold_across_both_servers(servers, mailbox):
    a, b = servers
    body = {"email": "caps@example.com"}
    first = a.api().post("/api/v1/auth/otp/request", body)
    assert first.status == 200, first
    # At once from the other server: the cooldown of the first send applies.
    again = b.api().post("/api/v1/auth/otp/request", body)
    assert (again.status, again.code) == (429, "otp_cooldown"), again
    assert 1 <= int(again.headers["retry-after"]) <= COOLDOWN
    # Sends 2..4 alternate between the servers, each after the cooldown.
    turns = alternate([b, a])
    for _send in range(2, SENDS_PER_HOUR + 1):
        time.sleep(COOLDOWN + 0.2)
        reply = next(turns).api().post("/api/v1/auth/otp/request", body)
        assert reply.status == 200, reply
    time.sleep(COOLDOWN + 0.2)
    for server in servers:
        capped = server.api().post("/api/v1/auth/otp/request", body)
        assert (capped.status, capped.code) == (429, "otp_send_limit"), capped
        assert int(capped.headers["retry-after"]) > COOLDOWN
    # Exactly the four sends that were allowed reached the inbox.
    mailbox.wait_for_code("caps@example.com", count=SENDS_PER_HOUR)
    assert len(mailbox.codes("caps@example.com")) == SENDS_PER_HOUR


def test_five_wrong_codes_kill_the_code_across_both_servers(servers, mailbox):
    a, _b = servers
    email = "tries@example.com"
    assert a.api().post("/api/v1/auth/otp/request", {"email": email}).status == 200
    code = mailbox.wait_for_code(email, count=1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    turns = alternate(servers)
    for attempt in range(1, 6):
        reply = next(turns).api().post("/api/v1/auth/otp/verify", {"email": email, "otp": wrong})
        # The fifth wrong try is the one that spends the code.
        expected = "otp_invalid" if attempt < 5 else "otp_attempts_exceeded"
        assert (reply.status, reply.code) == (400, expected), (attempt, reply)
    # Five wrong tries, spread over both servers: the right code is dead on both.
    for server in servers:
        reply = server.api().post("/api/v1/auth/otp/verify", {"email": email, "otp": code})
        assert (reply.status, reply.code) == (400, "otp_attempts_exceeded"), reply


def test_a_session_signed_out_on_one_server_is_refused_by_the_other(servers, mailbox):
    a, b = servers
    session = signed_up(servers, mailbox, "revoked@example.com")
    access, refresh = session["access"], session["refresh"]
    for server in servers:
        me = server.api(access).get("/api/v1/auth/me")
        assert me.status == 200, me
        assert me.data["email"] == "revoked@example.com"
    assert a.api(access).post("/api/v1/auth/logout").status == 200
    me = b.api(access).get("/api/v1/auth/me")
    assert (me.status, me.code) == (401, "token_invalid"), me
    refreshed = b.api().post("/api/v1/auth/token/refresh", {"refresh": refresh})
    assert (refreshed.status, refreshed.code) == (401, "token_invalid"), refreshed


def test_the_servers_answered_without_a_server_error(servers):
    # The logs of both servers hold no traceback from any of the tests above.
    for server in servers:
        assert "Traceback" not in server.log.read_text(errors="replace"), server.log_tail()
