"""Django's MySQL/MariaDB backend, with the connection health check at most
once per ``HEALTH_CHECK_INTERVAL`` seconds per connection.

With ``CONN_HEALTH_CHECKS`` Django pings a persistent connection before the
first query of every request, so that a connection the database dropped (a
restart, a failover) is replaced instead of failing the request. That ping is
a round trip on every request that touches the database — on the bench
machine about 50 µs of the worker's CPU (the kernel's loopback work is billed
to the process that sends), a twentieth of a ``GET /auth/me``, and a network
round trip of latency against a database on another host.

Here a connection pings only when it has not been checked (or opened) for
``HEALTH_CHECK_INTERVAL`` seconds (``CONN_HEALTH_CHECK_INTERVAL``, default 1;
0 checks before every request, as Django does). A connection that dropped in
the second after its last check fails the request that finds it — answered
503 ``service_unavailable`` (``authsite.api``), as any request is while the
database is away — and Django closes it after that request (it checks a
connection that saw an error), so the next one connects afresh.
"""

from __future__ import annotations

import time

from django.db.backends.mysql import base


class DatabaseWrapper(base.DatabaseWrapper):
    # When this connection was last found usable (opened or checked), monotonic.
    health_checked_at = float("-inf")

    def connect(self) -> None:
        super().connect()
        self.health_checked_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        now = time.monotonic()
        if now - self.health_checked_at < self.settings_dict.get("HEALTH_CHECK_INTERVAL", 1.0):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
        if self.connection is not None:
            self.health_checked_at = now
