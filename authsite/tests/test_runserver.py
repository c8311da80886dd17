"""``manage.py runserver`` (``make run``) closes each request's database
connection (authsite/management/commands/runserver.py).

It answers every request in a new thread; with persistent connections each
thread's connection stayed open after the thread ended, one SQLite file per
request, until the process ran out of file descriptors and answered 503."""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

from tests.conformance.serve import dev_server


def _server_pid(port: str) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"runserver" in cmdline and f"127.0.0.1:{port}".encode() in cmdline:
            return int(entry.name)
    raise AssertionError(f"no runserver on port {port}")


def _open_database_files(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if "db.sqlite3" in target:
            count += 1
    return count


def _settled_database_files(pid: int, before: int) -> int:
    """The count once the last request's thread has closed its connection.

    The client has its answer before the server's thread has run the
    request_finished handlers that close the connection, so the count read
    at once may still hold the last request's files (CI saw 3: the database,
    its WAL and its shared-memory file)."""
    deadline = time.monotonic() + 10
    count = _open_database_files(pid)
    while count > before and time.monotonic() < deadline:
        time.sleep(0.05)
        count = _open_database_files(pid)
    return count


def test_the_development_server_keeps_no_connection_per_request():
    with dev_server(CONN_MAX_AGE="60") as base_url:
        pid = _server_pid(base_url.rsplit(":", 1)[1])
        for _ in range(5):
            urllib.request.urlopen(base_url + "/readyz", timeout=10).read()
        before = _open_database_files(pid)
        for _ in range(40):
            with urllib.request.urlopen(base_url + "/readyz", timeout=10) as response:
                assert response.status == 200
        after = _settled_database_files(pid, before)
    # Before the fix: two or three more files (the database and its logs) per
    # request, for good.
    assert after <= before, (before, after)
