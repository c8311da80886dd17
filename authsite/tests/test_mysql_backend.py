"""The MySQL/MariaDB backend pings only a connection that sat idle, or whose
socket shows that the server closed it
(``authsite/backends/mysql/base.py``).

Each test drives a connection of its own through Django's request cycle the
way a worker thread does: ``close_if_unusable_or_obsolete`` when a request
starts and when it ends (Django's ``close_old_connections``), a cursor in
between. The ping is Django's ``is_usable``; the tests count its calls.
"""

from __future__ import annotations

import time

import pytest
from django.db import DatabaseError, connection, connections

from authsite.testing.bulkhead import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker_connection():
    if connection.vendor != "mysql":
        pytest.skip("the MySQL/MariaDB backend: runs when DATABASE_URL points at MariaDB")
    conn = connections.create_connection("default")
    pings: list[bool] = []
    real_is_usable = conn.is_usable

    def counted_is_usable() -> bool:
        usable = real_is_usable()
        pings.append(usable)
        return usable

    conn.is_usable = counted_is_usable
    conn.pings = pings
    try:
        yield conn
    finally:
        conn.close()


def request(conn, sql: str = "SELECT CONNECTION_ID()"):
    """One request's use of the connection: start, one query, end."""
    conn.close_if_unusable_or_obsolete()
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]
    finally:
        conn.close_if_unusable_or_obsolete()


def kill(conn) -> None:
    """The server drops the connection (as a restart or wait_timeout would)."""
    with connection.cursor() as cursor:
        cursor.execute("KILL CONNECTION %s", [conn.connection.thread_id()])


def test_the_backend_is_authsites_on_mysql(worker_connection):
    from authsite.backends.mysql.base import DatabaseWrapper

    assert isinstance(worker_connection, DatabaseWrapper)
    request(worker_connection)
    assert worker_connection.health_check_enabled  # set when it connects


def test_a_connection_that_just_answered_is_not_pinged_again(worker_connection):
    first = request(worker_connection)  # a new connection needs no ping
    assert worker_connection.answered_at is not None
    for _ in range(3):
        assert request(worker_connection) == first  # the same connection
    assert worker_connection.pings == []


def test_a_connection_idle_for_longer_is_pinged_and_replaced_when_the_server_dropped_it(
    worker_connection, settings
):
    first = request(worker_connection)
    kill(worker_connection)
    worker_connection.answered_at = time.monotonic() - settings.DB_PING_AFTER_IDLE - 0.1

    second = request(worker_connection)  # no error: the ping found it gone

    assert worker_connection.pings == [False]
    assert second != first
    worker_connection.answered_at = time.monotonic() - settings.DB_PING_AFTER_IDLE - 0.1
    assert request(worker_connection) == second
    assert worker_connection.pings == [False, True]


def test_a_connection_the_server_dropped_within_the_second_is_found_out_and_replaced(
    worker_connection,
):
    """A restart or a KILL closes the server's end: the FIN waiting on the
    socket sends the connection to Django's ping, which replaces it, so the
    request does not fail (the outage integration test restarts MariaDB in
    under a second)."""
    first = request(worker_connection)
    assert worker_connection.socket_quiet()  # an idle, healthy connection
    kill(worker_connection)
    wait_for(lambda: not worker_connection.socket_quiet(), what="the server's FIN")

    second = request(worker_connection)

    assert worker_connection.pings == [False]
    assert second != first
    assert worker_connection.answered_at is not None


def test_a_request_that_met_a_database_error_does_not_vouch_for_the_connection(
    worker_connection,
):
    request(worker_connection)
    answered = worker_connection.answered_at
    with pytest.raises(DatabaseError):
        request(worker_connection, "SELECT * FROM no_such_table_anywhere")
    # The error made Django check the connection when the request ended (it is
    # fine, so it is kept), but the request did not count as an answer.
    assert worker_connection.pings == [True]
    assert worker_connection.answered_at == answered


def test_a_connection_checked_after_an_error_is_pinged_again_when_it_has_idled(
    worker_connection, settings
):
    """Django's own ping after a failed request leaves its flag set for the
    next request: that must not count as the connection having answered."""
    request(worker_connection)
    with pytest.raises(DatabaseError):
        request(worker_connection, "SELECT * FROM no_such_table_anywhere")
    worker_connection.answered_at = time.monotonic() - settings.DB_PING_AFTER_IDLE - 0.1

    request(worker_connection)

    # The check after the error, then the ping the idle connection is owed.
    assert worker_connection.pings == [True, True]


def test_a_request_that_never_touched_the_database_does_not_vouch_for_it(
    worker_connection, settings
):
    request(worker_connection)
    worker_connection.answered_at = time.monotonic() - settings.DB_PING_AFTER_IDLE - 0.1
    for _probe in range(2):  # /healthz: the request starts and ends, no cursor
        worker_connection.close_if_unusable_or_obsolete()
        worker_connection.close_if_unusable_or_obsolete()

    request(worker_connection)

    assert worker_connection.pings == [True]


def test_pinging_before_every_request_as_django_does(worker_connection, settings):
    settings.DB_PING_AFTER_IDLE = 0
    request(worker_connection)
    request(worker_connection)
    request(worker_connection)
    assert worker_connection.pings == [True, True]


def test_the_socket_check_of_a_driver_connection_closed_behind_djangos_back_says_ping(
    worker_connection,
):
    """mysqlclient's fileno() raises its own OperationalError on a closed
    connection: the socket check answers "not quiet" (Django's ping then
    decides, as without this backend) instead of raising a driver error
    that nothing above would turn into the 503 envelope."""
    request(worker_connection)
    raw = worker_connection.connection
    raw.close()  # not through Django: it still holds the connection
    try:
        assert worker_connection.socket_quiet() is False
    finally:
        worker_connection.connection = None  # already closed; nothing to close
