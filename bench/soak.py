"""``make soak``: sustained load, then count server errors and lost writes (issue 9).

What it does, in order:

1. Creates a fresh MariaDB database (default ``authsite_hard_soak`` on
   127.0.0.1:3306; ``SOAK_DATABASE_URL`` to change it, whose name must
   contain "soak" since it is dropped and recreated) and flushes its Redis
   database (``SOAK_CACHE_URL``, default db 13).
2. Migrates it and seeds ``--users`` verified users, their profiles, and a
   token session each, in this process with the server's settings (one
   production Argon2 hash shared by all, tokens signed with the server's key).
3. Starts gunicorn with ``gunicorn.conf.py`` as ``make serve`` does
   (``authsite.testing.servers``; ``--workers`` workers of the configuration's
   class and threads — gthread, with the password-hashing bulkhead of
   ``authsite/hashers.py`` — production settings, DEBUG off) on a free port
   of 127.0.0.1, in its own process group.
4. Keeps ``--connections`` clients busy for ``--seconds`` (``SOAK_SECONDS``):
   each owns a few users and sends, one request at a time, a mix of sign-in,
   token refresh, ``GET /auth/me`` and ``PATCH /profile``. Every PATCH writes
   a value never written before (``<user id>:<sequence>``); the client keeps
   the last value the server acknowledged (200 with that value echoed).
   Since a user's requests never overlap, "last" is well defined.
5. Stops the server, then compares each user's profile in the database with
   the last acknowledged value: a different value that is not one of the
   unacknowledged writes sent after it is a lost write.
6. Prints the counts (and writes them to build/soak/result.json), drops the
   database, and exits non-zero unless there were no 5xx, no lost writes, no
   unexpected answers and no broken connections. A sign-in refused by the
   bounded queue of the hashing bulkhead — 503 ``service_unavailable`` with
   ``Retry-After``, the answer the server gives instead of queueing without
   bound — is the one 5xx counted apart, with its count; any other 5xx, and
   such an answer to anything but a sign-in, is a failure. The p99 of
   ``/auth/me`` and refresh is printed against issue 21's 250 ms.

The per-IP rate limits are off (every client is 127.0.0.1, as in ``make
bench``); the code rules and the sign-in lockout stay on (no flow here trips
them). Load goes to 127.0.0.1 only and every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from authsite.testing.servers import GunicornServer, ServerError
from bench import cpu

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "soak"
HOST = "127.0.0.1"
PASSWORD = "Soak-Passw0rd!x"
DEFAULT_DATABASE_URL = "mysql://root@127.0.0.1:3306/authsite_hard_soak"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/13"
# The mix of operations, by weight.
MIX = {"login": 10, "refresh": 20, "me": 35, "profile": 35}
REQUEST_TIMEOUT = 60.0  # seconds for one request, queueing included
# Issue 21: the token calls' p99 under the sign-in storm of the default mix.
P99_TARGET_MS = {"me": 250, "refresh": 250}


class SoakError(Exception):
    pass


def log(message: str = "") -> None:
    print(message, flush=True)


# --- environment, database, server -----------------------------------------------------------


def soak_env(database_url: str, cache_url: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "authsite.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": "soak-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-soak",
        "JWT_SIGNING_KEY": "soak-jwt-signing-key-0123456789abcdefghijklmnopqrstuv",
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "EMAIL_URL": "memorymail://",
        "SMS_BACKEND": "otp.delivery.sms.OutboxSmsBackend",
        "OTP_DELIVERY_MODE": "thread",
        "RATELIMIT_ENABLE": "false",
        "LOG_LEVEL": "WARNING",
    }


def mysql_connect(url: str):
    import MySQLdb

    parts = urlsplit(url)
    return MySQLdb.connect(
        host=parts.hostname or HOST,
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        charset="utf8mb4",
        connect_timeout=5,
    )


def database_name(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb"):
        raise SoakError(f"the soak runs on MariaDB/MySQL, not {parts.scheme!r}")
    name = unquote(parts.path.lstrip("/"))
    if "soak" not in name or not name.replace("_", "").isalnum():
        raise SoakError(
            f"refusing to reset database {name!r}: the soak drops and recreates it, "
            "so its name must contain 'soak' (e.g. authsite_hard_soak)"
        )
    return name


def reset_database(url: str, *, drop_only: bool = False) -> None:
    name = database_name(url)
    connection = mysql_connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        if not drop_only:
            cursor.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        connection.close()


def redis_flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        raise SoakError(f"Redis is not answering at {url} ({exc}); start redis-server") from None
    finally:
        client.close()


# --- seeding (Django, in this process, with the server's settings) ---------------------------


@dataclass
class SoakUser:
    id: int
    email: str
    access: str
    refresh: str
    needs_login: bool = False
    sequence: int = 0
    last_acked: str = ""  # the seeded profile's bio is empty
    unacked: list[str] = field(default_factory=list)  # sent after last_acked, answer unknown


def seed(count: int) -> list[SoakUser]:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User, new_user_id
    from accounts.services.tokens import session_open
    from authsite.client import ClientInfo
    from profiles.models import Profile

    call_command("migrate", interactive=False, verbosity=0)
    encoded = make_password(PASSWORD)  # the production hasher: sign-ins check a real hash
    now = timezone.now()
    users = [
        User(
            id=new_user_id(),
            email=f"soak{i}@soak.example",
            password=encoded,
            email_verified_at=now,
            date_joined=now,
        )
        for i in range(count)
    ]
    User.objects.bulk_create(users, batch_size=1000)
    Profile.objects.bulk_create([Profile(user=user) for user in users], batch_size=1000)
    client = ClientInfo(ip=HOST, user_agent="soak")
    seeded = []
    for user in users:
        pair = session_open(user=user, client=client)
        seeded.append(
            SoakUser(id=user.id, email=user.email, access=pair.access, refresh=pair.refresh)
        )
    return seeded


def stored_bios(ids: list[int]) -> dict[int, str]:
    from django.db import connection

    from profiles.models import Profile

    connection.close()  # a fresh connection: the server's writes are all committed
    return dict(Profile.objects.filter(user_id__in=ids).values_list("user_id", "bio"))


# --- HTTP (one connection per request, "Connection: close") --------------------------------


async def request(
    port: int,
    method: str,
    path: str,
    body: dict | None = None,
    token: str | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> tuple[int, dict | None, dict[str, str]]:
    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            payload = json.dumps(body).encode() if body is not None else b""
            head = [
                f"{method} {path} HTTP/1.1",
                f"Host: {HOST}",
                "Connection: close",
                "Accept: application/json",
            ]
            if token:
                head.append(f"Authorization: Bearer {token}")
            if body is not None:
                head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    raw = await asyncio.wait_for(exchange(), timeout)
    head, _, content = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/1."):
        raise ConnectionError(f"not an HTTP response: {raw[:80]!r}")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        content = _dechunk(content)
    try:
        parsed = json.loads(content) if content else None
    except ValueError:
        parsed = None
    return status, parsed, headers


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


# --- the load -------------------------------------------------------------------------------------


@dataclass
class Stats:
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    broken: Counter = field(default_factory=Counter)  # transport errors by kind
    unexpected: list[str] = field(default_factory=list)  # non-5xx answers that should not happen
    shed: int = 0  # sign-ins refused by the bulkhead's bounded queue (503 + Retry-After)

    def record(self, op: str, status: int, elapsed: float) -> None:
        self.statuses[op][status] += 1
        self.latencies[op].append(elapsed)

    def note(self, op: str, status: int, body) -> None:
        if len(self.unexpected) < 20:
            self.unexpected.append(f"{op} {status} {json.dumps(body)[:200]}")
        else:
            self.unexpected.append("")


async def run_op(port: int, op: str, user: SoakUser, stats: Stats) -> None:
    if user.needs_login:
        op = "login"
    started = time.perf_counter()
    value = None
    try:
        if op == "login":
            status, body, headers = await request(
                port, "POST", "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}
            )
        elif op == "refresh":
            status, body, headers = await request(
                port, "POST", "/api/v1/auth/token/refresh", {"refresh": user.refresh}
            )
        elif op == "me":
            status, body, headers = await request(port, "GET", "/api/v1/auth/me", token=user.access)
        else:
            user.sequence += 1
            value = f"{user.id}:{user.sequence}"
            status, body, headers = await request(
                port, "PATCH", "/api/v1/profile", {"bio": value}, token=user.access
            )
    except (TimeoutError, OSError, ConnectionError, ValueError) as exc:
        stats.broken[f"{op}: {type(exc).__name__}"] += 1
        if op in ("login", "refresh"):
            user.needs_login = True  # the tokens may have moved on without us
        if value is not None:
            user.unacked.append(value)
        return
    stats.record(op, status, time.perf_counter() - started)
    data = body.get("data") if isinstance(body, dict) else None
    if op == "login" and shed_answer(status, body, headers):
        # The sign-in queue was full: nothing happened, the tokens still hold.
        stats.shed += 1
        return
    if status >= 500:
        if op in ("login", "refresh"):
            user.needs_login = True
        if value is not None:
            user.unacked.append(value)
        stats.note(op, status, body)
        return
    ok = status == 200 and isinstance(data, dict)
    if ok and op in ("login", "refresh"):
        user.access, user.refresh, user.needs_login = data["access"], data["refresh"], False
    elif ok and op == "me":
        ok = data.get("id") == user.id
    elif ok and op == "profile":
        ok = data.get("bio") == value
        if ok:
            user.last_acked, user.unacked = value, []
        else:
            user.unacked.append(value)
    if not ok:
        stats.note(op, status, body)
        if op in ("login", "refresh"):
            user.needs_login = True


def shed_answer(status: int, body, headers: dict[str, str]) -> bool:
    """The bulkhead's answer to a sign-in when its queue is full (authsite/hashers.py)."""
    return (
        status == 503
        and isinstance(body, dict)
        and body.get("code") == "service_unavailable"
        and headers.get("retry-after", "").isdigit()
    )


async def client(port: int, users: list[SoakUser], deadline: float, seed_: int, stats: Stats):
    rnd = random.Random(seed_)
    ops, weights = list(MIX), list(MIX.values())
    turn = 0
    while time.monotonic() < deadline:
        user = users[turn % len(users)]
        turn += 1
        await run_op(port, rnd.choices(ops, weights)[0], user, stats)


async def load(port: int, users: list[SoakUser], connections: int, seconds: float) -> Stats:
    stats = Stats()
    deadline = time.monotonic() + seconds
    groups = [users[i::connections] for i in range(connections)]
    await asyncio.gather(
        *(client(port, group, deadline, i, stats) for i, group in enumerate(groups) if group)
    )
    return stats


# --- report --------------------------------------------------------------------------------------


def lost_writes(users: list[SoakUser], stored: dict[int, str]) -> list[str]:
    lost = []
    for user in users:
        value = stored.get(user.id)
        if value == user.last_acked or value in user.unacked:
            continue
        lost.append(f"user {user.id}: stored {value!r}, last acknowledged {user.last_acked!r}")
    return lost


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 60)))
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(argv)
    if args.users < args.connections:
        parser.error("--users must be at least --connections (each connection owns users)")

    database_url = os.environ.get("SOAK_DATABASE_URL", DEFAULT_DATABASE_URL)
    cache_url = os.environ.get("SOAK_CACHE_URL", DEFAULT_CACHE_URL)
    env = soak_env(database_url, cache_url)
    os.environ.update(env)

    log(f"== soak: {args.connections} connections, {args.seconds:.0f} s, {args.users} users")
    log(f"   database {database_name(database_url)}, cache {cache_url}, {args.workers} workers")
    reset_database(database_url)
    redis_flush(cache_url)
    server = None
    try:
        started = time.perf_counter()
        users = seed(args.users)
        log(
            f"   seeded {len(users)} users, profiles and sessions in {time.perf_counter() - started:.1f} s"
        )
        (OUT / "gunicorn.log").unlink(missing_ok=True)
        server = GunicornServer(
            env=env,
            log=OUT / "gunicorn.log",
            workers=args.workers,
            args=["--backlog=2048", "--graceful-timeout=10"],
        )
        try:
            server.start()
        except ServerError as exc:
            raise SoakError(f"{exc}; see {server.log}") from None
        log(f"   gunicorn on {HOST}:{server.port}; load running…")
        began, client_before, machine_before = time.perf_counter(), os.times(), cpu.snapshot()
        stats = asyncio.run(load(server.port, users, args.connections, args.seconds))
        elapsed = time.perf_counter() - began
        client_after = os.times()
        answered = sum(sum(c.values()) for c in stats.statuses.values())
        machine = cpu.usage(
            machine_before, cpu.snapshot(), server_pid=server.process.pid, requests=answered
        )
        # This process's own CPU (the clients), not the server's: they share the machine.
        client_cores = (
            client_after.user + client_after.system - client_before.user - client_before.system
        ) / elapsed
        server.stop(timeout=30)
        tracebacks = server.log_text().count("Traceback")
        stored = stored_bios([user.id for user in users])
        lost = lost_writes(users, stored)
    finally:
        if server is not None:
            server.stop(timeout=30)
        if not args.keep_database:
            with contextlib.suppress(Exception):
                reset_database(database_url, drop_only=True)
        with contextlib.suppress(Exception):
            redis_flush(cache_url)

    total = sum(sum(c.values()) for c in stats.statuses.values())
    all_5xx = sum(n for c in stats.statuses.values() for s, n in c.items() if s >= 500)
    server_errors = all_5xx - stats.shed
    broken = sum(stats.broken.values())
    acknowledged = sum(1 for user in users if user.last_acked)
    log("")
    log("| operation | requests | statuses | p50 ms | p99 ms |")
    log("|---|---:|---|---:|---:|")
    for op in MIX:
        seen = stats.statuses.get(op, Counter())
        times = stats.latencies.get(op, [])
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(seen.items()))
        log(
            f"| {op} | {sum(seen.values())} | {statuses} | "
            f"{percentile(times, 0.5) * 1000:.0f} | {percentile(times, 0.99) * 1000:.0f} |"
        )
    log("")
    log(
        f"requests answered: {total} in {elapsed:.1f} s ({total / elapsed:.0f}/s); "
        f"the clients used {client_cores:.2f} cores of the machine"
    )
    log(
        f"server CPU: {machine['app_cores']:.2f} cores, {machine['app_ms_per_req']:.2f} ms per "
        f"request; database and cache {machine['services_cores']:.2f} cores; other programs "
        f"{machine['other_cores']:.2f} cores"
    )
    log(f"5xx: {server_errors} (apart from the sign-in queue's)")
    log(
        f"sign-ins refused by the bounded hashing queue (503 service_unavailable, "
        f"Retry-After): {stats.shed} of {sum(stats.statuses.get('login', Counter()).values())}"
    )
    slow = []
    for op, target in P99_TARGET_MS.items():
        p99 = percentile(stats.latencies.get(op, []), 0.99) * 1000
        verdict = "met" if p99 <= target else "NOT MET"
        if p99 > target:
            slow.append(op)
        log(f"{op} p99 {p99:.0f} ms (target ≤ {target} ms: {verdict})")
    log(f"broken connections / timeouts: {broken} {dict(stats.broken) if broken else ''}")
    log(f"unexpected answers: {len(stats.unexpected)}")
    for line in stats.unexpected[:20]:
        if line:
            log(f"   {line}")
    log(f"profiles written and acknowledged: {acknowledged} users; lost writes: {len(lost)}")
    for line in lost[:20]:
        log(f"   {line}")
    log(f"tracebacks in the server log: {tracebacks}")
    OUT.mkdir(parents=True, exist_ok=True)
    result = {
        "connections": args.connections,
        "seconds": args.seconds,
        "users": args.users,
        "workers": args.workers,
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "client_cores": round(client_cores, 2),
        "machine": machine,
        "statuses": {op: dict(c) for op, c in stats.statuses.items()},
        "p50_ms": {op: round(percentile(t, 0.5) * 1000) for op, t in stats.latencies.items()},
        "p99_ms": {op: round(percentile(t, 0.99) * 1000) for op, t in stats.latencies.items()},
        "server_errors": server_errors,
        "signins_shed": stats.shed,
        "p99_targets_missed": slow,
        "broken": dict(stats.broken),
        "unexpected": len(stats.unexpected),
        "lost_writes": len(lost),
        "tracebacks": tracebacks,
    }
    (OUT / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    healthy = not (server_errors or lost or broken or stats.unexpected or tracebacks)
    log("== soak " + ("passed" if healthy else "FAILED") + " (build/soak/result.json)")
    return 0 if healthy else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SoakError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        sys.exit(2)
