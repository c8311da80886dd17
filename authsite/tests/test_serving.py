"""The gunicorn worker's lanes (authsite/serving.py): which requests are
urgent, and the order its queue hands work to the threads. Through a real
gunicorn: tests/attacks/test_worker_stall.py and the lanes test below."""

from __future__ import annotations

import datetime
import os
import queue
import select
import signal
import socket
import ssl
import subprocess
import threading
import time
from types import SimpleNamespace

import pytest

from authsite.serving import (
    URGENT_THREADS,
    LanedThreadPool,
    LaneQueue,
    bulkhead_room_check,
    request_head,
    request_is_urgent,
    urgent_threads,
)
from authsite.testing.lanes import answer, lanes_server, request, send


def item(name: str, urgent: bool) -> SimpleNamespace:
    """Shaped like the executor's work item: its first argument is the connection."""
    return SimpleNamespace(name=name, args=(SimpleNamespace(urgent=urgent),))


def names(lanes: LaneQueue, count: int) -> list[str]:
    """What one pool thread takes, one item after the other (each get marks
    the thread's last item done)."""
    return [lanes.get(timeout=1).name for _ in range(count)]


def test_urgent_items_go_first_and_each_lane_keeps_its_order():
    lanes = LaneQueue(other_limit=8)
    for name, urgent in [("o1", False), ("o2", False), ("u1", True), ("o3", False), ("u2", True)]:
        lanes.put(item(name, urgent))
    assert names(lanes, 5) == ["u1", "u2", "o1", "o2", "o3"]
    with pytest.raises(queue.Empty):
        lanes.get(timeout=0.01)


def test_the_other_lane_is_not_starved():
    lanes = LaneQueue(other_limit=8, burst=2)
    lanes.put(item("o1", False))
    lanes.put(item("o2", False))
    for n in range(1, 6):
        lanes.put(item(f"u{n}", True))
    assert names(lanes, 7) == ["u1", "u2", "o1", "u3", "u4", "o2", "u5"]


def test_the_stop_signal_comes_after_every_queued_item():
    """As in the executor's own queue: threads told to stop finish what was
    queued first, the limit on other items lifted."""
    lanes = LaneQueue(other_limit=1)
    lanes.put(item("o1", False))
    lanes.put(item("o2", False))
    lanes.put(None)
    lanes.put(item("u1", True))
    taken = [lanes.get(timeout=1).name]  # u1
    # Another thread would wait for o1's place: not once the stop is sent.
    other: dict[str, object] = {}
    thread = threading.Thread(target=lambda: other.update(got=lanes.get(timeout=1)))
    thread.start()
    thread.join(5)
    taken.append(other["got"].name)
    taken.append(lanes.get(timeout=1).name)
    assert sorted(taken) == ["o1", "o2", "u1"]
    assert lanes.get(timeout=1) is None
    with pytest.raises(queue.Empty):
        lanes.get(timeout=0.01)


def test_draining_takes_everything_limits_aside():
    """The executor's shutdown(cancel_futures=True) drains with get_nowait."""
    lanes = LaneQueue(other_limit=1)
    lanes.put(item("o1", False))
    assert lanes.get(timeout=1).name == "o1"  # running: the limit is reached
    lanes.put(item("o2", False))
    lanes.put(item("u1", True))
    lanes.put(None)
    assert [lanes.get_nowait().name, lanes.get_nowait().name] == ["u1", "o2"]
    assert lanes.get_nowait() is None
    with pytest.raises(queue.Empty):
        lanes.get_nowait()


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
    pool.shutdown(wait=True)


@pytest.mark.parametrize("cancel", [False, True])
def test_a_shut_down_pool_leaves_no_future_pending(cancel):
    """Queued work is run (shutdown) or cancelled (cancel_futures), never left
    pending: whoever waits on a future is not left waiting for ever."""
    pool = LanedThreadPool(max_workers=2, reserved=1)
    gate = threading.Event()
    other = SimpleNamespace(urgent=False)
    busy = pool.submit(lambda conn: gate.wait(5), other)  # holds the one other place
    queued = [pool.submit(lambda conn: "ran", other) for _ in range(3)]
    time.sleep(0.1)
    threading.Timer(0.2, gate.set).start()
    pool.shutdown(wait=True, cancel_futures=cancel)
    assert busy.result(1) is True
    for future in queued:
        assert future.done()
        assert future.cancelled() if cancel else future.result(1) == "ran"


@pytest.mark.parametrize("raw", ["", "2", " 3 "])
def test_urgent_threads_reads_the_environment(monkeypatch, raw):
    monkeypatch.setenv("GUNICORN_URGENT_THREADS", raw)
    assert urgent_threads(8) == (int(raw) if raw.strip() else 2)


@pytest.mark.parametrize("raw", ["8", "-1", "two", "1.5"])
def test_urgent_threads_refuses_what_leaves_no_thread(monkeypatch, raw):
    monkeypatch.setenv("GUNICORN_URGENT_THREADS", raw)
    with pytest.raises(ValueError, match="GUNICORN_URGENT_THREADS"):
        urgent_threads(8)


def test_the_kept_threads_leave_the_bulkhead_room(settings):
    """Sign-ins beyond what the bulkhead holds must reach it to be refused:
    the threads other requests may use outnumber them, with the defaults too."""
    held = settings.PASSWORD_HASH_CONCURRENCY + settings.PASSWORD_HASH_QUEUE
    bulkhead_room_check(8, URGENT_THREADS, held)  # gunicorn.conf.py's defaults
    bulkhead_room_check(8, 2, 5)
    for threads, urgent in [(8, 3), (8, 4), (5, 0), (6, 1)]:
        with pytest.raises(ValueError, match="queue without bound"):
            bulkhead_room_check(threads, urgent, 5)


# --- peeking at the request line ---------------------------------------------------------


HEAD = b"Host: 127.0.0.1\r\nUser-Agent: t\r\n\r\n"


@pytest.mark.parametrize(
    ("raw", "urgent"),
    [
        (b"GET /api/v1/auth/me HTTP/1.1\r\n" + HEAD, True),
        (b"GET /api/v1/auth/me?x=1 HTTP/1.1\r\n" + HEAD, True),
        (b"GET /healthz HTTP/1.1\r\n" + HEAD, True),
        (b"GET /readyz HTTP/1.1\r\n" + HEAD, True),
        (
            b'POST /api/v1/auth/token/refresh HTTP/1.1\r\nContent-Length: 13\r\n\r\n{"refresh":1}',
            True,
        ),
        # Not whole yet: the headers or the body still coming.
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", False),
        (b"GET /api/v1/auth/me HTTP/1.1\r\n", False),
        (
            b"POST /api/v1/auth/token/refresh HTTP/1.1\r\nContent-Length: 500\r\n\r\n{",
            False,
        ),
        (
            b"POST /api/v1/auth/token/refresh HTTP/1.1\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            False,
        ),
        (b"POST /api/v1/auth/token/refresh HTTP/1.1\r\nContent-Length: x\r\n\r\n", False),
        # Not urgent at all.
        (b"GET /api/v1/auth/meX HTTP/1.1\r\n" + HEAD, False),
        (b"POST /api/v1/auth/me HTTP/1.1\r\n" + HEAD, False),
        (b"GET /api/v1/auth/token/refresh HTTP/1.1\r\n" + HEAD, False),
        (b"POST /api/v1/auth/login HTTP/1.1\r\n" + HEAD, False),
        (b"get /healthz HTTP/1.1\r\n" + HEAD, False),
        (b"GET /api/v1/au", False),
    ],
)
def test_which_requests_are_urgent(raw, urgent):
    server, client = socket.socketpair()
    with server, client:
        client.sendall(raw)
        select.select([server], [], [], 5)
        head = request_head(server)
        assert request_is_urgent(head) is urgent
        # Peeking consumed nothing: the parser reads the whole request.
        assert server.recv(8192) == raw


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
    with lanes_server(tmp_path, threads=2, urgent_threads=1) as (port, gate, _process):
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


def test_a_request_still_arriving_is_not_urgent(tmp_path):
    """Three clients send an urgent request line and stall in their headers:
    they queue as other requests (one thread reads, as gunicorn's would), so
    the threads kept for urgent requests still answer a whole one."""
    with lanes_server(tmp_path, threads=3, urgent_threads=2) as (port, _gate, _process):
        stalled = []
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", port), 5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            stalled.append(sock)
        time.sleep(0.3)
        assert answer(send(port, "/healthz"), timeout=5) == b"/healthz"
        for sock in stalled:
            sock.close()


def test_a_pipelined_request_is_judged_by_itself(tmp_path):
    """gunicorn reads ahead into its buffer: when it queues a pipelined request
    from there, what the peek sees on the socket is the request after it. An
    urgent request behind a slow one must not send the slow one to the
    urgent lane (it would take the thread kept for urgent requests)."""
    with lanes_server(tmp_path, threads=2, urgent_threads=1) as (port, gate, _process):
        slow = send(port, "/slow")  # holds the one thread other requests may use
        time.sleep(0.3)
        first = request("/healthz", close=False)
        base = b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: \r\n\r\n"
        # The parser's first read (8,192 bytes) takes the first two requests whole.
        second = base.replace(b"X-Pad: ", b"X-Pad: " + b"a" * (8192 - len(first) - len(base)))
        third = request("/healthz", close=False)
        pipelined = socket.create_connection(("127.0.0.1", port), 5)
        pipelined.sendall(first + second + third)
        assert answer(pipelined, timeout=5) == b"/healthz"
        time.sleep(0.3)
        # The urgent thread is free: the pipelined /slow waits in the other lane.
        assert answer(send(port, "/healthz"), timeout=5) == b"/healthz"
        gate.touch()
        assert answer(slow) == b"/slow"
        assert answer(pipelined) == b"/slow"
        assert answer(pipelined) == b"/healthz"
        for sock in (slow, pipelined):
            sock.close()


def _self_signed(tmp_path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


def test_with_tls_every_thread_serves_every_request(tmp_path):
    """gunicorn terminating TLS itself: nothing can be peeked at, so the worker
    queues as gunicorn's own does, and no thread sits kept for a lane it
    cannot fill."""
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    def tls_send(port: int, path: str) -> socket.socket:
        sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), 5))
        sock.sendall(request(path))
        return sock

    with lanes_server(
        tmp_path, threads=2, urgent_threads=1, args=("--certfile", cert, "--keyfile", key)
    ) as (port, gate, _process):
        slow = tls_send(port, "/slow")
        time.sleep(0.3)
        assert answer(tls_send(port, "/profile"), timeout=5) == b"/profile"
        gate.touch()
        assert answer(slow) == b"/slow"
        slow.close()


def test_a_stopping_worker_does_not_wait_for_connections_that_sent_nothing(tmp_path):
    """A connection accepted with nothing sent waits on the poller for the
    keep-alive time and five seconds; a stopping worker gives it two seconds
    at most (as gunicorn gives its kept-alive connections), not 25."""
    with lanes_server(tmp_path, threads=2, urgent_threads=1, args=("--keep-alive", "20")) as (
        port,
        _gate,
        process,
    ):
        idle = socket.create_connection(("127.0.0.1", port), 5)
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        assert time.monotonic() - started < 8
        idle.close()


def test_the_site_will_not_start_without_room_for_the_bulkhead(tmp_path):
    """gunicorn -c gunicorn.conf.py serving the site, with 6 of its 8 threads
    kept for urgent requests: 2 left cannot hold the bulkhead's 1 + 4 sign-ins,
    so the worker stops the server at start-up, saying why."""
    from authsite.testing.lanes import ROOT
    from authsite.testing.servers import free_port, gunicorn_path

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DEBUG": "true",
        "GUNICORN_THREADS": "8",
        "GUNICORN_URGENT_THREADS": "6",
        "GUNICORN_ACCESS_LOG": "",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    done = subprocess.run(
        [
            str(gunicorn_path()),
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{free_port()}",
            "authsite.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr[-2000:]  # gunicorn's "worker failed to boot"
    assert "must be more than PASSWORD_HASH_CONCURRENCY + PASSWORD_HASH_QUEUE (5)" in done.stderr
