"""The database goes away and comes back (SPEC §5.1 service_unavailable, §5.2 readyz).

A MariaDB server of the test's own (its own data directory and port, never
the server on 3306) backs one gunicorn server with production settings.
After an account, a session and a profile are written through the API, the
database server is killed: every API call answers 503 service_unavailable in
the envelope, with no traceback or SQL, and /readyz answers 503. The
database is started again on the same data directory, and the *same*
gunicorn server, never restarted, serves again: nothing written before the
outage is lost.
"""

from __future__ import annotations

import re
import shutil

import pytest

from tests.integration.support import (
    Gunicorn,
    Mailbox,
    ThrowawayMariaDB,
    free_port,
    manage,
    production_env,
    redis_flush,
    redis_url_for,
    wait_until,
)

pytestmark = pytest.mark.integration

REDIS_DB = 12
DATABASE = "authsite_hard_outage"
PASSWORD = "Outage-Horse-9-Battery"
EMAIL = "outage@example.com"
PROFILE = {"first_name": "Ada", "city": "Pune", "preferences": ["tea"], "attributes": {"k": 1}}
LEAKS = re.compile(
    r"Traceback|File \"|SELECT |INSERT |UPDATE |MySQLdb|OperationalError|mysql", re.I
)


@pytest.fixture
def database_server():
    if shutil.which("mariadb-install-db") is None:
        pytest.fail(
            "the outage test needs mariadb-install-db and mariadbd (apt-get install mariadb-server)"
        )
    server = ThrowawayMariaDB(port=free_port())
    try:
        server.install()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def site(database_server, work_dir):
    database_server.server.execute(
        f"CREATE DATABASE `{DATABASE}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    cache_url = redis_url_for(REDIS_DB)
    redis_flush(cache_url)
    env = production_env(
        database_url=database_server.server.url(DATABASE),
        cache_url=cache_url,
        mail_dir=work_dir / "mail",
    )
    manage(env, "migrate", "--noinput")
    server = Gunicorn(env=env, log_dir=work_dir, workers=2)
    try:
        yield server.start()
    finally:
        server.stop()
        redis_flush(cache_url)


def assert_unavailable(reply) -> None:
    assert reply.status == 503, reply
    assert reply.body["success"] is False, reply
    assert reply.code == "service_unavailable", reply
    assert int(reply.headers["retry-after"]) > 0
    assert not LEAKS.search(reply.text), reply


def test_the_api_answers_503_while_the_database_is_down_and_recovers_without_a_restart(
    database_server, site, work_dir
):
    mailbox = Mailbox(work_dir / "mail")
    api = site.api()
    # Before: an account, a token session and a profile, written through the API.
    started = api.post("/api/v1/auth/signup", {"email": EMAIL, "password": PASSWORD})
    assert started.status == 201, started
    code = mailbox.wait_for_code(EMAIL, count=1)
    token = started.data["signup_token"]
    session = api.post("/api/v1/auth/signup/verify", {"signup_token": token, "otp": code})
    assert session.status == 200, session
    access, refresh = session.data["access"], session.data["refresh"]
    patched = site.api(access).patch("/api/v1/profile", PROFILE)
    assert patched.status == 200, patched
    assert site.api(access).get("/api/v1/auth/me").status == 200
    gunicorn_pid = site.process.pid

    database_server.kill()

    # Down: every kind of call answers 503 in the envelope, from every worker.
    for _round in range(3):
        assert_unavailable(site.api(access).get("/api/v1/auth/me"))
        assert_unavailable(site.api(access).get("/api/v1/profile"))
        assert_unavailable(site.api(access).patch("/api/v1/profile", {"city": "Goa"}))
        assert_unavailable(api.post("/api/v1/auth/login", {"email": EMAIL, "password": PASSWORD}))
        assert_unavailable(api.post("/api/v1/auth/token/refresh", {"refresh": refresh}))
        assert_unavailable(api.post("/api/v1/auth/otp/request", {"email": EMAIL}))
        ready = api.get("/readyz")
        assert ready.status == 503, ready
        assert ready.data["database"] == "unavailable"
        assert ready.data["cache"] == "ok"
        assert api.get("/healthz").status == 200  # the process itself is fine

    database_server.start()

    # Back: the same server process recovers on its own.
    wait_until(lambda: api.get("/readyz").status == 200, timeout=30, what="readyz after recovery")
    assert site.process.pid == gunicorn_pid and site.process.poll() is None
    for _round in range(4):  # every worker, each with the connection it had before
        me = site.api(access).get("/api/v1/auth/me")
        assert me.status == 200, me
        assert me.data["email"] == EMAIL
    signed_in = api.post("/api/v1/auth/login", {"email": EMAIL, "password": PASSWORD})
    assert signed_in.status == 200, signed_in
    fresh = signed_in.data["access"]
    assert site.api(fresh).get("/api/v1/auth/me").data["email"] == EMAIL
    profile = site.api(fresh).get("/api/v1/profile")
    assert profile.status == 200, profile
    assert {key: profile.data[key] for key in PROFILE} == PROFILE
    # The write refused during the outage did not half-happen.
    assert profile.data["city"] == "Pune"
    refreshed = api.post("/api/v1/auth/token/refresh", {"refresh": refresh})
    assert refreshed.status == 200, refreshed

    # The delivery pool's threads keep their connections between messages;
    # those died with the server too. Messages go out again, and each code's
    # row records it ("sent"), from whichever worker and thread took it.
    addresses = [f"after{n}@example.com" for n in range(6)]
    for address in addresses:
        assert api.post("/api/v1/auth/otp/request", {"email": address}).status == 200
    for address in addresses:
        mailbox.wait_for_code(address, count=1)

    def statuses() -> list[str]:
        shown = manage(
            site.env,
            "shell",
            "--no-imports",
            "-c",
            "from otp.models import OneTimeCode as C; "
            "print(*C.objects.filter(destination__startswith='after')"
            ".values_list('delivery_status', flat=True))",
        )
        return shown.stdout.split()

    wait_until(lambda: statuses() == ["sent"] * len(addresses), timeout=20, what="sent rows")
    assert "Delivery job failed" not in site.log.read_text(errors="replace")
