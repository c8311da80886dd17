"""``make bench``: throughput and latency of the main endpoints against /healthz.

What it does, in order (SPEC §13):

1. Prepares a fresh database: by default a new SQLite file under build/bench/;
   with ``DATABASE_URL=mysql://…/<name>`` it drops and recreates that database
   (only if its name contains "bench", so it can never wipe a real one).
2. Migrates, seeds ``--users`` users with their profiles (``bench.seed users``)
   and times one password check in-process with the production hasher.
3. Starts gunicorn with ``gunicorn.conf.py``, as ``make serve`` does (so with
   its access log and the site's request lines, as in production; through
   ``authsite.testing.servers``): ``--workers`` workers of the configuration's
   class and threads, DEBUG off, Redis cache, on a free port of 127.0.0.1, in
   its own process group. Beside it, with the same configuration, the bare
   baseline (``bench.bare``: Django with no middleware and one view).
4. For each endpoint: builds its request pool (addresses, access tokens,
   fresh refresh tokens, valid one-time codes, second-step tokens with their
   TOTP codes), runs ``wrk`` for a warm-up, then for the measured run, from a
   separate process.
5. Prints a markdown table (req/s, ratio to /healthz, p50, p99, errors, app
   CPU per request and its ratio to /healthz's, the SPEC §13 and issue 21
   targets), writes it with the raw figures to build/bench/, and stops the
   servers — also on an error or Ctrl-C. Runs during which other programs
   used the CPU are flagged (``bench.cpu``).

The load tool is wrk (C, epoll). On a 2-core machine the load generator shares
the CPU with the server, and its cost weighs most on /healthz, the baseline of
every ratio, where a Python client would add its interpreter's work to every
request.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from authsite.testing.servers import GunicornServer, ServerError, free_port
from bench import cpu
from bench.seed import BENCH_PASSWORD, nobody_email, user_email, user_phone

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
LUA = Path(__file__).resolve().parent / "lua" / "pool.lua"
HOST = "127.0.0.1"
X = "\u00d7"  # the multiplication sign of the table

# Limits the bench configuration raises or switches off, printed with the results.
LIMIT_ENV = {
    # The per-IP / per-identifier limits of SPEC §11: every request comes from 127.0.0.1.
    "RATELIMIT_ENABLE": "false",
    # The per-destination code rules of SPEC §4: the code-request and forgot-password
    # pools go round their addresses several times a run.
    "OTP_RESEND_COOLDOWN": "0",
    "OTP_MAX_SENDS_PER_HOUR": "1000000",
    # The sign-in bulkhead's queue (authsite/hashers.py): the login run measures
    # the hash-bound ceiling, not the shedding (make soak does). Between the
    # warm-up and the measured run, the warm-up's last sign-ins, whose client is
    # gone, are still queued, and would be counted against the next ones.
    "PASSWORD_HASH_QUEUE": "16",
    # ... and threads enough for it: the worker refuses to start unless the
    # threads other requests may use (threads - GUNICORN_URGENT_THREADS)
    # outnumber what the bulkhead holds (authsite.serving.bulkhead_room_check).
    # With 4 connections no more than 4 or 5 threads are ever made (the pool
    # starts a thread only when none is idle), so the other rows do not change.
    "GUNICORN_THREADS": "20",
}
# A pool of addresses cycled through by the code-request, forgot-password and login runs.
ADDRESS_POOL_MAX = 20000
# Issue 21's ratios, measured in adjacent rounds (Bench.run_ratio_rounds).
RATIO_KEYS = ("bare", "healthz", "me", "refresh")
# Always run, whatever --only says: the baselines of every ratio.
BASELINES = {"bare", "healthz", "healthz_end", "bare_end"}
# Access tokens (one session each, of random users) for the GET endpoints.
ACCESS_POOL_MAX = 1000
# CPU of other programs (in cores) above which a run is flagged as disturbed.
BUSY_CORES = 0.15
# How many times what the warm-up rate suggests a once-only pool holds (the
# measured run is often faster than the warm-up).
POOL_MARGIN = 3.0


class BenchError(Exception):
    pass


def log(message: str = "") -> None:
    print(message, flush=True)


# --- database --------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    vendor: str  # "sqlite" or "mysql"
    label: str


def prepare_database(url: str | None, users: int) -> Database:
    """A fresh, empty database for this run (see the module docstring)."""
    OUT.mkdir(parents=True, exist_ok=True)
    if not url:
        path = OUT / f"bench-{users}.sqlite3"
        url = f"sqlite:///{path}"
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme in ("sqlite", "sqlite3"):
        # django-environ: sqlite:///relative/file, sqlite:////absolute/file
        raw = unquote(parts.path[1:])
        if not raw or raw == ":memory:":
            raise BenchError("the bench needs an SQLite file, not an in-memory database")
        path = Path(raw) if Path(raw).is_absolute() else ROOT / raw
        if "bench" not in path.name:
            raise BenchError(
                f"refusing to reset {path}: the bench recreates its database, so its "
                "file name must contain 'bench' (leave DATABASE_URL unset for the default)"
            )
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        return Database(url=url, vendor="sqlite", label=f"SQLite ({shown})")
    if scheme in ("mysql", "mysql2", "mariadb"):
        name = unquote(parts.path.lstrip("/"))
        if not name or "bench" not in name:
            raise BenchError(
                f"refusing to reset database {name!r}: the bench drops and recreates its "
                "database, so its name must contain 'bench' (e.g. authsite_bench)"
            )
        import MySQLdb

        try:
            conn = MySQLdb.connect(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 3306,
                user=unquote(parts.username or "root"),
                password=unquote(parts.password or ""),
                charset="utf8mb4",
            )
        except MySQLdb.Error as exc:
            raise BenchError(f"cannot reach MySQL/MariaDB at {parts.hostname}: {exc}") from None
        try:
            cur = conn.cursor()
            cur.execute("SELECT VERSION()")
            version = cur.fetchone()[0]
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        finally:
            conn.close()
        kind = "MariaDB" if "MariaDB" in version else "MySQL"
        return Database(url=url, vendor="mysql", label=f"{kind} {version.split('-')[0]} ({name})")
    raise BenchError(f"the bench runs on SQLite or MySQL/MariaDB, not {scheme!r}")


# --- environment and processes ------------------------------------------------------------


def bench_env(db: Database, *, delivery_mode: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "authsite.settings.base",
            "DEBUG": "false",
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "false",
            "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/2"),
            # Messages are built and serialised as for SMTP, then dropped
            # (bench.mail); BENCH_EMAIL_URL=smtp://… sends them to a server.
            "EMAIL_URL": os.environ.get("BENCH_EMAIL_URL", "dummymail://"),
            "EMAIL_BACKEND": ""
            if os.environ.get("BENCH_EMAIL_URL")
            else "bench.mail.SinkEmailBackend",
            "SMS_BACKEND": "bench.mail.SinkSmsBackend",
            "OTP_DELIVERY_MODE": delivery_mode,
            "OTP_EXPOSE_IN_RESPONSE": "false",
            "DATABASE_URL": db.url,
            "PYTHONDONTWRITEBYTECODE": "1",
            **LIMIT_ENV,
        }
    )
    return env


def run_checked(cmd: list[str], env: dict[str, str], *, timeout: float, what: str) -> str:
    try:
        proc = subprocess.run(  # noqa: S603 - our own argv, no shell
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: no result within {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-25:])
        raise BenchError(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout


def seed(args: list[str], env: dict[str, str], *, timeout: float = 900) -> dict:
    out = run_checked(
        [sys.executable, "-m", "bench.seed", *args], env, timeout=timeout, what=f"seed {args[0]}"
    )
    return json.loads(out.strip().splitlines()[-1])


def code_version() -> str:
    """The commit measured, and whether the application's files differed from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            # The application's files: the bench and the documentation do not count.
            ["git", "status", "--porcelain", "--", ".", ":!bench", ":!docs", ":!*.md"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"{commit} + uncommitted changes" if dirty else commit


def redis_ping(url: str) -> None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or 6379), 3) as s:
            s.sendall(b"PING\r\n")
            reply = s.recv(64)
    except OSError as exc:
        raise BenchError(f"Redis is not answering at {url} ({exc}); start redis-server") from None
    if not reply.startswith((b"+PONG", b"-NOAUTH")):
        raise BenchError(f"unexpected answer from Redis at {url}: {reply!r}")


# --- load ------------------------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non200: int
    socket_errors: dict
    exhausted: bool
    first_bad: str
    cpu: dict = field(default_factory=dict)


def wrk(
    url: str,
    *,
    method: str,
    kind: str,
    pool: Path | None,
    mode: str,
    seconds: int,
    connections: int,
    threads: int,
) -> Result:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        method,
        kind,
        str(pool) if pool else "-",
        mode,
        str(threads),
    ]
    try:
        proc = subprocess.run(  # noqa: S603 - our own argv, no shell
            cmd, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish: {' '.join(cmd)}") from None
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    sock = data["errors"]
    duration = data["duration_us"] / 1e6
    socket_errors = {k: v for k, v in sock.items() if k != "status" and v}
    lat = data["latency_us"]
    return Result(
        requests=data["requests"],
        seconds=duration,
        rps=data["requests"] / duration if duration else 0.0,
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        errors=data["non200"] + sum(socket_errors.values()),
        non200=data["non200"],
        socket_errors=socket_errors,
        exhausted=bool(data["exhausted"]),
        first_bad=data["first_bad"],
    )


@dataclass
class Endpoint:
    key: str
    label: str
    method: str
    path: str
    kind: str  # "none", "body", "bearer"
    mode: str = "cycle"  # "cycle" or "once"
    # (phase, count) -> pool file; phase is "warmup" or "measure"
    pool: Callable[[str, int], Path] | None = None
    # upper bound of a once-only pool (e.g. two code destinations per user)
    pool_cap: int | None = None
    connections: int | None = None  # instead of --connections
    server: str = "site"  # or "bare": the bare baseline (bench.bare)
    results: dict[str, Result] = field(default_factory=dict)
    # The measured runs of a registered/unregistered pair, one per round.
    rounds: list[Result] = field(default_factory=list)
    seconds: int = 0
    note: str = ""


class Bench:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.users = opts.users
        self.rng = random.Random(opts.seed)
        self.pool_dir = OUT / "pools"
        self.hash: dict = {}
        self.seed_info: dict = {}
        self.healthz_rps = 0.0
        self.mfa_batch = 0
        # Issue 21's adjacent rounds (run_ratio_rounds): one {key: Result} per round.
        self.ratio_runs: list[dict[str, Result]] = []
        self.endpoints: list[Endpoint] = []
        self.servers: dict[str, GunicornServer] = {}

    # pools ------------------------------------------------------------------------------

    def _write(self, name: str, lines: list[str]) -> Path:
        path = self.pool_dir / name
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path

    def address_pool(self, name: str, extra: dict | None = None, *, both: bool = True) -> Path:
        """Registered addresses of random users (emails and phones), each once per round."""
        lines = []
        n = min(ADDRESS_POOL_MAX, self.users * (2 if both else 1))
        slots = self.rng.sample(range(self.users * (2 if both else 1)), n)
        for slot in slots:
            i, is_phone = divmod(slot, 2) if both else (slot, 0)
            body = {"phone": user_phone(i)} if is_phone else {"email": user_email(i)}
            body.update(extra or {})
            lines.append(json.dumps(body))
        return self._write(name, lines)

    def nobody_pool(self, name: str, n: int) -> Path:
        order = list(range(n))
        self.rng.shuffle(order)
        return self._write(name, [json.dumps({"email": nobody_email(j)}) for j in order])

    def token_pool(self, kind: str, phase: str, count: int) -> Path:
        path = self.pool_dir / f"{kind}-{phase}.txt"
        info = seed(
            [
                "tokens",
                f"--users={self.users}",
                f"--count={count}",
                f"--kind={kind}",
                f"--out={path}",
                f"--seed={self.rng.randrange(1 << 30)}",
            ],
            self.seed_env,
        )
        log(f"    minted {info['written']} {kind} tokens ({info['seconds']} s)")
        return path

    def code_pool(self, phase: str, count: int) -> Path:
        path = self.pool_dir / f"codes-{phase}.jsonl"
        info = seed(
            [
                "codes",
                f"--users={self.users}",
                f"--count={count}",
                f"--out={path}",
                f"--seed={self.rng.randrange(1 << 30)}",
            ],
            self.seed_env,
        )
        log(f"    issued {info['written']} sign-in codes ({info['seconds']} s)")
        return path

    def mfa_pool(self, phase: str, count: int) -> Path:
        """Second steps (``mfa_token`` + a TOTP code) of ``count`` fresh users with an
        authenticator app (``bench.seed mfa``). An app's code is accepted once per
        30-second step, so every request has a user of its own, never used again in
        the run; each code is that of the step in the middle of the phase, which
        stays acceptable (±1 step) for the whole of it."""
        path = self.pool_dir / f"mfa-{phase}.jsonl"
        seconds = self.opts.warmup if phase == "warmup" else self.opts.duration
        self.mfa_batch += 1
        info = seed(
            [
                "mfa",
                f"--count={count}",
                f"--batch={self.mfa_batch}",
                f"--at-offset={seconds / 2 + 2:.1f}",
                f"--out={path}",
            ],
            self.seed_env,
        )
        log(f"    made {info['written']} users with an authenticator app ({info['seconds']} s)")
        return path

    def passkey_pool(self, phase: str, count: int) -> Path:
        """Passkey logins of ``count`` fresh users, each with a passkey of the
        software authenticator and a login challenge (``bench.seed passkeys``):
        a challenge is single use, so every request has its own."""
        path = self.pool_dir / f"passkeys-{phase}.jsonl"
        self.mfa_batch += 1
        info = seed(
            ["passkeys", f"--count={count}", f"--batch={self.mfa_batch}", f"--out={path}"],
            self.seed_env,
        )
        log(f"    made {info['written']} users with a passkey ({info['seconds']} s)")
        return path

    # setup ------------------------------------------------------------------------------

    def define_endpoints(self) -> None:
        api = "/api/v1"
        access: dict[str, Path] = {}

        def access_pool(phase: str, count: int) -> Path:
            if "path" not in access:
                n = min(self.users, ACCESS_POOL_MAX)
                access["path"] = self.token_pool("access", "all", n)
            return access["path"]

        address_pools: dict[str, Path] = {}

        def cached(name: str, make: Callable[[], Path]) -> Callable[[str, int], Path]:
            def pool(phase: str, count: int) -> Path:
                if name not in address_pools:
                    address_pools[name] = make()
                return address_pools[name]

            return pool

        forgot_n = min(ADDRESS_POOL_MAX, self.users)
        self.endpoints = [
            Endpoint(
                "bare", "GET /healthz of the bare app", "GET", "/healthz", "none", server="bare"
            ),
            Endpoint("healthz", "GET /healthz", "GET", "/healthz", "none"),
            Endpoint(
                "me", "GET /api/v1/auth/me", "GET", f"{api}/auth/me", "bearer", pool=access_pool
            ),
            Endpoint(
                "profile",
                "GET /api/v1/profile",
                "GET",
                f"{api}/profile",
                "bearer",
                pool=access_pool,
            ),
            Endpoint(
                "refresh",
                "POST /api/v1/auth/token/refresh",
                "POST",
                f"{api}/auth/token/refresh",
                "body",
                mode="once",
                pool=lambda phase, n: self.token_pool("refresh", phase, n),
                pool_cap=200_000,
            ),
            Endpoint(
                "otp_verify",
                "POST /api/v1/auth/otp/verify",
                "POST",
                f"{api}/auth/otp/verify",
                "body",
                mode="once",
                pool=self.code_pool,
                pool_cap=2 * self.users,
            ),
            Endpoint(
                "otp_request",
                "POST /api/v1/auth/otp/request",
                "POST",
                f"{api}/auth/otp/request",
                "body",
                pool=cached("otp-request", lambda: self.address_pool("otp-request.jsonl")),
            ),
            Endpoint(
                "login",
                "POST /api/v1/auth/login",
                "POST",
                f"{api}/auth/login",
                "body",
                pool=cached(
                    "login",
                    lambda: self.address_pool(
                        "login.jsonl", {"password": BENCH_PASSWORD}, both=False
                    ),
                ),
            ),
            Endpoint(
                "mfa_verify",
                "POST /api/v1/auth/mfa/verify (totp)",
                "POST",
                f"{api}/auth/mfa/verify",
                "body",
                mode="once",
                pool=self.mfa_pool,
                pool_cap=50_000,
            ),
            Endpoint(
                "passkey_login",
                "POST /api/v1/auth/passkeys/login",
                "POST",
                f"{api}/auth/passkeys/login",
                "body",
                mode="once",
                pool=self.passkey_pool,
                pool_cap=50_000,
            ),
            Endpoint(
                "forgot_registered",
                "POST /api/v1/auth/password/forgot (registered)",
                "POST",
                f"{api}/auth/password/forgot",
                "body",
                pool=cached(
                    "forgot-reg", lambda: self.address_pool("forgot-registered.jsonl", both=False)
                ),
            ),
            Endpoint(
                "forgot_unregistered",
                "POST /api/v1/auth/password/forgot (unregistered)",
                "POST",
                f"{api}/auth/password/forgot",
                "body",
                pool=cached(
                    "forgot-unreg", lambda: self.nobody_pool("forgot-unregistered.jsonl", forgot_n)
                ),
            ),
            # The same pair with one connection: no queueing, so what is left of the
            # difference is what one client sees (SPEC §14: the answer must not
            # tell whether an account exists, by its timing either).
            Endpoint(
                "forgot_registered_c1",
                "POST /api/v1/auth/password/forgot (registered, 1 connection)",
                "POST",
                f"{api}/auth/password/forgot",
                "body",
                pool=cached(
                    "forgot-reg", lambda: self.address_pool("forgot-registered.jsonl", both=False)
                ),
                connections=1,
            ),
            Endpoint(
                "forgot_unregistered_c1",
                "POST /api/v1/auth/password/forgot (unregistered, 1 connection)",
                "POST",
                f"{api}/auth/password/forgot",
                "body",
                pool=cached(
                    "forgot-unreg", lambda: self.nobody_pool("forgot-unregistered.jsonl", forgot_n)
                ),
                connections=1,
            ),
            Endpoint("healthz_end", "GET /healthz (again, last)", "GET", "/healthz", "none"),
            Endpoint(
                "bare_end",
                "GET /healthz of the bare app (again, last)",
                "GET",
                "/healthz",
                "none",
                server="bare",
            ),
        ]
        if self.opts.only:
            wanted = set(self.opts.only.split(",")) | BASELINES
            self.endpoints = [e for e in self.endpoints if e.key in wanted]

    def setup(self) -> None:
        opts = self.opts
        OUT.mkdir(parents=True, exist_ok=True)
        if self.pool_dir.exists():
            shutil.rmtree(self.pool_dir)
        self.pool_dir.mkdir(parents=True)
        if shutil.which("wrk") is None:
            raise BenchError(
                "wrk is not installed: sudo apt-get install wrk (make bench does it as root)"
            )
        self.db = prepare_database(opts.database_url, self.users)
        keys = {
            "SECRET_KEY": "bench-only-" + secrets.token_urlsafe(40),
            "JWT_SIGNING_KEY": "bench-only-" + secrets.token_urlsafe(40),
        }
        self.server_env = {**bench_env(self.db, delivery_mode="thread"), **keys}
        self.seed_env = {**bench_env(self.db, delivery_mode="sync"), **keys}
        redis_ping(self.server_env["CACHE_URL"])

        log(
            "Bench configuration: DEBUG=false, RATELIMIT_ENABLE=false (per-IP/per-identifier "
            "limits off), OTP_RESEND_COOLDOWN=0 and OTP_MAX_SENDS_PER_HOUR=1000000 (code "
            "limits raised), PASSWORD_HASH_QUEUE=16 (sign-in bulkhead queue raised) and "
            "GUNICORN_THREADS=20 to hold it, "
            "OTP_DELIVERY_MODE=thread, email and SMS built and dropped (bench.mail)."
        )
        log(f"Database: {self.db.label}")
        t0 = time.perf_counter()
        run_checked(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            self.seed_env,
            timeout=600,
            what="migrate",
        )
        log(f"  migrated ({time.perf_counter() - t0:.1f} s)")
        self.seed_info = seed(["users", f"--count={self.users}"], self.seed_env, timeout=7200)
        log(
            f"  seeded {self.seed_info['users']} users and {self.seed_info['profiles']} profiles "
            f"({self.seed_info['seconds']} s)"
        )
        self.quiet()
        self.hash = seed(["hashtime", "--rounds=9"], self.seed_env)
        log(
            f"  one password check ({self.hash['hasher'].rsplit('.', 1)[-1]}, "
            f"{self.hash['params']}): {self.hash['cpu_s'] * 1000:.0f} ms CPU, "
            f"{self.hash['wall_s'] * 1000:.0f} ms wall (median of {self.hash['rounds']})"
        )
        self.define_endpoints()

    # run ----------------------------------------------------------------------------------

    def quiet(self) -> None:
        if self.opts.wait_quiet > 0:
            cpu.wait_quiet(self.opts.wait_quiet, BUSY_CORES, log)

    def measure(self, ep: Endpoint, pool: Path | None, seconds: int) -> Result:
        """One wrk run of ``ep`` and the app CPU it cost."""
        opts = self.opts
        server = self.servers[ep.server]
        before = cpu.snapshot()
        result = wrk(
            f"http://{HOST}:{server.port}{ep.path}",
            method=ep.method,
            kind=ep.kind,
            pool=pool,
            mode=ep.mode,
            seconds=seconds,
            connections=ep.connections or opts.connections,
            threads=min(opts.threads, ep.connections or opts.connections),
        )
        result.cpu = cpu.usage(
            before, cpu.snapshot(), server_pid=server.process.pid, requests=result.requests
        )
        return result

    def run_endpoint(self, ep: Endpoint) -> None:
        opts = self.opts
        log(f"  {ep.label}")
        self.quiet()
        upper = self.healthz_rps or 5000.0  # nothing is faster than /healthz

        def pool_for(phase: str, seconds: int, rate: float, margin: float) -> Path | None:
            if ep.pool is None:
                return None
            count = math.ceil(rate * seconds * margin) + 50
            if ep.pool_cap is not None:
                count = min(count, ep.pool_cap)
            return ep.pool(phase, count)

        def load(phase: str, pool: Path | None, seconds: int) -> Result:
            return self.measure(ep, pool, seconds)

        warm = load("warmup", pool_for("warmup", opts.warmup, upper, 1.2), opts.warmup)
        ep.results["warmup"] = warm
        if warm.errors:
            log(f"    warm-up: {warm.errors} errors; first: {warm.first_bad[:300]}")
        seconds = opts.duration
        pool = None
        if ep.mode == "once":
            rate = max(warm.rps, 1.0)
            pool = pool_for("measure", seconds, rate, POOL_MARGIN)
            available = sum(1 for _ in pool.open(encoding="utf-8"))
            # A once-only pool must outlast the run: shorten the run if it cannot.
            fits = int(available / (rate * 1.25))
            if fits < seconds:
                seconds = max(2, fits)
                ep.note = f"run shortened to {seconds} s: {available} one-time items available"
        elif ep.pool is not None:
            pool = ep.pool("measure", 0)
        res = load("measure", pool, seconds)
        ep.results["measure"] = res
        ep.seconds = seconds
        if res.exhausted:
            ep.note = (ep.note + "; " if ep.note else "") + (
                "pool ran out before the end: req/s understated"
            )
        if ep.key in ("healthz", "bare"):
            self.healthz_rps = max(self.healthz_rps, res.rps)
        log(
            f"    {res.rps:8.1f} req/s   p50 {res.p50_ms:7.2f} ms   p99 {res.p99_ms:7.2f} ms   "
            f"errors {res.errors}   ({res.requests} requests in {res.seconds:.1f} s; "
            f"app CPU {res.cpu['app_ms_per_req']:.2f} ms/req, "
            f"other programs {res.cpu['other_cores']:.2f} cores)"
        )
        if res.cpu["other_cores"] > BUSY_CORES:
            ep.note = (ep.note + "; " if ep.note else "") + (
                f"machine busy: other programs used {res.cpu['other_cores']:.2f} cores"
            )
        if res.errors:
            log(f"    first error: {res.first_bad[:400] or res.socket_errors}")

    def run_ratio_rounds(self) -> None:
        """Issue 21's three ratios, each from runs next to each other.

        This machine drifts within a run (README, "Benchmark": the bare app,
        which no endpoint touches, fell from 3,276 to 1,230 req/s in one run),
        so a ratio between the first /healthz and an endpoint measured minutes
        later says as much about the drift as about the endpoint. Here each
        round runs the bare app, /healthz, ``GET /auth/me`` and refresh
        back to back (``--ratio-seconds`` each, warm servers; the order
        reversed every other round), and takes each ratio within the round;
        the verdicts use the median round."""
        keys = RATIO_KEYS
        eps = {ep.key: ep for ep in self.endpoints if ep.key in keys}
        if self.opts.ratio_rounds == 0 or set(eps) != set(keys):
            return
        seconds = self.opts.ratio_seconds
        log(
            f"  issue 21's ratios: {self.opts.ratio_rounds} rounds of adjacent "
            f"{seconds} s runs ({', '.join(keys)})"
        )
        refresh = eps["refresh"].results.get("measure")
        refresh_rate = max(refresh.rps if refresh else 0.0, 100.0)
        for number in range(self.opts.ratio_rounds):
            self.quiet()
            tokens = self.token_pool(
                "refresh",
                f"ratio-{number}",
                math.ceil(refresh_rate * seconds * POOL_MARGIN) + 50,
            )
            pools = {"me": eps["me"].pool("measure", 0), "refresh": tokens}
            order = keys if number % 2 == 0 else tuple(reversed(keys))
            runs = {key: self.measure(eps[key], pools.get(key), seconds) for key in order}
            self.ratio_runs.append(runs)
            ratios = self.round_ratios(runs)
            errors = sum(res.errors for res in runs.values())
            log(
                f"    round {number + 1}: /healthz {X} bare {ratios['healthz_bare']:.2f}, "
                f"/auth/me CPU {X} /healthz {ratios['me_cpu']:.2f}, refresh CPU {X} /healthz "
                f"{ratios['refresh_cpu']:.2f}; errors {errors}; busiest worker's share "
                + ", ".join(
                    f"{k} {runs[k].cpu.get('busiest_worker_share', 0.0):.2f}" for k in RATIO_KEYS
                )
                + ("; pool ran out" if runs["refresh"].exhausted else "")
            )

    @staticmethod
    def round_ratios(runs: dict[str, Result]) -> dict[str, float]:
        def ms(key: str) -> float:
            return runs[key].cpu["app_ms_per_req"]

        healthz = ms("healthz") or float("nan")
        return {
            "healthz_bare": runs["healthz"].rps / runs["bare"].rps if runs["bare"].rps else 0.0,
            "me_cpu": ms("me") / healthz,
            "refresh_cpu": ms("refresh") / healthz,
        }

    def lopsided(self, res: Result) -> bool:
        """The run sat on one worker: its busiest worker did more than 75 % of
        the workers' CPU (with 2 workers; 1.5 ÷ workers in general). wrk's
        few keep-alive connections are each accepted by one worker for the
        whole run, so such a run is capped at one core and its threads fight
        over one GIL: it measures where the connections landed, not the code
        (bench.cpu)."""
        limit = min(1.0, 1.5 / max(self.opts.workers, 1))
        return res.cpu.get("busiest_worker_share", 0.0) > limit

    def verdict_rounds(self) -> list[dict[str, Result]]:
        """The rounds none of whose runs sat on one worker; all rounds if none."""
        even = [
            runs for runs in self.ratio_runs if not any(self.lopsided(res) for res in runs.values())
        ]
        return even or self.ratio_runs

    def adjacent(self, name: str, rounds: list[dict[str, Result]] | None = None) -> float | None:
        """The median round's ratio ``name`` (``round_ratios``) over the
        rounds none of whose runs sat on one worker (``verdict_rounds``), or
        over ``rounds``; None if no rounds ran."""
        rounds = self.verdict_rounds() if rounds is None else rounds
        if not rounds:
            return None
        return statistics.median(self.round_ratios(runs)[name] for runs in rounds)

    def partner(self, ep: Endpoint) -> Endpoint | None:
        """The unregistered side of a forgot-password pair, when both are run."""
        if not ep.key.startswith("forgot_registered"):
            return None
        key = ep.key.replace("registered", "unregistered")
        return next((e for e in self.endpoints if e.key == key), None)

    def run_pair(self, registered: Endpoint, unregistered: Endpoint) -> None:
        """Both sides of a pair, ``--pair-rounds`` times, in alternating order
        (R U, U R, R U, …), so that a drift of the machine during the pair
        weighs on both sides alike. Each side's row is its median round."""
        for number in range(self.opts.pair_rounds):
            order = (registered, unregistered) if number % 2 == 0 else (unregistered, registered)
            for ep in order:
                self.run_endpoint(ep)
                ep.rounds.append(ep.results["measure"])
        for ep in (registered, unregistered):
            ranked = sorted(ep.rounds, key=lambda res: res.p50_ms)
            ep.results["measure"] = ranked[(len(ranked) - 1) // 2]

    def server_args(self) -> list[str]:
        """gunicorn flags of both servers: the configuration file's (``make serve``'s)
        worker class and threads unless --server-threads says otherwise."""
        args = ["--graceful-timeout=5", "--log-level=warning"]
        if self.opts.server_threads:
            args.append(f"--threads={self.opts.server_threads}")
        return args

    def run(self) -> None:
        opts = self.opts
        self.setup()
        (OUT / "server.log").unlink(missing_ok=True)
        (OUT / "bare.log").unlink(missing_ok=True)
        self.servers = {
            "site": GunicornServer(
                env=self.server_env,
                log=OUT / "server.log",
                workers=opts.workers,
                port=free_port(),
                args=self.server_args(),
            ),
            # Same configuration, same environment, another application.
            "bare": GunicornServer(
                env={**self.server_env, "DJANGO_SETTINGS_MODULE": "bench.bare"},
                log=OUT / "bare.log",
                workers=opts.workers,
                port=free_port(),
                args=self.server_args(),
                app="bench.bare:application",
            ),
        }
        try:
            for server in self.servers.values():
                try:
                    server.start()
                except ServerError as exc:
                    raise BenchError(f"{exc}; see {server.log}") from None
            self.server_config = self.gunicorn_config()
            log(
                f"gunicorn: {self.server_config} on {HOST}:{self.servers['site'].port} "
                f"(bare app on :{self.servers['bare'].port}); wrk: {opts.threads} "
                f"thread(s), {opts.connections} connections; {opts.warmup} s warm-up + "
                f"{opts.duration} s per endpoint"
            )
            paired = set()
            for ep in self.endpoints:
                if ep.key in paired:
                    continue
                if ep.key == "healthz_end":
                    self.run_ratio_rounds()
                partner = self.partner(ep)
                if partner is None:
                    self.run_endpoint(ep)
                else:
                    self.run_pair(ep, partner)
                    paired.add(partner.key)
        finally:
            for server in self.servers.values():
                server.stop()
            log("gunicorn stopped.")
        self.counts = seed(["counts"], self.seed_env)
        self.report()

    def gunicorn_config(self) -> str:
        """What the site's gunicorn runs: workers, their class and threads (from
        its process tree: the master and one process per worker)."""
        out = run_checked(
            [
                sys.executable,
                "-c",
                "import runpy, sys; sys.argv = ['gunicorn']; "
                "c = runpy.run_path('gunicorn.conf.py'); "
                "print(c.get('worker_class'), c.get('threads', 1))",
            ],
            # (a directory of its own, so that reading the file makes none)
            {**self.server_env, "PROMETHEUS_MULTIPROC_DIR": str(self.pool_dir)},
            timeout=60,
            what="reading gunicorn.conf.py",
        ).split()
        worker_class, threads = out[-2], int(self.opts.server_threads or out[-1])
        if threads > 1 and worker_class == "sync":
            worker_class = "gthread"
        self.worker_class, self.worker_threads = worker_class, threads
        per = f", {threads} threads each" if worker_class != "sync" else ""
        return f"{self.opts.workers} {worker_class} workers{per}"

    # report --------------------------------------------------------------------------------

    def hash_ceiling(self) -> float:
        return self.opts.workers / self.hash["cpu_s"]

    def _mean(self, keys: tuple[str, ...], value: Callable[[Result], float]) -> float:
        runs = [
            value(ep.results["measure"])
            for ep in self.endpoints
            if ep.key in keys and "measure" in ep.results
        ]
        return sum(runs) / len(runs) if runs else 0.0

    def baseline(self) -> float:
        """req/s of /healthz: the mean of the runs at the start and at the end."""
        return self._mean(("healthz", "healthz_end"), lambda r: r.rps)

    def bare_baseline(self) -> float:
        """req/s of the bare app: the mean of its runs at the start and at the end."""
        return self._mean(("bare", "bare_end"), lambda r: r.rps)

    def cpu_baseline(self) -> float:
        """App CPU ms per /healthz request: the mean of both runs."""
        return self._mean(("healthz", "healthz_end"), lambda r: r.cpu["app_ms_per_req"])

    def ratio(self, res: Result) -> float:
        base = self.baseline()
        return res.rps / base if base else 0.0

    def cpu_ratio(self, res: Result) -> float:
        base = self.cpu_baseline()
        return res.cpu["app_ms_per_req"] / base if base else 0.0

    def target(self, ep: Endpoint) -> str:
        res = ep.results["measure"]
        ratio = self.ratio(res)

        def verdict(ok: bool) -> str:
            return "met" if ok else "**not met**"

        def spread(keys: tuple[str, str]) -> str:
            runs = [e.results["measure"].rps for e in self.endpoints if e.key in keys]
            if len(runs) != 2:
                return ""
            return f" (± {abs(runs[0] - runs[1]) / (runs[0] + runs[1]) * 100:.0f} %)"

        cpu_ratio = self.cpu_ratio(res)
        if ep.key == "bare":
            return (
                f"bare Django, no middleware: mean of both runs "
                f"{self.bare_baseline():.0f} req/s{spread(('bare', 'bare_end'))}"
            )
        rounds = (
            f"median of the {len(self.verdict_rounds())} of {len(self.ratio_runs)} adjacent "
            "rounds in which no run sat on one worker, below"
        )
        if ep.key == "healthz":
            bare = self.bare_baseline()
            share = self.baseline() / bare if bare else 0.0
            text = (
                f"baseline: mean of both /healthz runs, {self.baseline():.0f} req/s"
                f"{spread(('healthz', 'healthz_end'))}; ÷ bare, means of both runs: {share:.2f}"
            )
            adjacent = self.adjacent("healthz_bare")
            if adjacent is None:
                return f"{text} (≥ 0.9: {verdict(share >= 0.9)})"
            return (
                f"{text}; **÷ bare = {adjacent:.2f}** ({rounds}; ≥ 0.9: {verdict(adjacent >= 0.9)})"
            )
        if ep.key in ("me", "refresh"):
            floor, ceiling = (0.40, 2.0) if ep.key == "me" else (0.17, 3.5)
            text = f"≥ {floor:.2f} {X} /healthz: {verdict(ratio >= floor)}; app CPU "
            adjacent = self.adjacent(f"{ep.key}_cpu")
            if adjacent is None:
                return text + f"≤ {ceiling} {X} /healthz's: {verdict(cpu_ratio <= ceiling)}"
            return text + (
                f"**{adjacent:.2f}** {X} /healthz's ({rounds}; ≤ {ceiling}: "
                f"{verdict(adjacent <= ceiling)})"
            )
        if ep.key == "login":
            ceiling = self.hash_ceiling()
            share = res.rps / ceiling
            return f"{share:.2f} {X} hash-bound ceiling {ceiling:.1f}/s (≥ 0.9: {verdict(share >= 0.9)})"
        if ep.key.startswith("forgot_registered"):
            other_key = ep.key.replace("registered", "unregistered")
            other = next((e for e in self.endpoints if e.key == other_key), None)
            if other and "measure" in other.results:
                a, b = res.p50_ms, other.results["measure"].p50_ms
                diff = (a - b) / b * 100 if b else 0.0
                text = (
                    f"p50 {a:.2f} vs {b:.2f} ms unregistered: {diff:+.1f} % "
                    f"(within 5 %: {verdict(abs(diff) <= 5)})"
                )
                if len(ep.rounds) > 1:
                    rounds = ", ".join(
                        f"{mine.p50_ms:.2f}/{theirs.p50_ms:.2f}"
                        for mine, theirs in zip(ep.rounds, other.rounds, strict=False)
                    )
                    text += f"; medians of {len(ep.rounds)} rounds, each round {rounds}"
                return text
        return ""

    def table(self) -> str:
        head = (
            f"| Endpoint | req/s | {X} /healthz | p50 ms | p99 ms | errors | requests | "
            f"app CPU ms/req | CPU {X} /healthz | SPEC §13 / issue 21 target, notes |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
        )
        rows = []
        for ep in self.endpoints:
            res = ep.results.get("measure")
            if res is None:
                continue
            ratio = self.ratio(res)
            ratio_s = f"{ratio:.3f}" if ratio < 0.1 else f"{ratio:.2f}"
            target = self.target(ep)
            if ep.note:
                target = f"{target} ({ep.note})" if target else ep.note
            rps = f"{res.rps:.1f}" if res.rps < 100 else f"{res.rps:.0f}"
            rows.append(
                f"| `{ep.label}` | {rps} | {ratio_s} | {res.p50_ms:.2f} | {res.p99_ms:.2f} | "
                f"{res.errors} | {res.requests} | {res.cpu['app_ms_per_req']:.2f} | "
                f"{self.cpu_ratio(res):.2f} | {target} |"
            )
        return head + "\n".join(rows) + "\n"

    def ratio_table(self) -> str:
        """Issue 21's ratios round by round (run_ratio_rounds)."""
        if not self.ratio_runs:
            return ""
        lines = [
            f"\n### Issue 21's ratios from adjacent runs ({len(self.ratio_runs)} rounds of "
            f"{self.opts.ratio_seconds} s each: bare, /healthz, /auth/me, refresh back to back, "
            "the order reversed every other round)\n",
            f"| round | bare req/s | /healthz req/s | /healthz {X} bare | /healthz CPU ms | "
            f"/auth/me CPU ms | {X} /healthz | refresh CPU ms | {X} /healthz | errors | "
            "busiest worker's share: bare, /healthz, /auth/me, refresh |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for number, runs in enumerate(self.ratio_runs, start=1):
            r = self.round_ratios(runs)

            def ms(key: str, runs: dict[str, Result] = runs) -> str:
                return f"{runs[key].cpu['app_ms_per_req']:.2f}"

            lopsided = [key for key in RATIO_KEYS if self.lopsided(runs[key])]
            mark = f" (on one worker: {', '.join(lopsided)})" if lopsided else ""
            lines.append(
                f"| {number}{mark} | {runs['bare'].rps:.0f} | {runs['healthz'].rps:.0f} | "
                f"{r['healthz_bare']:.2f} | {ms('healthz')} | {ms('me')} | {r['me_cpu']:.2f} | "
                f"{ms('refresh')} | {r['refresh_cpu']:.2f} | "
                f"{sum(res.errors for res in runs.values())} | "
                + ", ".join(
                    f"{runs[key].cpu.get('busiest_worker_share', 0.0):.2f}" for key in RATIO_KEYS
                )
                + " |"
            )
        even = len(self.verdict_rounds())
        lines.append(
            f"| **median of the {even} rounds on both workers** | | | "
            f"**{self.adjacent('healthz_bare'):.2f}** (≥ 0.9) | | | "
            f"**{self.adjacent('me_cpu'):.2f}** (≤ 2.0) | | "
            f"**{self.adjacent('refresh_cpu'):.2f}** (≤ 3.5) | | |"
        )
        every = self.ratio_runs
        lines.append(
            f"| median of all {len(every)} rounds | | | "
            f"{self.adjacent('healthz_bare', every):.2f} | | | "
            f"{self.adjacent('me_cpu', every):.2f} | | "
            f"{self.adjacent('refresh_cpu', every):.2f} | | |"
        )
        return "\n".join(lines) + "\n"

    def size_comparison(self) -> str:
        """This run next to the last run on the same database with another number of
        users (SPEC §13: with 1M users every endpoint within 1.1 x its 1k figure)."""
        others = []
        for path in OUT.glob(f"bench-{self.db.vendor}-*.json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if data.get("users") not in (None, self.users) and not data.get("partial"):
                others.append(data)
        if not others:
            return ""
        other = min(others, key=lambda d: (d["users"] != 1000, -d["users"]))
        mine = {
            ep.key: (ep.label, vars(ep.results["measure"]))
            for ep in self.endpoints
            if "measure" in ep.results
        }
        other_has_fewer = other["users"] < self.users
        lines = [
            f"\n### Table size: {self.users} users here vs {other['users']} users "
            f"(run of {other.get('stamp', '?')})\n",
            f"Slowdown = req/s with fewer users {chr(247)} req/s with more; "
            "SPEC §13 asks for at most 1.1. The CPU column compares app CPU per request "
            "the same way, which the rest of the machine's load does not move.\n",
            "| Endpoint | req/s, fewer | req/s, more | slowdown | app CPU ms/req, fewer | "
            "more | CPU ratio |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for key, (label, res) in mine.items():
            theirs = other["endpoints"].get(key, {}).get("measure")
            if not theirs or key == "healthz_end":
                continue
            few, many = (theirs, res) if other_has_fewer else (res, theirs)
            slowdown = few["rps"] / many["rps"] if many["rps"] else 0.0
            cpu_few = few.get("cpu", {}).get("app_ms_per_req", 0.0)
            cpu_many = many.get("cpu", {}).get("app_ms_per_req", 0.0)
            cpu_ratio = cpu_many / cpu_few if cpu_few else 0.0
            lines.append(
                f"| `{label}` | {few['rps']:.1f} | {many['rps']:.1f} | {slowdown:.2f} | "
                f"{cpu_few:.2f} | {cpu_many:.2f} | {cpu_ratio:.2f} |"
            )
        return "\n".join(lines) + "\n"

    def report(self) -> None:
        opts = self.opts
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        h = self.hash
        config = [
            f"- Run: {stamp}; {platform.system()} {platform.release()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}; code {code_version()}.",
            f"- Database: {self.db.label}; {self.users} users with profiles "
            f"(seeded in {self.seed_info.get('seconds')} s).",
            f"- Server: gunicorn ({self.server_config}), DEBUG=false, cache "
            f"{self.server_env['CACHE_URL']}, email and SMS built as for sending, then dropped "
            f"(bench.mail; email {self.server_env['EMAIL_BACKEND'] or self.server_env['EMAIL_URL']}), "
            "OTP_DELIVERY_MODE=thread (delivery after commit on a worker-pool thread, "
            "the production default). The bare app (bench.bare: Django, no middleware, one "
            "view) runs under the same gunicorn configuration, first and last.",
            f"- Load: wrk, {opts.threads} thread, {opts.connections} connections (1 for the rows "
            f"that say so), {opts.warmup} s warm-up then {opts.duration} s per endpoint, from a "
            "separate process. Ratios are to the mean of the two /healthz runs (req/s, and "
            f"app CPU per request in 'CPU {X} /healthz'). Each "
            f"forgot-password pair runs {opts.pair_rounds} rounds in alternating order; its rows "
            "are each side's median round.",
            "- **Rate limits: the bench configuration switches the per-IP/per-identifier limits "
            "off (RATELIMIT_ENABLE=false) and raises the per-destination code limits "
            "(OTP_RESEND_COOLDOWN=0, OTP_MAX_SENDS_PER_HOUR=1000000)** — every request "
            "comes from 127.0.0.1 and the address pools are reused within a run. The "
            "sign-in bulkhead's queue is raised (PASSWORD_HASH_QUEUE=16, with 20 threads a "
            "worker to hold it): the login row "
            "measures the hash-bound ceiling; make soak measures the shedding.",
            f"- Password check in-process ({h['hasher'].rsplit('.', 1)[-1]} {h['params']}): "
            f"{h['cpu_s'] * 1000:.0f} ms CPU, {h['wall_s'] * 1000:.0f} ms wall; "
            f"hash-bound login ceiling = {opts.workers} workers ÷ {h['cpu_s']:.3f} CPU s "
            f"= {self.hash_ceiling():.1f} req/s.",
            "- Errors: any status other than 200, plus socket errors and timeouts. "
            "p50/p99: wrk's latency from sending a request to the end of its response.",
            "- app CPU ms/req: user + system CPU of the gunicorn processes per request "
            "(from /proc), which does not move with the rest of the machine's load; a run "
            f"during which other programs used more than {BUSY_CORES} cores is flagged "
            "'machine busy'.",
        ]
        text = (
            f"## make bench — {self.db.label}, {self.users} users\n\n"
            + self.table()
            + "\n"
            + "\n".join(config)
            + "\n"
        )
        text += self.ratio_table()
        problems = [
            f"- `{ep.label}`: {ep.results['measure'].errors} errors; first: "
            f"{ep.results['measure'].first_bad[:300]}"
            for ep in self.endpoints
            if "measure" in ep.results and ep.results["measure"].errors
        ]
        if problems:
            text += "\nErrors:\n" + "\n".join(problems) + "\n"
        server_log = (OUT / "server.log").read_text(errors="replace") + (
            OUT / "bare.log"
        ).read_text(errors="replace")
        tracebacks = server_log.count("Traceback (most recent call last)")
        if tracebacks:
            text += f"\nThe server log (build/bench/server.log) has {tracebacks} tracebacks.\n"
        # A run of some endpoints only (--only) does not replace a full run's files.
        name = f"bench-{self.db.vendor}-{self.users}" + ("-partial" if opts.only else "")
        text += self.size_comparison()
        (OUT / f"{name}.md").write_text(text, encoding="utf-8")
        raw = {
            "stamp": stamp,
            "partial": bool(opts.only),
            "database": self.db.label,
            "users": self.users,
            "options": vars(opts),
            "hash": self.hash,
            "seed": self.seed_info,
            "rows": self.counts,
            "endpoints": {
                ep.key: {
                    "label": ep.label,
                    "seconds": ep.seconds,
                    "note": ep.note,
                    **{phase: vars(r) for phase, r in ep.results.items()},
                    "rounds": [vars(r) for r in ep.rounds],
                }
                for ep in self.endpoints
            },
            "ratio_rounds": [
                {key: vars(res) for key, res in runs.items()} for runs in self.ratio_runs
            ],
        }
        (OUT / f"{name}.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")
        log("")
        log(text)
        log(f"Written to build/bench/{name}.md (and .json); server log: build/bench/server.log")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--users", type=int, default=int(env.get("USERS", 1000)))
    p.add_argument(
        "--database-url",
        default=env.get("DATABASE_URL") or None,
        help="default: a fresh SQLite file under build/bench/",
    )
    p.add_argument("--workers", type=int, default=int(env.get("BENCH_WORKERS", 2)))
    p.add_argument(
        "--server-threads",
        type=int,
        default=int(env.get("BENCH_SERVER_THREADS", 0)),
        help="threads per gunicorn worker (default: gunicorn.conf.py's, as make serve)",
    )
    p.add_argument("--connections", type=int, default=int(env.get("BENCH_CONNECTIONS", 4)))
    p.add_argument("--threads", type=int, default=int(env.get("BENCH_THREADS", 1)))
    p.add_argument("--duration", type=int, default=int(env.get("BENCH_DURATION", 10)))
    p.add_argument("--warmup", type=int, default=int(env.get("BENCH_WARMUP", 3)))
    p.add_argument("--seed", type=int, default=int(env.get("BENCH_SEED", 1)))
    p.add_argument(
        "--pair-rounds",
        type=int,
        default=int(env.get("BENCH_PAIR_ROUNDS", 3)),
        help="rounds of each forgot-password registered/unregistered pair (median shown)",
    )
    p.add_argument(
        "--ratio-rounds",
        type=int,
        default=int(env.get("BENCH_RATIO_ROUNDS", 7)),
        help="rounds of issue 21's adjacent runs (bare, /healthz, /auth/me, refresh); 0: none",
    )
    p.add_argument(
        "--ratio-seconds",
        type=int,
        default=int(env.get("BENCH_RATIO_SECONDS", 5)),
        help="seconds of each run of those rounds",
    )
    p.add_argument(
        "--only", default=env.get("BENCH_ONLY", ""), help="comma-separated endpoint keys"
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=float(env.get("BENCH_WAIT_QUIET", 0)),
        help="before each endpoint, wait up to this many seconds for an idle machine",
    )
    opts = p.parse_args(argv)
    if opts.users < 1 or opts.users > 100_000_000:
        p.error("--users must be between 1 and 100000000")
    if not 1 <= opts.duration <= 300 or not 1 <= opts.warmup <= 60:
        p.error("--duration must be 1-300 s and --warmup 1-60 s")
    if not 1 <= opts.pair_rounds <= 15:
        p.error("--pair-rounds must be 1-15")
    if not 0 <= opts.ratio_rounds <= 25 or not 1 <= opts.ratio_seconds <= 60:
        p.error("--ratio-rounds must be 0-25 and --ratio-seconds 1-60")
    if not 0 <= opts.wait_quiet <= 3600:
        p.error("--wait-quiet must be 0-3600 s")
    if opts.connections < 1 or opts.threads < 1 or opts.threads > opts.connections:
        p.error("need 1 <= --threads <= --connections")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    try:
        Bench(opts).run()
    except BenchError as exc:
        log(f"make bench: {exc}")
        return 1
    except KeyboardInterrupt:
        log("make bench: interrupted; the server has been stopped.")
        return 130
    log(f"Total time: {time.monotonic() - started:.0f} s")
    return 0
