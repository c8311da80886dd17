"""The gunicorn worker's lanes (authsite/serving.py): which requests are
urgent, and the order its queue hands work to the threads. Through a real
gunicorn: tests/attacks/test_worker_stall.py and the lanes test below."""

from __future__ import annotations

import queue
import select
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from authsite.serving import (
    LanedThreadPool,
    LaneQueue,
    request_head,
    request_is_urgent,
    urgent_threads,
)
from authsite.testing.lanes import answer, lanes_server, send


def item(name: str, urgent: bool) -> SimpleNamespace:
    """Shaped like the executor's work item: its first argument is the connection."""
    return SimpleNamespace(name=name, args=(SimpleNamespace(urgent=urgent),))


def names(lanes: LaneQueue, count: int) -> list[str]:
    taken = []
    for _ in range(count):
        got = lanes.get_nowait()
        taken.append(got.name)
        lanes._thread.other = False  # this thread "finished" it: no limit in play here
        if not got.args[0].urgent:
            lanes._running_other -= 1
    return taken


def test_urgent_items_go_first_and_each_lane_keeps_its_order():
    lanes = LaneQueue(other_limit=8)
    for name, urgent in [("o1", False), ("o2", False), ("u1", True), ("o3", False), ("u2", True)]:
        lanes.put(item(name, urgent))
    assert names(lanes, 5) == ["u1", "u2", "o1", "o2", "o3"]
    with pytest.raises(queue.Empty):
        lanes.get_nowait()


def test_the_other_lane_is_not_starved():
    lanes = LaneQueue(other_limit=8, burst=2)
    lanes.put(item("o1", False))
    lanes.put(item("o2", False))
    for n in range(1, 6):
        lanes.put(item(f"u{n}", True))
    assert names(lanes, 7) == ["u1", "u2", "o1", "u3", "u4", "o2", "u5"]


def test_the_stop_signal_is_urgent():
    lanes = LaneQueue(other_limit=8)
    lanes.put(item("o1", False))
    lanes.put(None)
    assert lanes.get_nowait() is None


def test_threads_are_kept_for_urgent_items():
    """With other_limit 1, a second other item waits until the first is done
    (its thread asks for more), while an urgent one is taken at once."""
    lanes = LaneQueue(other_limit=1)
    lanes.put(item("o1", False))
    lanes.put(item("o2", False))
    taken: list[str] = []
    ask_again = threading.Event()

    def pool_thread():
        taken.append(lanes.get(timeout=5).name)  # o1: now running
        ask_again.wait(5)
        taken.append(lanes.get(timeout=5).name)  # o1 done: o2

    thread = threading.Thread(target=pool_thread)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not taken and time.monotonic() < deadline:
            time.sleep(0.01)
        assert taken == ["o1"]
        with pytest.raises(queue.Empty):  # o2 waits: one other item runs already
            lanes.get(timeout=0.05)
        lanes.put(item("u1", True))
        assert lanes.get(timeout=1).name == "u1"
    finally:
        ask_again.set()
        thread.join(5)
    assert taken == ["o1", "o2"]


def test_get_waits_until_its_timeout():
    lanes = LaneQueue(other_limit=2)
    started = time.monotonic()
    with pytest.raises(queue.Empty):
        lanes.get(timeout=0.05)
    assert time.monotonic() - started >= 0.04


def test_the_pool_runs_work_and_shuts_down():
    pool = LanedThreadPool(max_workers=3, reserved=1)
    urgent = SimpleNamespace(urgent=True)
    other = SimpleNamespace(urgent=False)
    results = [
        pool.submit(lambda conn, n=n: (conn.urgent, n), c)
        for n, c in enumerate([urgent, other] * 5)
    ]
    assert sorted(f.result(5) for f in results) == sorted(
        (c.urgent, n) for n, c in enumerate([urgent, other] * 5)
    )
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("raw", ["", "2", " 3 "])
def test_urgent_threads_reads_the_environment(monkeypatch, raw):
    monkeypatch.setenv("GUNICORN_URGENT_THREADS", raw)
    assert urgent_threads(8) == (int(raw) if raw.strip() else 2)


@pytest.mark.parametrize("raw", ["8", "-1", "two", "1.5"])
def test_urgent_threads_refuses_what_leaves_no_thread(monkeypatch, raw):
    monkeypatch.setenv("GUNICORN_URGENT_THREADS", raw)
    with pytest.raises(ValueError, match="GUNICORN_URGENT_THREADS"):
        urgent_threads(8)


# --- peeking at the request line ---------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "urgent"),
    [
        (b"GET /api/v1/auth/me HTTP/1.1\r\n", True),
        (b"GET /api/v1/auth/me?x=1 HTTP/1.1\r\n", True),
        (b"POST /api/v1/auth/token/refresh HTTP/1.1\r\n", True),
        (b"GET /healthz HTTP/1.1\r\n", True),
        (b"GET /readyz HTTP/1.1\r\n", True),
        (b"GET /api/v1/auth/meX HTTP/1.1\r\n", False),
        (b"POST /api/v1/auth/me HTTP/1.1\r\n", False),
        (b"GET /api/v1/auth/token/refresh HTTP/1.1\r\n", False),
        (b"POST /api/v1/auth/login HTTP/1.1\r\n", False),
        (b"get /healthz HTTP/1.1\r\n", False),
        (b"GET /api/v1/au", False),  # the rest not here yet
    ],
)
def test_which_requests_are_urgent(line, urgent):
    server, client = socket.socketpair()
    with server, client:
        client.sendall(line)
        select.select([server], [], [], 5)
        head = request_head(server)
        assert request_is_urgent(head) is urgent
        # Peeking consumed nothing: the parser reads the whole line.
        assert server.recv(4096) == line


def test_a_socket_with_nothing_sent_yet_is_not_read():
    server, client = socket.socketpair()
    with server, client:
        assert request_head(server) is None  # and it did not block
        client.close()
        assert request_head(server) == b""
        assert request_is_urgent(b"") is False


# --- through gunicorn ------------------------------------------------------------------------


def test_an_urgent_request_is_answered_while_other_requests_hold_and_queue(tmp_path):
    """One worker of two threads, one kept for urgent requests: a slow request
    holds the other thread and a second one queues behind it; /healthz and
    /api/v1/auth/me, on new connections and on a kept-alive one, and one whose
    bytes arrive after the connection was accepted, are answered meanwhile.
    gunicorn's own worker would give the second request the second thread and
    answer the urgent ones only after the slow one."""
    with lanes_server(tmp_path, threads=2, urgent_threads=1) as (port, gate):
        slow = send(port, "/slow")
        time.sleep(0.3)  # the slow request holds its thread
        queued = send(port, "/profile")
        time.sleep(0.3)
        assert answer(send(port, "/healthz"), timeout=5) == b"/healthz"

        kept = send(port, "/api/v1/profile", close=False)
        # (the kept-alive connection's first request is not urgent: it waits
        # for the slow one; its second, urgent, one would not)
        late = socket.create_connection(("127.0.0.1", port), 5)
        time.sleep(0.3)  # accepted with nothing sent: it waits on the poller
        late.sendall(
            b"GET /api/v1/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        assert answer(late, timeout=5) == b"/api/v1/auth/me"

        # Neither other request has been answered: the slow one still holds
        # the one thread they may use.
        readable, _, _ = select.select([slow, queued, kept], [], [], 0.2)
        assert readable == []
        gate.touch()
        assert answer(slow) == b"/slow"
        assert answer(queued) == b"/profile"
        assert answer(kept) == b"/api/v1/profile"
        kept.sendall(b"GET /api/v1/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answer(kept) == b"/api/v1/auth/me"
        for sock in (slow, queued, kept, late):
            sock.close()
