"""gunicorn with the site's worker class (``authsite/serving.py``) serving a
WSGI application of a few lines, for the tests of the worker itself: no
Django, no database, so what a test sees is the worker's doing.

The application answers every path with the path. ``/slow`` first waits
until the file named by ``LANES_GATE`` exists (20 s at most): a test holds a
thread with it for as long as it wants.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from authsite.testing.servers import HOST, free_port, gunicorn_path

ROOT = Path(__file__).resolve().parent.parent.parent


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/slow":
        gate = Path(os.environ["LANES_GATE"])
        deadline = time.monotonic() + 20
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
    body = path.encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@contextlib.contextmanager
def lanes_server(
    tmp_path: Path,
    *,
    threads: int = 2,
    urgent_threads: int = 1,
    worker_class: str | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[tuple[int, Path, subprocess.Popen]]:
    """One gunicorn worker of ``threads`` threads on a free port; yields the
    port, the gate file (create it to let ``/slow`` requests go) and the
    server's process."""
    port = free_port()
    gate = tmp_path / "gate"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "LANES_GATE": str(gate),
        "GUNICORN_URGENT_THREADS": str(urgent_threads),
    }
    command = [
        str(gunicorn_path()),
        "--worker-class",
        worker_class or "authsite.serving.LanedThreadWorker",
        "--workers",
        "1",
        "--threads",
        str(threads),
        "--bind",
        f"{HOST}:{port}",
        "--keep-alive",
        "5",
        "--no-control-socket",  # several servers on one machine would share it
        *args,
        "authsite.testing.lanes:application",
    ]
    log = (tmp_path / "gunicorn.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "gunicorn.log").read_text())
            time.sleep(0.05)
        yield port, gate, process
    finally:
        gate.touch()
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def send(port: int, path: str, *, close: bool = True) -> socket.socket:
    """Open a connection and send ``GET path``; the caller reads the answer."""
    sock = socket.create_connection((HOST, port), 5)
    sock.sendall(request(path, close=close))
    return sock


def request(path: str, *, close: bool = True) -> bytes:
    connection = "close" if close else "keep-alive"
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: {connection}\r\n\r\n".encode()


def answer(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """The body of one answer on ``sock`` (Content-Length framed)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed before an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed inside the body")
        body += chunk
    return body[:length]
