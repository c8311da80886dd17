"""What the two databases need to behave alike.

- **Exact comparison** (SPEC §22.1). MySQL/MariaDB compare text with the
  column's collation, and the usual ``utf8mb4_unicode_ci`` takes
  ``exámple.com`` for ``example.com`` and the dotless i for ``i``; SQLite compares
  bytes. Identifier columns (addresses, usernames, code destinations) are
  declared with ``ExactCharField`` / ``ExactEmailField``, which give them the
  binary collation ``utf8mb4_bin`` on MySQL — by migration, so an existing
  database is altered too — and nothing on SQLite, whose default is binary.
  Our normaliser (``accounts.identifiers``) is then the only folding there is.
- **SQLite's single writer.** ``retry_while_locked`` runs a block again while
  SQLite reports a lock (the shared-cache test database answers at once
  instead of waiting).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import OperationalError, connection, models

BINARY_COLLATION = "utf8mb4_bin"

_T = TypeVar("_T")

# How long a write keeps being retried while SQLite reports a lock.
LOCK_RETRY_SECONDS = 20


class ExactComparisonMixin:
    """A text column compared byte for byte on every database."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "mysql":
            params["collation"] = BINARY_COLLATION
        return params


class ExactCharField(ExactComparisonMixin, models.CharField):
    pass


class ExactEmailField(ExactComparisonMixin, models.EmailField):
    pass


# MySQL/MariaDB's ER_LOCK_DEADLOCK: the server rolled the whole transaction
# back and asks for it to be run again.
MYSQL_DEADLOCK = 1213


def is_deadlock(exc: BaseException) -> bool:
    """Whether ``exc`` is MySQL/MariaDB choosing this transaction as a
    deadlock's victim (its transaction is already rolled back)."""
    return isinstance(exc, OperationalError) and bool(exc.args) and exc.args[0] == MYSQL_DEADLOCK


def retry_while_locked(work: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``work(*args, **kwargs)`` (one statement or one atomic block), run again
    while SQLite reports a lock.

    For the services' blocks and the delivery worker's writes. SQLite has one
    writer at a time. A file database waits for the lock
    (``timeout`` in the settings, IMMEDIATE transactions), but a shared-cache
    database — the in-memory test database — answers "database table is
    locked" at once. The block is retried from its first read, which is safe
    only when it is the outermost transaction (a failed block rolled back
    entirely); inside a caller's transaction the error goes to the caller.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return work(*args, **kwargs)
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    delay = 0.002
    while True:
        try:
            return work(*args, **kwargs)
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.05)
