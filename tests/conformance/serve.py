"""The app served as a developer runs it, for the tools that test it from outside.

``dev_server()`` starts ``manage.py runserver`` (DEBUG, SQLite, a temporary
database) on a free port; ``main()`` is ``make conformance``: a fresh account
made through sign-up and its code, then the schemathesis CLI against the
served schema with every check, and a look at the report that every
operation was tested.

Limits are set out of the fuzzer's way (as in ``tests/schema``): with the real
ones nearly every example would be answered 429 (documented, but the logic
behind it untested), and the fuzzer's wrong passwords would lock the account.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CONFIG = Path(__file__).with_name("schemathesis.toml")
PASSWORD = "Quartz-Lantern-58!"

SERVER_ENV = {
    "DEBUG": "true",
    "OTP_EXPOSE_IN_RESPONSE": "true",
    "CACHE_URL": "locmemcache://conformance",
    "EMAIL_URL": "memorymail://",
    "SMS_BACKEND": "otp.delivery.sms.OutboxSmsBackend",
    "PASSWORD_BREACH_CHECK": "off",
    "RATELIMIT_ENABLE": "false",
    "OTP_RESEND_COOLDOWN": "0",
    "OTP_MAX_SENDS_PER_HOUR": "1000000",
    "OTP_MAX_FAILURES_PER_DAY": "1000000",
    "LOGIN_FAILURE_LIMIT": "1000000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base_url: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@contextlib.contextmanager
def dev_server(**extra_env: str) -> Iterator[str]:
    """``runserver`` with a fresh SQLite database; yields its base URL."""
    (ROOT / "build").mkdir(exist_ok=True)  # not there in a fresh clone
    workdir = Path(tempfile.mkdtemp(prefix="authsite-dev-", dir=ROOT / "build"))
    env = {
        **os.environ,
        **SERVER_ENV,
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        **extra_env,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # development settings, not the tests'
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
    port = free_port()
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(base_url + "/healthz", timeout=2)
                break
            if server.poll() is not None:
                raise RuntimeError(f"the server stopped: see {workdir / 'server.log'}")
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not answer /healthz")
        yield base_url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
        if os.environ.get("KEEP_SERVER_LOG") != "1":
            shutil.rmtree(workdir, ignore_errors=True)


def account_signup(base_url: str) -> tuple[str, str]:
    """A fresh account made the way a person makes one: sign up, then enter the
    code (``data.otp``, exposed in development). Returns (email, access token)."""
    email = f"run-{secrets.token_hex(4)}@example.com"
    status, started = call(
        base_url, "POST", "/api/v1/auth/signup", {"email": email, "password": PASSWORD}
    )
    assert status == 201, started
    status, verified = call(
        base_url,
        "POST",
        "/api/v1/auth/signup/verify",
        {"signup_token": started["data"]["signup_token"], "otp": started["data"]["otp"]},
    )
    assert status == 200, verified
    return email, verified["data"]["access"]


def main() -> int:
    examples = os.environ.get("CONFORMANCE_EXAMPLES", "30")
    report = ROOT / "build" / "conformance-junit.xml"
    report.parent.mkdir(exist_ok=True)
    report.unlink(missing_ok=True)
    with dev_server() as base_url:
        email, access = account_signup(base_url)
        _status, document = call(base_url, "GET", "/api/v1/schema?format=json")
        operations = {
            f"{method.upper()} {path}"
            for path, item in document["paths"].items()
            for method in item
            if method in {"get", "post", "put", "patch", "delete"}
        }
        command = [
            str(BIN / "schemathesis"),
            "--config-file",
            str(CONFIG.relative_to(ROOT)),
            "run",
            f"{base_url}/api/v1/schema",
            "--checks",
            "all",
            "--max-examples",
            examples,
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ]
        print("$", " ".join(command), flush=True)
        env = {
            **os.environ,
            "CONFORMANCE_BASE_URL": base_url,
            "CONFORMANCE_EMAIL": email,
            "CONFORMANCE_PASSWORD": PASSWORD,
            "CONFORMANCE_ACCESS": access,
            # The hooks import tests.conformance.formats.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        code = subprocess.run(command, env=env, cwd=ROOT).returncode
    if not report.exists():
        return code or 1
    tested = {case.get("name") for case in ET.parse(report).iter("testcase")}
    untested = sorted(operations - tested)
    if untested:
        print(f"Operations not tested: {untested}", file=sys.stderr)
        return code or 1
    print(f"conformance: all {len(operations)} operations tested, schemathesis exit {code}")
    return code


def schema_save(path: str) -> int:
    """Write the schema the served app answers to ``path`` (for openapi-typescript)."""
    with dev_server() as base_url:
        status, document = call(base_url, "GET", "/api/v1/schema?format=json")
    assert status == 200, document
    Path(path).write_text(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["schema"]:
        sys.exit(schema_save(sys.argv[2]))
    sys.exit(main())
