"""What an operator sees of a real server (SPEC §20): gunicorn with two
workers, started with ``gunicorn.conf.py`` as ``make serve`` does, behind one
trusted proxy, with JSON logs and metrics on.

- ``/metrics`` adds up both workers (prometheus-client's multiprocess mode):
  sign-ins answered by either worker all show in every scrape, whichever
  worker answers it; 401 without the token, 404 on a server without one.
- The access log and the site's own lines show the client's IP (not the
  proxy's) and the request id the proxy sent, which the answer returns.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.support import Gunicorn, Mailbox, production_env, redis_flush, redis_url_for

pytestmark = pytest.mark.integration

REDIS_DB = 6
TOKEN = "integration-metrics-token-0123456789abcdef"
PASSWORD = "Operator-Horse-9-Battery"
EMAIL = "operator@example.com"
SIGNINS = ("authsite_signins_total", frozenset({("method", "password"), ("outcome", "success")}))


@pytest.fixture(scope="module")
def env(it_database, work_dir):
    cache_url = redis_url_for(REDIS_DB)
    redis_flush(cache_url)
    yield production_env(
        database_url=it_database,
        cache_url=cache_url,
        mail_dir=work_dir / "mail",
        METRICS_TOKEN=TOKEN,
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        TRUSTED_PROXY_COUNT="1",
        RATELIMIT_ANON_IP="10000/m",
        RATELIMIT_LOGIN_IP="10000/m",
    )
    redis_flush(cache_url)


@pytest.fixture(scope="module")
def server(env, work_dir):
    site = Gunicorn(env=env, log_dir=work_dir, workers=2)
    try:
        yield site.start()
    finally:
        site.stop()


@pytest.fixture(scope="module")
def account(server, work_dir) -> str:
    api = server.api()
    started = api.post("/api/v1/auth/signup", {"email": EMAIL, "password": PASSWORD})
    assert started.status == 201, started
    code = Mailbox(work_dir / "mail").wait_for_code(EMAIL, count=1)
    verified = api.post(
        "/api/v1/auth/signup/verify",
        {"signup_token": started.data["signup_token"], "otp": code},
    )
    assert verified.status == 200, verified
    return EMAIL


def log_entries(server) -> list[dict]:
    entries = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def scrape(server) -> dict:
    reply = server.api(TOKEN).get("/metrics")
    assert reply.status == 200, reply
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def test_metrics_add_up_the_sign_ins_of_both_workers(server, account):
    before = scrape(server).get(SIGNINS, 0.0)

    def sign_in(_n: int):
        return server.api().post("/api/v1/auth/login", {"email": account, "password": PASSWORD})

    # Concurrent sign-ins (each one a full Argon2 hash) keep both workers busy.
    answered_by: set[int] = set()
    signed_in = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _round in range(5):
            replies = list(pool.map(sign_in, range(8)))
            assert all(reply.status == 200 for reply in replies), replies
            signed_in += len(replies)
            ids = {reply.headers["x-request-id"] for reply in replies}
            answered_by |= {
                entry["pid"]
                for entry in log_entries(server)
                if entry["logger"] == "gunicorn.access" and entry["request_id"] in ids
            }
            if len(answered_by) == 2:
                break
    assert len(answered_by) == 2, "every sign-in was answered by the same worker"

    # Every scrape, whichever worker answers it, shows the sign-ins of both.
    for _scrape in range(6):
        assert scrape(server)[SIGNINS] - before == signed_in
    latency = (
        "authsite_http_request_duration_seconds_count",
        frozenset({("view", "accounts_api:login"), ("method", "POST"), ("status", "2xx")}),
    )
    assert scrape(server)[latency] >= signed_in


def test_metrics_refuse_a_scrape_without_the_token(server):
    for api in (server.api(), server.api("wrong-token")):
        reply = api.get("/metrics")
        assert reply.status == 401, reply
        assert reply.headers["www-authenticate"] == 'Bearer realm="metrics"'
        assert "authsite_" not in reply.text


def test_metrics_are_off_on_a_server_without_a_token(env, work_dir):
    quiet = Gunicorn(env={**env, "METRICS_TOKEN": ""}, log_dir=work_dir, workers=1)
    try:
        quiet.start()
        for api in (quiet.api(), quiet.api(TOKEN)):
            assert api.get("/metrics").status == 404
    finally:
        quiet.stop()


def test_logs_show_the_clients_ip_and_the_proxys_request_id(server, account):
    proxied = server.api(
        headers={"X-Forwarded-For": "198.51.100.23", "X-Request-ID": "edge-4f9c2a:trace-1"}
    ).post("/api/v1/auth/login", {"email": account, "password": "Wrong-Horse-9-x"})
    assert proxied.status == 401
    assert proxied.headers["x-request-id"] == "edge-4f9c2a:trace-1"
    assert proxied.body["request_id"] == "edge-4f9c2a:trace-1"
    forged = server.api(headers={"X-Forwarded-For": "198.51.100.24", "X-Request-ID": "a b"}).get(
        "/api/v1/auth/me"
    )
    assert forged.status == 401
    fresh_id = forged.headers["x-request-id"]
    assert fresh_id != "a b" and len(fresh_id) == 32

    def lines(request_id: str) -> dict[str, dict]:
        by_logger = {}
        for entry in log_entries(server):
            if entry.get("request_id") == request_id:
                by_logger.setdefault(entry["logger"], entry)
        return by_logger

    # The access log line is written after the answer: wait for it briefly.
    for request_id, ip in (("edge-4f9c2a:trace-1", "198.51.100.23"), (fresh_id, "198.51.100.24")):
        seen = {}
        for _try in range(50):
            seen = lines(request_id)
            if "gunicorn.access" in seen:
                break
            time.sleep(0.1)
        assert seen["gunicorn.access"]["client_ip"] == ip, seen
        # The site's own line about the refusal (django.request) says the same.
        assert seen["django.request"]["client_ip"] == ip, seen
        assert seen["gunicorn.access"]["status"] == 401
        # The access line is the request line: the site writes none of its own.
        assert "authsite.request" not in seen, seen
    access = lines("edge-4f9c2a:trace-1")["gunicorn.access"]
    assert (access["method"], access["path"]) == ("POST", "/api/v1/auth/login")
    assert (access["view"], access["user_id"]) == ("accounts_api:login", None)
    assert lines(fresh_id)["gunicorn.access"]["view"] == "accounts_api:me"
    # A signed-in request's access line names its user.
    signed_in = server.api().post("/api/v1/auth/login", {"email": account, "password": PASSWORD})
    me = server.api(signed_in.data["access"]).get("/api/v1/auth/me")
    assert me.status == 200, me
    for _try in range(50):
        if "gunicorn.access" in lines(me.headers["x-request-id"]):
            break
        time.sleep(0.1)
    access = lines(me.headers["x-request-id"])["gunicorn.access"]
    assert access["user_id"] == me.data["id"], access
    assert "Wrong-Horse-9-x" not in server.log_text()
    assert "Traceback" not in server.log_text(), server.log_tail()
