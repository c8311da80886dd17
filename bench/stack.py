"""What one request costs inside Django, without gunicorn, the network or a load
generator: ``python -m bench.stack``.

``make bench`` measures whole requests under gunicorn, and on a shared 2-core
machine its CPU figures move with everything else that runs. This tool calls
the WSGI application in-process, one request after another on one thread, and
reports the process CPU per request — the cost of the middleware, the URL
resolver, authentication, the view, the serializer and the queries — and with
``--profile N`` the top N functions of a cProfile run over the same requests
(README, "Benchmark": the profile of ``/auth/me`` and refresh).

    python -m bench.stack                                  # every endpoint, site and bare
    python -m bench.stack --only me,refresh --profile 25
    DATABASE_URL=mysql://root@127.0.0.1:3306/authsite_perf_bench python -m bench.stack

It seeds a fresh database the way ``make bench`` does (an SQLite file under
build/bench/ unless ``DATABASE_URL`` names a MySQL/MariaDB database whose name
contains "bench") with the production settings of the bench
(``bench.run.bench_env``). Each endpoint runs ``--requests`` times after a
warm-up; refresh tokens are minted beforehand, one per request.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Endpoint:
    key: str
    method: str
    path: str
    # Called once per request: (headers, body) of that request.
    next_request: Callable[[], tuple[dict[str, str], bytes]]


def _environ(method: str, path: str, headers: dict[str, str], body: bytes) -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": "wrk",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _call(application, endpoint: Endpoint) -> str:
    headers, body = endpoint.next_request()
    seen: list[str] = []

    def start_response(status, response_headers, exc_info=None):
        seen.append(status)

    result = application(_environ(endpoint.method, endpoint.path, headers, body), start_response)
    try:
        for _chunk in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return seen[0] if seen else "?"


def measure(application, endpoint: Endpoint, requests: int, rounds: int) -> dict:
    """CPU ms per request: the median (and the least) of ``rounds`` rounds of
    ``requests``. On a busy machine the least is the steadier figure: other
    programs only ever add to a round's CPU (caches, frequency)."""
    for _ in range(min(200, requests)):  # warm-up: imports, compiled lookups, connections
        status = _call(application, endpoint)
        if not status.startswith("200"):
            raise SystemExit(f"{endpoint.key}: {status} during the warm-up")
    per_round = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            _call(application, endpoint)
        per_round.append((time.process_time() - started) * 1000 / requests)
    return {"cpu_ms": statistics.median(per_round), "min_ms": min(per_round), "rounds": per_round}


def profile(application, endpoint: Endpoint, requests: int, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        _call(application, endpoint)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    out.write("\n--- by cumulative time ---\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def bare_child(opts: argparse.Namespace) -> int:
    """The bare app (``bench.bare``), measured in this process; the result is
    the last line printed, as JSON."""
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    endpoint = Endpoint("bare", "GET", "/healthz", lambda: ({}, b""))
    result = measure(application, endpoint, opts.requests, opts.rounds)
    if opts.profile:
        print(f"\n===== bare: cProfile of {opts.requests} requests =====")
        print(profile(application, endpoint, opts.requests, opts.profile))
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.stack", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--only", default="", help="comma-separated: bare,healthz,me,profile,refresh"
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument(
        "--every-middleware",
        action="store_true",
        help="also measure each endpoint with the browser's middleware on every request "
        "(MIDDLEWARE without the pages-only block's two markers), round for round",
    )
    parser.add_argument("--bare-child", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.bare_child:
        return bare_child(opts)

    from bench.run import bench_env, prepare_database, run_checked, seed

    db = prepare_database(os.environ.get("DATABASE_URL") or None, opts.users)
    keys = {
        "SECRET_KEY": "bench-only-" + secrets.token_urlsafe(40),
        "JWT_SIGNING_KEY": "bench-only-" + secrets.token_urlsafe(40),
    }
    env = {**bench_env(db, delivery_mode="sync"), **keys}
    run_checked(
        [sys.executable, "manage.py", "migrate", "--noinput"], env, timeout=600, what="migrate"
    )
    seed(["users", f"--count={opts.users}"], env)
    out = ROOT / "build" / "bench" / "pools"
    out.mkdir(parents=True, exist_ok=True)
    count = (opts.requests + 200) * (opts.rounds * (2 if opts.every_middleware else 1) + 1) + 300
    wanted = (
        set(opts.only.split(",")) if opts.only else {"bare", "healthz", "me", "profile", "refresh"}
    )
    tokens: dict[str, list[str]] = {}
    for kind, needed in (("access", 1000), ("refresh", count)):
        if kind == "refresh" and "refresh" not in wanted:
            continue
        path = out / f"stack-{kind}.txt"
        seed(
            [
                "tokens",
                f"--users={opts.users}",
                f"--count={needed}",
                f"--kind={kind}",
                f"--out={path}",
            ],
            env,
        )
        tokens[kind] = path.read_text(encoding="utf-8").splitlines()
    results: dict[str, dict] = {}
    if "bare" in wanted:
        # The bare app in a process of its own: one settings module per process.
        bare_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.bare"}
        report = run_checked(
            [sys.executable, "-m", "bench.stack", "--bare-child", *(argv or sys.argv[1:])],
            bare_env,
            timeout=600,
            what="bare app",
        )
        results["bare"] = json.loads(report.strip().splitlines()[-1])
        if opts.profile:
            print("\n".join(report.strip().splitlines()[:-1]))
    os.environ.update(env)
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    access = tokens.get("access", [])
    refresh = iter(tokens.get("refresh", []))
    turn = {"i": 0}

    def bearer() -> tuple[dict[str, str], bytes]:
        turn["i"] += 1
        return {"Authorization": f"Bearer {access[turn['i'] % len(access)]}"}, b""

    endpoints = [
        Endpoint("healthz", "GET", "/healthz", lambda: ({}, b"")),
        Endpoint("me", "GET", "/api/v1/auth/me", bearer),
        Endpoint("profile", "GET", "/api/v1/profile", bearer),
        Endpoint(
            "refresh", "POST", "/api/v1/auth/token/refresh", lambda: ({}, next(refresh).encode())
        ),
    ]
    every = None
    if opts.every_middleware:
        from django.conf import settings
        from django.core.handlers.wsgi import WSGIHandler
        from django.test import override_settings

        markers = {
            "authsite.middleware.PagesOnlyMiddleware",
            "authsite.middleware.PagesOnlyEndMiddleware",
        }
        with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m not in markers]):
            every = WSGIHandler()  # its chain is built here, with that list
    for endpoint in endpoints:
        if endpoint.key not in wanted:
            continue
        if every is not None:
            # Alternate the two handlers round by round, so that the machine's
            # drift weighs on both alike.
            ours, theirs = [], []
            for _ in range(opts.rounds):
                ours.append(measure(application, endpoint, opts.requests, 1)["min_ms"])
                theirs.append(measure(every, endpoint, opts.requests, 1)["min_ms"])
            results[endpoint.key] = {
                "cpu_ms": statistics.median(ours),
                "min_ms": min(ours),
                "rounds": ours,
            }
            results[endpoint.key + "+all"] = {
                "cpu_ms": statistics.median(theirs),
                "min_ms": min(theirs),
                "rounds": theirs,
            }
            continue
        results[endpoint.key] = measure(application, endpoint, opts.requests, opts.rounds)
        if opts.profile:
            print(f"\n===== {endpoint.key}: cProfile of {opts.requests} requests =====")
            print(profile(application, endpoint, opts.requests, opts.profile))
    print(
        f"\nCPU per request in-process ({db.label}; {opts.rounds} rounds of {opts.requests}): "
        "median, least, and the least as a multiple of /healthz's"
    )
    base = results.get("healthz", {}).get("min_ms")
    for key, result in results.items():
        ratio = f"   {result['min_ms'] / base:5.2f} x /healthz" if base else ""
        spread = ", ".join(f"{r:.3f}" for r in result["rounds"])
        print(
            f"  {key:12} {result['cpu_ms']:.3f} ms  {result['min_ms']:.3f} ms{ratio}   "
            f"(rounds: {spread})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
