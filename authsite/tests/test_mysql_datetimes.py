"""``DATETIME`` values read with ``datetime.fromisoformat``: the same values
as mysqlclient's ``DateTime_or_None`` (``authsite/backends/mysql/base.py``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from django.db import connection
from MySQLdb.constants import FIELD_TYPE
from MySQLdb.times import DateTime_or_None

from authsite.backends.mysql.base import datetime_or_none

ODD = [
    "0000-00-00 00:00:00",  # MySQL's zero date: None
    "2026-02-30 00:00:00",  # no such day: None
    "2026-12-07 24:00:00",
    "2026-12-07",  # a date alone: a date, not a datetime
    "2026-12-07 21:00",
    "2026-12-07 21:00:00.",
    "2026-12-07 21:00:00.1234567",  # more than six digits: None
    "2026-12-07 21:00:00+01:00",
    "2026-12-07T21:00:00",
    "2026-12-07 21:00:00.12x",
    "9999-12-31 23:59:59.999999",
    "0001-01-01 00:00:00",
    "",
]


def samples(count: int = 3000) -> list[str]:
    rng = random.Random(20261207)
    start = datetime(1, 1, 1)
    out = []
    for _ in range(count):
        moment = start + timedelta(
            seconds=rng.randrange(0, 315_537_897_599), microseconds=rng.randrange(0, 1_000_000)
        )
        text = moment.isoformat(sep=" ", timespec="microseconds")
        digits = rng.randrange(0, 7)  # DATETIME(0) … DATETIME(6)
        out.append(text[:19] if digits == 0 else text[: 20 + digits])
    return out


@pytest.mark.parametrize("text", ODD)
def test_odd_text_gets_mysqlclients_answer(text):
    expected = DateTime_or_None(text)
    got = datetime_or_none(text)
    assert (got, type(got)) == (expected, type(expected))


def test_every_precision_gets_the_same_value_as_mysqlclients_parser():
    for text in samples():
        expected = DateTime_or_None(text)
        assert expected is not None, text
        got = datetime_or_none(text)
        assert (got, type(got)) == (expected, type(expected)), text


@pytest.mark.django_db
def test_the_connection_reads_datetimes_with_it():
    if connection.vendor != "mysql":
        pytest.skip("the MySQL/MariaDB backend: runs when DATABASE_URL points at MariaDB")
    connection.ensure_connection()
    conv = connection.connection.converter
    assert conv[FIELD_TYPE.DATETIME] is datetime_or_none
    assert conv[FIELD_TYPE.TIMESTAMP] is datetime_or_none
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CAST('2026-12-07 21:00:00.123456' AS DATETIME(6)),"
            " CAST('2026-12-07 21:00:01' AS DATETIME), CAST('2026-12-07 21:00:02.5' AS DATETIME(1)),"
            " CAST(NULL AS DATETIME)"
        )
        row = cursor.fetchone()
    assert row == (
        datetime(2026, 12, 7, 21, 0, 0, 123456),
        datetime(2026, 12, 7, 21, 0, 1),
        datetime(2026, 12, 7, 21, 0, 2, 500000),
        None,
    )
