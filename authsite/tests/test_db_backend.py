"""The MySQL/MariaDB backend's health check (authsite/backends/mysql): a
persistent connection is pinged before a request's first query only when it
has not been checked or opened for HEALTH_CHECK_INTERVAL seconds, and a
connection the server dropped is still replaced once that is due."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def mysql():
    if connection.vendor != "mysql":
        pytest.skip("runs when DATABASE_URL points at MySQL/MariaDB (.ci/run does)")
    assert settings.DATABASES["default"]["ENGINE"] == "authsite.backends.mysql"
    connection.ensure_connection()
    return connection


def pings(monkeypatch, conn) -> list[int]:
    seen: list[int] = []
    usable = conn.is_usable

    def counted():
        seen.append(1)
        return usable()

    monkeypatch.setattr(conn, "is_usable", counted)
    return seen


def new_request(conn) -> None:
    # What Django does when a request starts (close_old_connections).
    conn.close_if_unusable_or_obsolete()


def test_a_connection_checked_a_moment_ago_is_not_pinged_again(mysql, monkeypatch):
    seen = pings(monkeypatch, mysql)
    mysql.health_checked_at = time.monotonic()
    for _ in range(3):
        new_request(mysql)
        mysql.close_if_health_check_failed()
    assert seen == []


def test_a_connection_idle_past_the_interval_is_pinged_once_per_request(mysql, monkeypatch):
    seen = pings(monkeypatch, mysql)
    mysql.health_checked_at = time.monotonic() - 5
    new_request(mysql)
    mysql.close_if_health_check_failed()
    mysql.close_if_health_check_failed()  # the request's next query
    assert seen == [1]
    new_request(mysql)
    mysql.close_if_health_check_failed()  # checked just now
    assert seen == [1]


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_is_replaced_when_its_check_is_due(mysql):
    import MySQLdb

    with mysql.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        first = cursor.fetchone()[0]
    db = settings.DATABASES["default"]
    other = MySQLdb.connect(
        host=db["HOST"] or "127.0.0.1",
        port=int(db["PORT"] or 3306),
        user=db["USER"],
        password=db["PASSWORD"],
    )
    try:
        other.cursor().execute("KILL CONNECTION %s", (first,))
    finally:
        other.close()
    mysql.health_checked_at = time.monotonic() - 5  # its check is due
    new_request(mysql)
    with mysql.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        second = cursor.fetchone()[0]
    assert second != first
