"""gunicorn's gthread worker with two lanes (``gunicorn.conf.py``; issue 21).

Under load, a gthread worker queues the connections it accepts in its thread
pool's queue, first come first served: a ``GET /auth/me`` waits behind every
profile write, sign-in and code request sent before it, so with 200 busy
clients each request waits about 200 ÷ the server's throughput (Little's
law), whatever it costs itself. The token calls are what every open screen
of a mobile app waits on and cost a millisecond or two; the password-hashing
bulkhead (``authsite/hashers.py``) keeps sign-ins from holding the threads,
but not from standing in the queue ahead of them.

``LanedThreadWorker`` looks at the first bytes of each request before it
queues the connection (``MSG_PEEK``: the bytes stay on the socket for the
parser) and puts the **urgent** ones — the request lines in
``URGENT_REQUEST_LINES``: ``GET /api/v1/auth/me``, ``POST
/api/v1/auth/token/refresh`` and the probes — in a lane of their own that
the threads take from first. Everything else queues as before, in order.
No request is ever refused or reordered within its lane, and the lanes share
the same threads (a lane has no threads of its own sitting idle).

The urgent lane cannot starve the other: while both hold requests, the
threads take at most ``URGENT_BURST`` urgent ones in a row, then one of the
others.

A connection whose first bytes have not arrived when it is accepted waits
for them on the worker's poller (as gunicorn's own deferral does, for the
same keep-alive timeout plus its five seconds of waiting for data), not in
a thread, so its lane is known when it is queued. Only a request that has
arrived whole is urgent (a client stalling in its headers or body must not
hold the threads kept for urgent requests); a pipelined request gunicorn
has already read into its buffer goes in the other lane. With TLS
terminated by gunicorn itself (``certfile``) nothing can be peeked at, and
the worker queues as gunicorn's does.

README, "gunicorn", says what it does to latencies.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import queue
import selectors
import socket
import threading
import time
from collections import deque
from concurrent import futures
from typing import Any

from gunicorn.workers.gthread import (
    DEFAULT_WORKER_DATA_TIMEOUT,
    STOP_KEEPALIVE_LINGER,
    ThreadWorker,
)

# Request lines (their start, up to the path's end) that go in the urgent lane.
URGENT_REQUEST_LINES: tuple[bytes, ...] = (
    b"GET /api/v1/auth/me ",
    b"GET /api/v1/auth/me?",
    b"POST /api/v1/auth/token/refresh ",
    b"POST /api/v1/auth/token/refresh?",
    b"GET /healthz ",
    b"GET /readyz ",
)
# How much of a request the peek looks at: an urgent request is one whose head
# (and, for a POST, body) has arrived whole within it.
PEEK_BYTES = 4096
# Urgent requests taken in a row while others wait.
URGENT_BURST = 8
# gunicorn's graceful close: how long, and how many bytes, a closed connection
# is drained for (util.close_graceful's defaults).
LINGER_SECONDS = 2.0
LINGER_MAX_DRAIN = 65536
# Threads of each worker that only urgent requests may use (the others wait for
# the rest); from GUNICORN_URGENT_THREADS (gunicorn.conf.py).
URGENT_THREADS = 2


def urgent_threads(threads: int) -> int:
    """``GUNICORN_URGENT_THREADS`` (default ``URGENT_THREADS``), checked:
    from 0 to one less than the worker's threads."""
    raw = os.environ.get("GUNICORN_URGENT_THREADS", "").strip() or str(URGENT_THREADS)
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value < threads:
        raise ValueError(
            f"GUNICORN_URGENT_THREADS must be a whole number from 0 to {threads - 1} "
            f"(one less than GUNICORN_THREADS), not {raw!r}"
        )
    return value


def bulkhead_room_check(threads: int, urgent: int, held: int) -> None:
    """The threads other requests may use (``threads - urgent``) must be more
    than the sign-ins the password-hashing bulkhead holds (``held``: hashing
    and queued, ``authsite/hashers.py``). Otherwise the sign-in that should be
    refused with 503 never reaches the bulkhead: it waits in this worker's
    queue, without bound, and every sign-in of a storm is hashed in turn
    (``make soak`` with 4 kept threads of 8: 0 refused, 582 hashed, p50 of
    everything but the token calls 4.6 s)."""
    if threads - urgent <= held:
        raise ValueError(
            f"GUNICORN_THREADS ({threads}) - GUNICORN_URGENT_THREADS ({urgent}) must be more "
            f"than PASSWORD_HASH_CONCURRENCY + PASSWORD_HASH_QUEUE ({held}), or sign-ins "
            "queue without bound instead of being refused (README, gunicorn)"
        )


def request_head(sock: socket.socket) -> bytes | None:
    """The first bytes waiting on ``sock`` (b"" once the client has closed),
    or None when none have arrived. Never blocks and never consumes: the
    bytes stay for the parser."""
    try:
        return sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return None
    except (OSError, ValueError):  # reset, closed, a TLS socket: gunicorn finds out
        return b""


def request_is_urgent(head: bytes | None) -> bool:
    """Whether ``head`` (the first bytes on the socket) is an urgent request
    that has arrived whole: its request line one of ``URGENT_REQUEST_LINES``,
    its headers ended, and its body (``Content-Length``) all there. A request
    still arriving goes in the other lane: a thread reading a stalled client
    waits for it, and the threads kept for urgent requests must not."""
    if not head or not head.startswith(URGENT_REQUEST_LINES):
        return False
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return False
    body = len(head) - end - 4
    for line in head[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return body >= int(value.strip())
            except ValueError:
                return False
        if name.strip().lower() == b"transfer-encoding":
            return False  # a chunked body: not known to be whole
    return True


class Lingering:
    """A connection half-closed after its last answer, until its client closes
    its end or ``LINGER_SECONDS`` pass."""

    __slots__ = ("deadline", "done", "drained", "sock")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.drained = 0
        self.done = False


class LaneQueue:
    """The thread pool's work queue, in two lanes: the urgent items first,
    but no more than ``burst`` of them in a row while others wait; and no
    more than ``other_limit`` other items running at once, so that the
    remaining threads are there for an urgent item when it comes.

    Speaks what ``concurrent.futures.ThreadPoolExecutor`` asks of its queue
    (``put``, ``get``, ``get_nowait``). An item is urgent when its first
    argument (the connection) says so. A pool thread asks for its next item
    when it has finished the last: that is when its other item stops
    counting as running."""

    def __init__(self, other_limit: int, burst: int = URGENT_BURST) -> None:
        self.other_limit = max(1, other_limit)
        self.burst = burst
        self._urgent: deque[Any] = deque()
        self._other: deque[Any] = deque()
        self._stops = 0  # the executor's stop signals (None), given out last
        self._streak = 0  # urgent items taken in a row while others waited
        self._running_other = 0
        self._thread = threading.local()
        self._ready = threading.Condition(threading.Lock())

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        with self._ready:
            if item is None:
                self._stops += 1
            elif getattr(item.args[0] if item.args else None, "urgent", False):
                self._urgent.append(item)
            else:
                self._other.append(item)
            self._ready.notify()

    def put_nowait(self, item: Any) -> None:
        self.put(item, block=False)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """The next item for a pool thread. Without ``block`` (the executor
        draining its queue as it shuts down) any item, in order, limits aside.
        Once the executor has sent its stop signal, the limit on other items
        no longer holds, and the signal comes after every queued item."""
        with self._ready:
            if getattr(self._thread, "other", False):  # this thread's last item is done
                self._thread.other = False
                self._running_other -= 1
                if self._other:
                    self._ready.notify()
            if not block:
                return self._take_any()
            if not self._ready.wait_for(self._can_take, timeout):
                raise queue.Empty
            other_open = bool(self._other) and (
                self._running_other < self.other_limit or self._stops > 0
            )
            if self._urgent and (not other_open or self._streak < self.burst):
                self._streak = self._streak + 1 if other_open else 0
                return self._urgent.popleft()
            if other_open:
                self._streak = 0
                self._running_other += 1
                self._thread.other = True
                return self._other.popleft()
            self._stops -= 1
            return None

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def _take_any(self) -> Any:
        if self._urgent:
            return self._urgent.popleft()
        if self._other:
            return self._other.popleft()
        if self._stops:
            self._stops -= 1
            return None
        raise queue.Empty

    def _can_take(self) -> bool:
        return bool(
            self._urgent or self._stops or (self._other and self._running_other < self.other_limit)
        )

    def qsize(self) -> int:
        with self._ready:
            return len(self._urgent) + len(self._other) + self._stops

    def empty(self) -> bool:
        return self.qsize() == 0


class LanedThreadPool(futures.ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` whose queue is a ``LaneQueue``."""

    def __init__(
        self, max_workers: int, reserved: int = URGENT_THREADS, burst: int = URGENT_BURST
    ) -> None:
        super().__init__(max_workers=max_workers)
        # (its threads start on the first submit, with this queue)
        self._work_queue = LaneQueue(max_workers - reserved, burst)


class LanedThreadWorker(ThreadWorker):
    """gunicorn's gthread worker whose queue has an urgent lane, and whose
    closing of a connection never waits (module docstring)."""

    def init_process(self) -> None:
        # Sockets half-closed and waiting for their client's end, oldest first.
        self.lingering: deque[Lingering] = deque()
        self.stop_by: float | None = None  # when a stopping worker closes its parked connections
        super().init_process()

    def load_wsgi(self) -> None:
        """gunicorn's, then everything the application made at start-up moves
        out of the garbage collector's sight (``gc.freeze``): a full
        collection no longer walks Django's hundreds of thousands of
        start-up objects with every thread stopped (up to 180 ms a time in
        ``make soak``; about 50 ms after). And the site's settings must leave
        the bulkhead room (``bulkhead_room_check``)."""
        super().load_wsgi()
        from django.conf import settings

        if settings.configured and not self.cfg.is_ssl:  # (a failure here stops the server)
            bulkhead_room_check(
                self.cfg.threads,
                urgent_threads(self.cfg.threads),
                getattr(settings, "PASSWORD_HASH_CONCURRENCY", 0)
                + getattr(settings, "PASSWORD_HASH_QUEUE", 0),
            )
        gc.collect()
        gc.freeze()

    def get_thread_pool(self) -> futures.ThreadPoolExecutor:
        if self.cfg.is_ssl:
            # gunicorn terminates TLS itself: the bytes on the socket are
            # encrypted, so no request can be told urgent; gunicorn's own pool
            # keeps every thread for every request.
            return super().get_thread_pool()
        return LanedThreadPool(
            max_workers=self.cfg.threads, reserved=urgent_threads(self.cfg.threads)
        )

    def enqueue_req(self, conn) -> None:
        if self.cfg.is_ssl:
            super().enqueue_req(conn)
            return
        if conn.parser is not None and conn.parser.unreader.buf.getvalue():
            # A pipelined request gunicorn has already read into its buffer
            # (what is on the socket is the request after it).
            conn.urgent = False
            super().enqueue_req(conn)
            return
        head = request_head(conn.sock)
        if head is None and not conn.initialized and not conn.data_ready and self.alive:
            # A new connection with nothing sent yet: wait on the poller, as
            # gunicorn's deferral does (it is enqueued again when readable).
            conn.sock.setblocking(False)
            conn.timeout = time.monotonic() + DEFAULT_WORKER_DATA_TIMEOUT + self.cfg.keepalive
            self.pending_conns.append(conn)
            self.poller.register(
                conn.sock,
                selectors.EVENT_READ,
                functools.partial(self.on_pending_socket_readable, conn),
            )
            return
        if head is not None and not conn.initialized:
            conn.data_ready = True  # no need for the thread to wait for it
        conn.urgent = request_is_urgent(head)
        super().enqueue_req(conn)

    # --- closing without waiting ------------------------------------------------------

    def finish_request(self, conn, fs) -> None:
        """gunicorn's, except for a connection it closes gracefully: gunicorn
        half-closes it and then reads on the main thread, blocking, until the
        client closes its end (up to 2 s). Meanwhile the worker accepts
        nothing and hands nothing to its threads; a client that reads its
        answer and keeps the connection open stalls the whole worker for 2 s,
        again and again. Here the socket lingers on the poller instead."""
        try:
            closing = not fs.cancelled() and fs.exception() is None and not fs.result()
        except Exception:  # gunicorn's own path decides
            closing = False
        if not closing:
            super().finish_request(conn, fs)
            return
        sock = conn.sock
        try:
            sock.shutdown(socket.SHUT_WR)  # the FIN after the answer (RFC 9112 §9.6)
            sock.setblocking(False)
        except OSError:
            self._closed(sock)
            return
        entry = Lingering(sock, time.monotonic() + LINGER_SECONDS)
        try:
            self.poller.register(
                sock, selectors.EVENT_READ, functools.partial(self._linger_readable, entry)
            )
        except (ValueError, KeyError, OSError):
            self._closed(sock)
            return
        self.lingering.append(entry)

    def _linger_readable(self, entry: Lingering, _sock) -> None:
        """Drain what the client still sends, without waiting; close at its end."""
        try:
            while entry.drained < LINGER_MAX_DRAIN:
                data = entry.sock.recv(4096)
                if not data:
                    break
                entry.drained += len(data)
        except (BlockingIOError, InterruptedError):
            return  # nothing more for now: stay on the poller
        except OSError:
            pass
        self._linger_end(entry)

    def _linger_end(self, entry: Lingering) -> None:
        if entry.done:
            return
        entry.done = True
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(entry.sock)
        self._closed(entry.sock)

    def _closed(self, sock: socket.socket) -> None:
        self.nr_conns -= 1
        with contextlib.suppress(OSError):
            sock.close()

    def murder_pending(self) -> None:
        """gunicorn's, and the lingering sockets whose time is up (called at
        every turn of the worker's loop). A stopping worker gives connections
        that have sent nothing yet ``STOP_KEEPALIVE_LINGER`` at most, as
        gunicorn gives its kept-alive ones."""
        if not self.alive and self.pending_conns:
            if self.stop_by is None:
                self.stop_by = time.monotonic() + STOP_KEEPALIVE_LINGER
            for conn in self.pending_conns:
                conn.timeout = min(conn.timeout, self.stop_by)
        super().murder_pending()
        now = time.monotonic()
        while self.lingering and (self.lingering[0].done or self.lingering[0].deadline <= now):
            self._linger_end(self.lingering.popleft())
