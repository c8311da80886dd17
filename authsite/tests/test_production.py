"""Production settings (SPEC §10, §14 rule 11): the deploy check, security
headers and cookies, error bodies, static files, the client IP behind proxies.

The first tests start a separate process with ``authsite.settings.base`` and
the environment documented in README.md ("Running in production"), so they see exactly what a
production server sees (not the test settings with overrides).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import SecurityEvent

ROOT = Path(__file__).resolve().parents[2]

# A SECRET_KEY as `python -c "import secrets; print(secrets.token_urlsafe(50))"` makes one.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "p2Lx9Qv7Tz4Kc8Wm1Rb6Yh3Jn5Fd0Gs-Ua_Ee7Io2Pk9Zr4Xt6Cq1Vw8Bn3Ml5Hy",
    "JWT_SIGNING_KEY": "Jq7Vn2Xc9Lm4Tb8Rz1Wk6Hs3Yd5Pf0Ga-Ue_Oi7Kp2Zx9Cr4",
    "ALLOWED_HOSTS": "auth.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://auth.example.com",
    "CACHE_URL": "redis://127.0.0.1:6379/0",
}


def run_production(tmp_path: Path, args: list[str], **env_overrides: str):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DJANGO_SETTINGS_MODULE": "authsite.settings.base",
        "DATABASE_URL": f"sqlite:///{tmp_path}/production.sqlite3",
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
        **PRODUCTION_ENV,
        **env_overrides,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_deploy_check_passes_with_the_documented_environment(tmp_path):
    # As the README's release steps: collectstatic, then the checks.
    collected = run_production(tmp_path, ["manage.py", "collectstatic", "--noinput", "-v", "0"])
    assert collected.returncode == 0, collected.stderr
    result = run_production(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "ERRORS" not in output
    assert "no issues" in output


def test_deploy_check_fails_with_debug_on(tmp_path):
    result = run_production(
        tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], DEBUG="true"
    )
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG in deployment


def test_deploy_check_warns_before_collectstatic(tmp_path):
    result = run_production(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode != 0
    assert "authsite.W001" in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SIGNING_KEY"])
def test_a_comment_copied_from_env_example_is_refused_as_a_secret(tmp_path, name):
    # django-environ keeps a comment after a value as part of the value: this
    # line of .env.example, copied to .env as is, would make the comment the key.
    result = run_production(
        tmp_path, ["manage.py", "check"], **{name: "        # required when DEBUG is false"}
    )
    assert result.returncode != 0
    assert f"{name} holds a comment" in result.stderr


# Runs in the production process: migrate, collectstatic, then requests through
# Django's test client over HTTPS (secure=True) as a proxy would forward them.
PRODUCTION_REQUESTS = textwrap.dedent(
    """
    import json

    import django

    django.setup()

    from django.core.management import call_command
    from django.templatetags.static import static
    from django.test import Client

    from accounts.services.users import user_create

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    user_create(
        email="staff@example.com", password="Staff-Strong-9-Secret",
        verified=True, is_staff=True, is_superuser=True,
    )

    def cookie(response, name):
        morsel = response.cookies.get(name)
        if morsel is None:
            return None
        return {key: morsel[key] for key in ("secure", "httponly", "samesite")}

    def seen(response):
        return {
            "status": response.status_code,
            "headers": {k.lower(): v for k, v in response.headers.items()},
            "body": b"".join(response).decode("utf-8", "replace")
            if response.streaming else response.content.decode("utf-8", "replace"),
        }

    client = Client(HTTP_HOST="auth.example.com")
    out = {}
    page = client.get("/admin/login/", secure=True)
    out["login_page"] = seen(page) | {"csrf_cookie": cookie(page, "csrftoken")}
    signed_in = client.post(
        "/admin/login/",
        {"username": "staff@example.com", "password": "Staff-Strong-9-Secret", "next": "/admin/"},
        secure=True,
    )
    out["sign_in"] = seen(signed_in) | {"session_cookie": cookie(signed_in, "sessionid")}
    out["api_404"] = seen(client.get("/api/v1/no-such-endpoint", secure=True))
    out["page_404"] = seen(client.get("/no-such-page/", secure=True))
    out["plain_http"] = seen(Client(HTTP_HOST="auth.example.com").get("/admin/login/"))
    out["healthz_http"] = seen(Client(HTTP_HOST="auth.example.com").get("/healthz"))
    out["site_css"] = seen(client.get("/static/css/site.css", secure=True))
    out["hashed_css_url"] = static("css/site.css")
    out["hashed_css"] = seen(client.get(out["hashed_css_url"], secure=True))
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict:
    tmp_path = tmp_path_factory.mktemp("production")
    # The headers and cookies do not depend on the cache; a process-local one
    # spares this test a Redis server (the deploy check above uses Redis).
    result = run_production(
        tmp_path, ["-c", PRODUCTION_REQUESTS], CACHE_URL="locmemcache://production"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_responses_carry_the_security_headers(production):
    headers = production["login_page"]["headers"]
    assert production["login_page"]["status"] == 200
    assert headers["strict-transport-security"] == ("max-age=31536000; includeSubDomains; preload")
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"


def test_session_and_csrf_cookies_are_secure_httponly_and_lax(production):
    expected = {"secure": True, "httponly": True, "samesite": "Lax"}
    assert production["login_page"]["csrf_cookie"] == expected
    assert production["sign_in"]["status"] == 302
    assert production["sign_in"]["session_cookie"] == expected


def test_plain_http_is_redirected_to_https_except_the_probes(production):
    assert production["plain_http"]["status"] == 301
    assert production["plain_http"]["headers"]["location"] == (
        "https://auth.example.com/admin/login/"
    )
    assert production["healthz_http"]["status"] == 200


def test_error_bodies_hold_no_stack_trace_or_settings(production):
    api = production["api_404"]
    assert api["status"] == 404
    assert json.loads(api["body"]) == {
        "success": False,
        "code": "not_found",
        "message": "Not found.",
        "request_id": api["headers"]["x-request-id"],
    }
    page = production["page_404"]
    assert page["status"] == 404
    for response in (api, page):
        for leak in ("Traceback", "SECRET_KEY", PRODUCTION_ENV["SECRET_KEY"], "URLconf", "DEBUG"):
            assert leak not in response["body"]


def test_whitenoise_serves_collected_static_files(production):
    plain = production["site_css"]
    assert plain["status"] == 200
    assert plain["headers"]["content-type"].startswith("text/css")
    hashed_url = production["hashed_css_url"]
    assert hashed_url.startswith("/static/css/site.") and hashed_url != "/static/css/site.css"
    hashed = production["hashed_css"]
    assert hashed["status"] == 200
    assert hashed["body"] == plain["body"]
    assert "immutable" in hashed["headers"]["cache-control"]
    # Pages link the hashed names from the manifest.
    assert "/static/admin/css/" in production["login_page"]["body"]
    assert '/static/admin/css/base.css"' not in production["login_page"]["body"]


# --- the client IP behind proxies (TRUSTED_PROXY_COUNT) --------------------------------------


WRONG = {"email": "alice@example.com", "password": "Wrong-Password-1!"}


@pytest.mark.django_db
def test_client_ip_of_events_comes_from_the_trusted_proxy_hop(settings, user, api_client):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote the first address itself; the proxy appended the second.
    forwarded = "6.6.6.6, 203.0.113.9"
    api_client.post(
        "/api/v1/auth/login",
        WRONG,
        format="json",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    Client().post(
        "/admin/login/",
        {"username": "alice@example.com", "password": "Wrong-Password-1!"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    ips = list(
        SecurityEvent.objects.filter(kind=SecurityEvent.LOGIN_FAILURE).values_list("ip", flat=True)
    )
    assert ips == ["203.0.113.9", "203.0.113.9"]


@pytest.mark.django_db
def test_without_trusted_proxies_forwarded_for_is_ignored(settings, user, api_client):
    settings.TRUSTED_PROXY_COUNT = 0
    api_client.post(
        "/api/v1/auth/login",
        WRONG,
        format="json",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert SecurityEvent.objects.get(kind=SecurityEvent.LOGIN_FAILURE).ip == "10.0.0.1"


@pytest.mark.django_db
def test_rate_limits_count_per_client_behind_the_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATELIMITS = {**settings.RATELIMITS, "login_ip": "2/m"}
    client = Client()

    def attempt(client_ip: str, n: int) -> int:
        return client.post(
            "/admin/login/",
            {"username": f"user{n}@example.com", "password": "Wrong-Password-1!"},
            REMOTE_ADDR="10.0.0.1",  # every request arrives from the proxy
            HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, {client_ip}",
        ).status_code

    assert [attempt("203.0.113.1", n) for n in range(3)] == [200, 200, 429]
    # Another client behind the same proxy has its own count, and a spoofed
    # first hop does not buy the limited client a fresh one.
    assert attempt("203.0.113.2", 7) == 200
    assert attempt("203.0.113.1", 8) == 429
