"""Real servers for the integration tests: gunicorn with production settings,
MariaDB databases (and a throw-away MariaDB server), Redis, a JSON client and
the mailbox the servers write their messages to.

Everything here has a deadline and a way to stop: a test that fails half-way
still stops what it started (the fixtures call ``stop`` in their finalizers).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from authsite.testing.servers import GunicornServer, free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
if not PYTHON.exists():  # pragma: no cover - outside the project's virtualenv
    PYTHON = Path(sys.executable)
    GUNICORN = Path(sys.executable).with_name("gunicorn")

HOST = "127.0.0.1"
# Database names start with this, so a run never touches anyone else's.
DATABASE_PREFIX = "authsite_hard_it_"


def wait_until(check: Callable[[], Any], *, timeout: float, interval: float = 0.2, what: str):
    """``check()``'s first truthy value, polling until ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception as exc:  # the thing is not up yet
            last_error = exc
        else:
            if value:
                return value
        time.sleep(interval)
    raise TimeoutError(
        f"gave up waiting for {what} after {timeout:.0f}s (last error: {last_error!r})"
    )


# --- MariaDB --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MariaDB:
    """A MariaDB server reached over TCP, with the rights to create databases."""

    host: str = HOST
    port: int = 3306
    user: str = "root"
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> MariaDB:
        parts = urlsplit(url)
        return cls(
            host=parts.hostname or HOST,
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
        )

    def url(self, database: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"mysql://{auth}@{self.host}:{self.port}/{database}"

    def connect(self, **kwargs):
        import MySQLdb

        return MySQLdb.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            connect_timeout=3,
            **kwargs,
        )

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            rows = list(cursor.fetchall())
            connection.commit()
            return rows
        finally:
            connection.close()

    def create_database(self, name: str) -> None:
        assert re.fullmatch(r"authsite_hard\w+", name), name
        self.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")

    def drop_database(self, name: str) -> None:
        assert re.fullmatch(r"authsite_hard\w+", name), name
        self.execute(f"DROP DATABASE IF EXISTS `{name}`")

    def is_up(self) -> bool:
        try:
            self.connect().close()
        except Exception:
            return False
        return True


class ThrowawayMariaDB:
    """A MariaDB server of our own: its own data directory, port and socket,
    never the server on 3306. Started with ``--no-defaults`` so no option file
    points it at anybody else's data."""

    def __init__(self, port: int) -> None:
        assert port != 3306
        self.port = port
        self.datadir = Path(tempfile.mkdtemp(prefix="authsite-hard-mariadb-"))
        self.process: subprocess.Popen | None = None
        self.server = MariaDB(port=port)

    @property
    def log(self) -> Path:
        return self.datadir / "error.log"

    def install(self) -> None:
        shutil.chown(self.datadir, "mysql", "mysql")
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                "--user=mysql",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.process = subprocess.Popen(
            [
                shutil.which("mariadbd") or "/usr/sbin/mariadbd",
                "--no-defaults",
                "--user=mysql",
                f"--datadir={self.datadir}",
                f"--port={self.port}",
                f"--socket={self.datadir / 'mariadb.sock'}",
                f"--pid-file={self.datadir / 'mariadb.pid'}",
                f"--log-error={self.log}",
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=64M",
                "--max-connections=200",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self._ready, timeout=60, what=f"MariaDB on port {self.port}")

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"mariadbd exited: {self.log_tail()}")
        return self.server.is_up()

    def kill(self) -> None:
        """Stop the server at once (SIGKILL, as a crash would)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        wait_until(lambda: not self.server.is_up(), timeout=10, what="MariaDB to go away")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


# --- Redis ------------------------------------------------------------------------------------


def redis_flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
    finally:
        client.close()


def redis_url_for(db: int) -> str:
    """Redis on the host of the suite's CACHE_URL (127.0.0.1 by default), our own db."""
    configured = os.environ.get("CACHE_URL", "")
    host, port = HOST, 6379
    if configured.startswith("redis://"):
        parts = urlsplit(configured)
        host, port = parts.hostname or HOST, parts.port or 6379
    return f"redis://{host}:{port}/{db}"


# --- the site under gunicorn --------------------------------------------------------------


def production_env(*, database_url: str, cache_url: str, mail_dir: Path, **extra: str) -> dict:
    """The environment of a production deployment (DEBUG off), built from
    scratch: nothing of the test process's settings leaks in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "authsite.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": "integration-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "JWT_SIGNING_KEY": "integration-jwt-signing-key-0123456789abcdefghijklmnop",
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        # Four slashes: django-environ drops the first slash of the path.
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "OTP_DELIVERY_MODE": "thread",
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def manage(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


class Gunicorn(GunicornServer):
    """The site under gunicorn with ``gunicorn.conf.py``, as ``make serve`` runs
    it (``authsite.testing.servers``), logging to ``log_dir``."""

    def __init__(self, *, env: dict, log_dir: Path, workers: int = 2, port: int | None = None):
        port = port or free_port()
        super().__init__(
            env=env,
            log=log_dir / f"gunicorn-{port}.log",
            workers=workers,
            port=port,
            args=["--timeout=60", "--graceful-timeout=5"],
            gunicorn=GUNICORN,
        )

    def api(self, token: str | None = None, headers: dict[str, str] | None = None) -> Api:
        return Api(self.base, token=token, headers=headers or {})


# --- HTTP -------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]
    text: str

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.text[:300]!r})"


@dataclass
class Api:
    base: str
    token: str | None = None
    timeout: float = 30
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: Any = None) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in self.headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, headers = error.code, error.read(), error.headers
        text = raw.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return Reply(status, parsed, {k.lower(): v for k, v in headers.items()}, text)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Reply:
        return self.request("POST", path, {} if body is None else body)

    def patch(self, path: str, body: Any) -> Reply:
        return self.request("PATCH", path, body)


# --- the mailbox the servers write to (EMAIL_URL=filemail://) ------------------------------

_CODE = re.compile(r"code is (\d{6,})")


class Mailbox:
    """Messages written by Django's file email backend, one or more per file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def messages(self, to: str) -> list[email.message.EmailMessage]:
        found = []
        for path in sorted(self.directory.glob("*.log"), key=lambda p: (p.stat().st_mtime, p.name)):
            for chunk in path.read_text(errors="replace").split("-" * 79):
                if not chunk.strip():
                    continue
                message = email.message_from_string(chunk.lstrip("\n"), policy=email.policy.default)
                if message["To"] and to in message["To"]:
                    found.append(message)
        return found

    def codes(self, to: str) -> list[str]:
        codes = []
        for message in self.messages(to):
            body = message.get_body(preferencelist=("plain",))
            match = _CODE.search(body.get_content() if body is not None else "")
            if match:
                codes.append(match.group(1))
        return codes

    def wait_for_code(self, to: str, *, count: int, timeout: float = 20) -> str:
        """The ``count``-th code sent to ``to`` (1-based), once it has arrived."""
        codes = wait_until(
            lambda: (found := self.codes(to)) and len(found) >= count and found,
            timeout=timeout,
            what=f"code #{count} to {to}",
        )
        return codes[count - 1]
