"""Attack: stall a gunicorn worker by not closing connections.

gunicorn 27's gthread worker closes a finished ``Connection: close`` request
gracefully on its main thread: it half-closes the socket and then *waits*,
reading, until the client closes its end or 2 s pass. A client that reads its
answer and keeps the socket open stops the worker from accepting or
dispatching anything for those 2 s; three such connections, 6 s; one every
2 s, forever, for the cost of a few idle sockets. (Found by ``make soak``,
where clients closing a few milliseconds late made every worker pause.)

authsite's worker (``authsite/serving.py``) half-closes the same way but
waits on its poller: the next client is answered at once, and the idle
sockets are still closed when their client closes or their 2 s are up.
"""

from __future__ import annotations

import time

from authsite.serving import LINGER_SECONDS
from authsite.testing.lanes import answer, lanes_server, send


def test_clients_that_never_close_do_not_stall_the_worker(tmp_path):
    with lanes_server(tmp_path, threads=2, urgent_threads=1) as (port, _gate, _process):
        holders = []
        for n in range(3):
            sock = send(port, f"/hold/{n}")
            assert answer(sock) == f"/hold/{n}".encode()
            holders.append(sock)  # read, never closed

        started = time.monotonic()
        other = send(port, "/next")
        assert answer(other, timeout=5) == b"/next"
        # gunicorn's own worker: about 6 s (2 s for each holder, in turn).
        assert time.monotonic() - started < 1.0
        other.close()

        # The server still ends the idle connections: FIN at once, closed
        # within its linger time (checked once a second by the worker loop).
        for sock in holders:
            sock.settimeout(LINGER_SECONDS + 3)
            assert sock.recv(1) == b""  # the server's FIN after the answer
            sock.close()


def test_a_half_closed_connection_is_closed_when_its_client_closes(tmp_path):
    """The usual case: the client closes after reading; the server's socket is
    closed then (not left until the linger time), so the worker's connection
    count comes back and it keeps accepting: 200 connections one after the
    other, in well under the linger time, through a worker that takes 50 at
    most at once."""
    with lanes_server(
        tmp_path, threads=2, urgent_threads=1, args=("--worker-connections", "50")
    ) as (port, _gate, _process):
        slowest = 0.0
        for n in range(200):
            started = time.monotonic()
            sock = send(port, f"/n/{n}")
            assert answer(sock) == f"/n/{n}".encode()
            sock.close()
            slowest = max(slowest, time.monotonic() - started)
        # Sockets left until their linger time would fill the 50 places: the
        # 51st connection would wait for the first of them to expire (~2 s).
        assert slowest < 1.0
        last = send(port, "/last")
        assert answer(last, timeout=5) == b"/last"
        last.close()
