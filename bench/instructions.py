"""Instructions per request through gunicorn's request path, counted by
valgrind: ``python -m bench.instructions`` (``make bench-instructions``).

``make bench`` measures seconds, and on a shared 2-core VM they move with the
machine: adjacent runs of the same endpoint disagree by 10-30 %. An
instruction count does not move. Each endpoint here runs in a process of
its own under ``valgrind --tool=callgrind``: gunicorn's own code for one
request — parsing it from a socket, building the environ, the WSGI
application, writing the response, the access log line — called in a loop
on one thread, as a gthread worker's thread does it (without the poller and
the thread hand-off, which cost both apps the same). It runs ``--small``
and then ``--large`` requests after the same warm-up; the difference of the
two totals over the difference of the counts is what one request costs.
The same for the bare app (``bench.bare``) gives issue 21's ``/healthz ÷
bare`` as the two apps' instructions would make it on a CPU-bound server.

Instructions are not seconds: a system call counts only its user-space side
(the database round trip's wait and the kernel's socket work are not in
it), and a cache miss counts as one instruction. Use it to see what a change
to the stack costs or saves, to the thousand instructions; use ``make
bench`` for what a server does.

    python -m bench.instructions                      # bare, healthz, me, refresh
    python -m bench.instructions --only bare,healthz
    DATABASE_URL=mysql://root@127.0.0.1:3306/authsite_bench python -m bench.instructions
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench" / "instructions"
KEYS = ("bare", "healthz", "me", "refresh")
WARM_UP = 30
PATHS = {
    "bare": ("GET", "/healthz"),
    "healthz": ("GET", "/healthz"),
    "me": ("GET", "/api/v1/auth/me"),
    "refresh": ("POST", "/api/v1/auth/token/refresh"),
}


def _raw_requests(key: str, count: int, tokens: list[str]) -> list[bytes]:
    method, path = PATHS[key]
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: wrk\r\n"
    if key == "me":
        return [f"{head}Authorization: Bearer {tokens[0]}\r\n\r\n".encode() for _ in range(count)]
    if key == "refresh":
        requests = []
        for line in tokens[:count]:  # each line a JSON body (bench.seed tokens)
            body = line.encode()
            requests.append(
                f"{head}Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
        if len(requests) < count:
            raise SystemExit(f"refresh: {count} tokens needed, {len(requests)} given")
        return requests
    return [f"{head}\r\n".encode()] * count


def child(key: str, count: int, tokens_file: str) -> int:
    """One process under valgrind: ``WARM_UP`` + ``count`` requests of ``key``."""
    os.chdir(ROOT)
    tokens = Path(tokens_file).read_text().splitlines() if tokens_file else []
    app = "bench.bare:application" if key == "bare" else "authsite.wsgi:application"
    sys.argv = ["gunicorn", "-c", "gunicorn.conf.py", app]
    from gunicorn.app.wsgiapp import WSGIApplication
    from gunicorn.http import wsgi
    from gunicorn.http.parser import RequestParser

    gunicorn_app = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")
    cfg = gunicorn_app.cfg
    access_log = cfg.logger_class(cfg)
    application = gunicorn_app.load()
    client, server = socket.socketpair()
    parser = RequestParser(cfg, server, ("127.0.0.1", 40000))
    for raw in _raw_requests(key, WARM_UP + count, tokens):
        client.sendall(raw)
        request = next(parser)
        response, environ = wsgi.create(
            request, server, ("127.0.0.1", 40000), ("127.0.0.1", 8000), cfg
        )
        environ["wsgi.multithread"] = True
        body = application(environ, response.start_response)
        try:
            for chunk in body:
                response.write(chunk)
            response.close()
        finally:
            access_log.access(response, request, environ, timedelta(milliseconds=1))
            if hasattr(body, "close"):
                body.close()
        reply = client.recv(65536)
        if b" 200 " not in reply.split(b"\r\n", 1)[0]:
            raise SystemExit(f"{key}: {reply[:300]!r}")
    return 0


def _instructions(key: str, count: int, env: dict[str, str], tokens_file: str) -> int:
    out = OUT / f"{key}-{count}.callgrind"
    done = subprocess.run(  # noqa: S603 - our own argv
        [
            shutil.which("valgrind") or "/usr/bin/valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "bench.instructions",
            "--child",
            key,
            str(count),
            tokens_file,
        ],
        cwd=ROOT,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"{key}: the run under valgrind failed:\n{tail}")
    match = re.search(r"^(?:summary|totals):\s*(\d+)", out.read_text(), re.M)
    if match is None:
        raise SystemExit(f"{key}: no total in {out}")
    return int(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.instructions", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(KEYS))
    parser.add_argument("--small", type=int, default=50)
    parser.add_argument("--large", type=int, default=550)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child:
        key, count, tokens_file = opts.child
        return child(key, int(count), tokens_file)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: sudo apt-get install valgrind")
    wanted = [key for key in KEYS if not opts.only or key in opts.only.split(",")]

    from bench.run import bench_env, prepare_database, run_checked, seed

    OUT.mkdir(parents=True, exist_ok=True)
    db = prepare_database(os.environ.get("DATABASE_URL") or None, opts.users)
    env = {
        **bench_env(db, delivery_mode="sync"),
        "SECRET_KEY": "bench-only-" + secrets.token_urlsafe(40),
        "JWT_SIGNING_KEY": "bench-only-" + secrets.token_urlsafe(40),
        # The same string hashes, so the same dict layouts, in every run.
        "PYTHONHASHSEED": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(OUT / "metrics"),
    }
    (OUT / "metrics").mkdir(exist_ok=True)
    run_checked(
        [sys.executable, "manage.py", "migrate", "--noinput"], env, timeout=600, what="migrate"
    )
    seed(["users", f"--count={opts.users}"], env)
    files = {}
    for key, kind, count in (
        ("me", "access", 1),
        ("refresh", "refresh", WARM_UP + opts.large),
    ):
        if key in wanted:
            for run in ("small", "large"):
                path = OUT / f"{key}-{run}-tokens.txt"
                seed(
                    [
                        "tokens",
                        f"--users={opts.users}",
                        f"--count={count}",
                        f"--kind={kind}",
                        f"--out={path}",
                    ],
                    env,
                )
                files[key, run] = str(path)
    per_request = {}
    for key in wanted:
        small = _instructions(key, opts.small, env, files.get((key, "small"), ""))
        large = _instructions(key, opts.large, env, files.get((key, "large"), ""))
        per_request[key] = (large - small) / (opts.large - opts.small)
        print(f"  {key:8} {per_request[key]:>12,.0f} instructions per request", flush=True)
    print(f"\n{db.label}; {opts.large} - {opts.small} requests after {WARM_UP} of warm-up:")
    if "bare" in per_request and "healthz" in per_request:
        print(
            f"  /healthz ÷ bare (by instructions): {per_request['bare'] / per_request['healthz']:.3f}"
        )
    for key in ("me", "refresh"):
        if key in per_request and "healthz" in per_request:
            print(f"  {key} ÷ /healthz: {per_request[key] / per_request['healthz']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
