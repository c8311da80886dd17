"""What the service tests share: identifiers, the client, delivery after
commit, and reading back the rows and events a flow left behind."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.test import TestCase

from accounts.identifiers import EMAIL, PHONE, USERNAME, Identifier
from accounts.models import SecurityEvent, User
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD

PASSWORD = STRONG_PASSWORD
WRONG = "Wrong-Horse-9-Battery"
NEW_PASSWORD = "Another-Stable-7-Lantern"
PHONE_NUMBER = "+919876543210"
CLIENT = ClientInfo(ip="203.0.113.7", user_agent="service-tests/1.0")


def email(value: str) -> Identifier:
    return Identifier(EMAIL, value)


def phone(value: str) -> Identifier:
    return Identifier(PHONE, value)


def username(value: str) -> Identifier:
    return Identifier(USERNAME, value)


@contextmanager
def delivered() -> Iterator[None]:
    """Run the block as a request would: its work commits, then the messages
    scheduled after commit are delivered (``OTP_DELIVERY_MODE=sync``)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


def event_kinds(user: User | None = None) -> list[str]:
    """The kinds of the events recorded (for ``user``, or all), oldest first."""
    events = SecurityEvent.objects.order_by("created_at", "id")
    if user is not None:
        events = events.filter(user=user)
    return list(events.values_list("kind", flat=True))


_SAVEPOINT = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.IGNORECASE)


def statement_shape(captured: list[dict]) -> list[str]:
    """The statements of a ``CaptureQueriesContext``, each reduced to its verb
    and table ("INSERT otp_onetimecode"), savepoint bookkeeping left out."""
    shape = []
    for query in captured:
        sql = query["sql"]
        if _SAVEPOINT.match(sql):
            continue
        words = re.sub(r'[`"]', "", sql).split()
        upper = [w.upper() for w in words]
        table = next(
            (words[upper.index(k) + 1] for k in ("FROM", "INTO", "UPDATE") if k in upper), ""
        )
        shape.append(f"{upper[0]} {table}".strip())
    return shape
