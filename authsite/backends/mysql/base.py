"""Django's MySQL/MariaDB backend, pinging only a connection that sat idle.

With ``CONN_HEALTH_CHECKS`` Django pings a persistent connection before the
first query of every request, so that one the server dropped (a restart, a
``KILL``, ``wait_timeout``) is replaced instead of failing the request. Under
load that ping is a second round trip for every request whose work is one
query (``GET /auth/me``: the session lookup), and the server has just
answered on that connection.

Here a connection that answered within ``DB_PING_AFTER_IDLE`` seconds
(default 1; a request or delivery job that ended with no database error
marks the time) is checked without a round trip: its socket is polled, with
no wait. A server that closed the connection — it exited, was restarted, or
killed it — has sent a FIN (or an error packet) that is waiting there, so the
poll reports it and the connection gets Django's ping, which fails and
replaces it. An idle connection's socket has nothing to read; the check is
one ``poll`` call. A connection idle for longer is pinged as before.

What it does not catch: a connection dropped silently within that second —
a middlebox (NAT, a load balancer, a moved virtual IP) that forgets it
without telling either end. Django's ping would find that out (a reset, or
the same TCP timeout); here the request's first query fails (503
``service_unavailable``) and the connection is closed when the request ends.
``DB_PING_AFTER_IDLE=0`` pings before every request again, as Django does.

The same check guards the go-sql-driver/mysql connection pool
(``conncheck.go``). An earlier version that skipped the check within the
second lost a delivery job when the outage integration test's MariaDB
restarted in under a second (``tests/integration/test_database_outage.py``).

It also reads ``DATETIME`` and ``TIMESTAMP`` values with the C parser of
``datetime.fromisoformat`` where mysqlclient's ``DateTime_or_None`` slices
the text and calls ``int`` six times in Python: a tenth of the time, for the
same value (``datetime_or_none``). The session lookup behind every signed-in
API call reads eleven of them (the session's and its user's).

``DATABASE_URL=mysql://…`` selects it (``authsite/settings/base.py``).
"""

from __future__ import annotations

import select
import time
from datetime import datetime

from django.conf import settings
from django.db.backends.mysql import base
from MySQLdb.constants import FIELD_TYPE
from MySQLdb.times import DateTime_or_None

# Anything on an idle connection's socket means it is not as the request left it.
_ANYTHING = select.POLLIN | select.POLLPRI | getattr(select, "POLLRDHUP", 0)


def datetime_or_none(text: str) -> datetime | None:
    """mysqlclient's ``DateTime_or_None``, with ``datetime.fromisoformat`` for
    the text the server sends for a ``DATETIME(0…6)``: ``YYYY-MM-DD
    HH:MM:SS`` and up to six digits of a second. Anything else (a zero date,
    a date alone, more digits) is left to ``DateTime_or_None``, which gives
    ``None`` or a ``date`` where ``fromisoformat`` would answer otherwise."""
    size = len(text)
    if size == 19 or (20 < size <= 26 and text[19] == "."):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    return DateTime_or_None(text)


class DatabaseWrapper(base.DatabaseWrapper):
    # time.monotonic() when a request that used the connection ended without
    # a database error; None before the first.
    answered_at: float | None = None
    # A cursor was opened since the last close_if_unusable_or_obsolete.
    cursor_opened: bool = False

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        params["conv"] = {
            **params["conv"],
            FIELD_TYPE.DATETIME: datetime_or_none,
            FIELD_TYPE.TIMESTAMP: datetime_or_none,
        }
        return params

    def close_if_unusable_or_obsolete(self) -> None:
        # Called when a request starts and when it ends (Django's
        # close_old_connections). Only a request that ran its queries without
        # a database error vouches for the connection: not Django's own ping
        # after an error (it leaves health_check_done set for the next call),
        # and not a request that never touched the database.
        answered = self.cursor_opened and not self.errors_occurred
        self.cursor_opened = False
        super().close_if_unusable_or_obsolete()
        if answered and self.connection is not None:
            self.answered_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        # Django calls this first whenever a cursor is opened.
        self.cursor_opened = True
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and self.answered_at is not None
            and time.monotonic() - self.answered_at < settings.DB_PING_AFTER_IDLE
            and self.socket_quiet()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def socket_quiet(self) -> bool:
        """Nothing waiting on the connection's socket: no data, no end of
        stream, no error. Polled without waiting."""
        try:
            fd = self.connection.fileno()
            if fd < 0:
                return False
            poller = select.poll()
            poller.register(fd, _ANYTHING)
            return not poller.poll(0)
        except Exception:
            # The driver's connection closed behind Django's back (fileno()
            # raises MySQLdb's OperationalError), no socket, or a driver
            # without fileno(): Django's ping decides, and replaces it.
            return False

    def close(self) -> None:
        super().close()
        self.answered_at = None
