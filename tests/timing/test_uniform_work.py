"""Registered and unregistered addresses cost the same (SPEC §14 rules 1-2, §5.3).

Forgot-password and code requests answer alike for registered, unregistered
and disabled addresses, and sign-up alike for a fresh address and a verified
account's; here the *work* behind those answers is held equal, which is what
makes their times equal: the same database statements (the same writes, to
the same tables, in the same order, and as many reads), the same number of
password-hasher calls, and delivery that leaves the request path.

The benchmark (`make bench`) shows the resulting medians; these tests pin the
causes, so a change that makes one path do more work fails here at once.
"""

from __future__ import annotations

import re
import threading
from collections import Counter

import pytest
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    PBKDF2PasswordHasher,
    PBKDF2SHA1PasswordHasher,
)
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.helpers import comparable_json
from otp.delivery import wait_for_deliveries
from otp.models import OneTimeCode

PASSWORD = "Correct-Horse-9-Battery"
FORGOT = "/api/v1/auth/password/forgot"
CODE_REQUEST = "/api/v1/auth/otp/request"
SIGNUP = "/api/v1/auth/signup"

_WRITE = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+[`"]?(\w+)', re.IGNORECASE)
_SAVEPOINT = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.IGNORECASE)


class Work:
    """What one request cost: its statements, in order, and its hasher calls."""

    def __init__(self, statements: list[str], hashes: int, response) -> None:
        self.statements = statements
        self.hashes = hashes
        self.response = response

    @property
    def writes(self) -> list[tuple[str, str]]:
        found = (_WRITE.match(sql) for sql in self.statements)
        return [(m.group(1).upper(), m.group(2).lower()) for m in found if m]

    @property
    def shape(self) -> list[str]:
        """Every statement but savepoint bookkeeping, reduced to its kind and table."""
        shape = []
        for sql in self.statements:
            if _SAVEPOINT.match(sql):
                continue
            words = re.sub(r'[`"]', "", sql).split()
            upper = [w.upper() for w in words]
            table = next(
                (words[upper.index(k) + 1] for k in ("FROM", "INTO", "UPDATE") if k in upper), ""
            )
            shape.append(f"{upper[0]} {table}".strip())
        return shape

    @property
    def savepoint_statements(self) -> int:
        return sum(1 for sql in self.statements if _SAVEPOINT.match(sql))


@pytest.fixture
def hasher_calls(monkeypatch):
    """Count every password hash made or checked, whichever hasher."""
    calls = Counter()
    for hasher in (Argon2PasswordHasher, PBKDF2PasswordHasher, PBKDF2SHA1PasswordHasher):
        for method in ("encode", "verify"):
            original = getattr(hasher, method)

            def counted(self, *args, _original=original, _name=method, **kwargs):
                calls[_name] += 1
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(hasher, method, counted)
    return calls


@pytest.fixture
def measure(api_client, hasher_calls):
    def run(path: str, body: dict) -> Work:
        before = sum(hasher_calls.values())
        with CaptureQueriesContext(connection) as queries:
            response = api_client.post(path, body, format="json")
        statements = [q["sql"] for q in queries.captured_queries]
        return Work(statements, sum(hasher_calls.values()) - before, response)

    return run


@pytest.fixture
def accounts(make_user):
    """A registered (verified, active) address and a disabled one, by email and by phone."""
    return {
        "registered": make_user(email="known@example.com"),
        "disabled": make_user(email="gone@example.com", is_active=False),
        "registered_phone": make_user(phone="+919876543210"),
        "disabled_phone": make_user(phone="+919876543211", is_active=False),
    }


def assert_same_work(*runs: Work) -> None:
    first = runs[0]
    assert first.writes, "the request wrote nothing: the comparison would be empty"
    for other in runs[1:]:
        assert other.response.status_code == first.response.status_code
        assert other.response.json()["message"] == first.response.json()["message"]
        assert set(other.response.json()["data"]) == set(first.response.json()["data"])
        assert other.writes == first.writes
        assert other.shape == first.shape
        assert other.hashes == first.hashes
        # A savepoint rolled back takes ROLLBACK TO + RELEASE where a kept one
        # takes RELEASE: one bookkeeping statement, no row touched.
        assert abs(other.savepoint_statements - first.savepoint_statements) <= 1


# --- forgot-password and code requests: registered, unregistered, disabled ---------


@pytest.mark.django_db
@pytest.mark.parametrize("path", [FORGOT, CODE_REQUEST])
def test_code_requests_cost_the_same_for_every_email_address(measure, accounts, path):
    registered = measure(path, {"email": "known@example.com"})
    unregistered = measure(path, {"email": "nobody@example.com"})
    disabled = measure(path, {"email": "gone@example.com"})
    assert registered.writes == [
        ("INSERT INTO", "otp_coderequestlock"),
        ("INSERT INTO", "otp_onetimecode"),
        ("INSERT INTO", "accounts_securityevent"),
    ]
    assert registered.hashes == 0
    assert_same_work(registered, unregistered, disabled)


@pytest.mark.django_db
@pytest.mark.parametrize("path", [FORGOT, CODE_REQUEST])
def test_code_requests_cost_the_same_for_every_phone_number(measure, accounts, path):
    registered = measure(path, {"phone": "+919876543210"})
    unregistered = measure(path, {"phone": "+919876543219"})
    disabled = measure(path, {"phone": "+919876543211"})
    assert_same_work(registered, unregistered, disabled)


# --- sign-up: a fresh address and a verified account's -----------------------------------


@pytest.mark.django_db
def test_signup_costs_the_same_for_a_fresh_a_pending_and_a_verified_accounts_address(
    measure, accounts, clock
):
    pending_first = measure(SIGNUP, {"email": "pending@example.com", "password": PASSWORD})
    clock.advance(31)  # past the cooldown of that address
    fresh = measure(SIGNUP, {"email": "fresh@example.com", "password": PASSWORD})
    pending = measure(SIGNUP, {"email": "pending@example.com", "password": PASSWORD})
    taken = measure(SIGNUP, {"email": "known@example.com", "password": PASSWORD})
    assert fresh.response.status_code == 201
    # Every sign-up writes an attempt (never an account), its code and its event.
    assert fresh.writes == [
        ("INSERT INTO", "accounts_signupattempt"),
        ("INSERT INTO", "otp_coderequestlock"),
        ("INSERT INTO", "otp_onetimecode"),
        ("INSERT INTO", "accounts_securityevent"),
    ]
    assert fresh.hashes == 1
    assert_same_work(fresh, pending, taken, pending_first)
    assert not User.objects.filter(email__in=["fresh@example.com", "pending@example.com"]).exists()
    for run in (fresh, pending, taken):
        assert "user_id" not in run.response.json()["data"]


@pytest.mark.django_db
def test_signup_with_phone_and_email_costs_the_same_either_way(measure, accounts):
    fresh = measure(
        SIGNUP, {"phone": "+919812345678", "email": "a@example.com", "password": PASSWORD}
    )
    taken = measure(
        SIGNUP, {"phone": "+919876543210", "email": "b@example.com", "password": PASSWORD}
    )
    owned_email = measure(
        SIGNUP, {"phone": "+919812345670", "email": "known@example.com", "password": PASSWORD}
    )
    # Both destinations' locks first, in sorted order (the order an account's
    # deletion takes them in: tests/attacks/test_signup_while_account_deleted.py),
    # then the attempt, the phone's code, the pending email's code (each
    # behind its destination's lock, already held), the event.
    assert [table for _verb, table in fresh.writes] == [
        "otp_coderequestlock",
        "otp_coderequestlock",
        "accounts_signupattempt",
        "otp_coderequestlock",
        "otp_onetimecode",
        "otp_coderequestlock",
        "otp_onetimecode",
        "accounts_securityevent",
    ]
    assert_same_work(fresh, taken, owned_email)
    # The pending email of a sign-up that can never complete is sent nothing,
    # nor is an email that belongs to an account.
    for email in ("b@example.com", "known@example.com"):
        pending = OneTimeCode.objects.get(destination=email, purpose="contact_change")
        assert pending.delivery_status == OneTimeCode.DeliveryStatus.SKIPPED


@pytest.mark.django_db
def test_password_signin_hashes_once_for_an_account_an_attempt_and_nobody(
    measure, accounts, api_client
):
    api_client.post(SIGNUP, {"email": "attempt@example.com", "password": PASSWORD}, format="json")
    wrong = "Wrong-Horse-9-Battery"
    runs = {
        email: measure("/api/v1/auth/login", {"email": email, "password": wrong})
        for email in ("known@example.com", "attempt@example.com", "nobody@example.com")
    }
    for run in runs.values():
        assert run.response.status_code == 401
        assert run.hashes == 1
    shapes = {tuple(run.shape) for run in runs.values()}
    assert len(shapes) == 1, shapes


@pytest.mark.django_db
def test_signup_to_a_disabled_account_costs_the_same_as_a_fresh_one(measure, accounts):
    fresh = measure(SIGNUP, {"email": "fresh@example.com", "password": PASSWORD})
    disabled = measure(SIGNUP, {"email": "gone@example.com", "password": PASSWORD})
    assert_same_work(fresh, disabled)
    assert not mail.outbox or all("gone@example.com" not in m.to for m in mail.outbox)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"password": "password"}, "password"),
        ({"password": PASSWORD, "username": "Taken"}, "username"),
    ],
)
def test_signup_refuses_alike_whoever_holds_the_address(
    api_client, accounts, make_user, extra, field
):
    # A weak password or a taken username used to be checked on the fresh
    # path only: a verified account's address answered 201, telling them apart.
    make_user(email="other@example.com", username="taken")
    fresh = api_client.post(SIGNUP, {"email": "fresh@example.com", **extra}, format="json")
    taken = api_client.post(SIGNUP, {"email": "known@example.com", **extra}, format="json")
    assert fresh.status_code == taken.status_code == 400
    assert comparable_json(fresh) == comparable_json(taken)
    assert field in fresh.json()["errors"]


# --- delivery leaves the request path ---------------------------------------------------------


class BlockingEmailBackend(EmailBackend):
    """The locmem backend, held until the test lets it go: a slow provider."""

    release = threading.Event()
    entered = threading.Event()

    def send_messages(self, messages):
        type(self).entered.set()
        assert type(self).release.wait(10), "the test never released the backend"
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_delivery_in_thread_mode_does_not_hold_up_the_answer(api_client, accounts, settings):
    settings.OTP_DELIVERY_MODE = "thread"
    settings.EMAIL_BACKEND = f"{__name__}.BlockingEmailBackend"
    BlockingEmailBackend.release.clear()
    BlockingEmailBackend.entered.clear()
    try:
        response = api_client.post(FORGOT, {"email": "known@example.com"}, format="json")
        # Answered while the message is still stuck in the (blocked) provider.
        assert response.status_code == 200
        assert BlockingEmailBackend.entered.wait(5)
        assert mail.outbox == []
    finally:
        BlockingEmailBackend.release.set()
    assert wait_for_deliveries(timeout=10)
    assert [m.to for m in mail.outbox] == [["known@example.com"]]
    code = OneTimeCode.objects.get(destination="known@example.com")
    assert code.delivery_status == OneTimeCode.DeliveryStatus.SENT


# --- after the answer: the delivery job ------------------------------------------------------


@pytest.fixture
def worker_statements(monkeypatch):
    """A function giving a fresh list that collects every statement run by
    threads other than the test's own (the delivery pool), with its
    parameters and the number of rows it matched. It watches the cursor
    class, since pool threads keep (or reopen) connections of their own."""
    here = threading.get_ident()
    sinks: list[list[tuple[str, tuple, int]]] = []
    original = CursorWrapper.execute

    def execute(self, sql, params=None):
        result = original(self, sql, params)
        if threading.get_ident() != here and sinks:
            sinks[-1].append((sql, tuple(params or ()), self.rowcount))
        return result

    monkeypatch.setattr(CursorWrapper, "execute", execute)

    def collect() -> list[tuple[str, tuple, int]]:
        sinks.append([])
        return sinks[-1]

    return collect


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "delivered", "rehearsed"),
    [
        (FORGOT, {"email": "known@example.com"}, {"email": "nobody@example.com"}),
        (FORGOT, {"phone": "+919876543210"}, {"phone": "+919876543219"}),
        # A code request for a disabled account's address is sent nothing.
        (CODE_REQUEST, {"email": "known@example.com"}, {"email": "gone@example.com"}),
    ],
    ids=["forgot-email", "forgot-phone", "code-request-disabled"],
)
def test_the_delivery_job_writes_alike_for_a_sent_and_a_rehearsed_code(
    api_client, accounts, settings, worker_statements, path, delivered, rehearsed
):
    """With the worker pool, a code that is sent and one that is only rehearsed
    end with the same one-row UPDATE, and both are real changes: the row is
    stored "pending" either way and becomes "sent" or "skipped". An UPDATE
    that changes nothing is much cheaper for the database (no log write to
    sync), and that difference showed in the benchmark's medians."""
    settings.OTP_DELIVERY_MODE = "thread"
    jobs = {}
    for name, body in (("sent", delivered), ("skipped", rehearsed)):
        seen = worker_statements()
        assert api_client.post(path, body, format="json").status_code == 200
        assert wait_for_deliveries(timeout=10)
        jobs[name] = list(seen)

    for status, seen in jobs.items():
        writes = [(sql, params, rows) for sql, params, rows in seen if _WRITE.match(sql)]
        assert len(writes) == 1, writes
        ((sql, params, rows),) = writes
        assert _WRITE.match(sql).groups()[0].upper() == "UPDATE"
        assert "otp_onetimecode" in sql
        assert rows == 1
        # SET delivery_status = <status> WHERE delivery_status = 'pending' AND id = …
        assert params[0] == status
        assert "pending" in params[1:]
    shapes = [Work([sql for sql, _p, _r in seen], 0, None).shape for seen in jobs.values()]
    assert shapes[0] == shapes[1]
    statuses = OneTimeCode.objects.order_by("id").values_list("delivery_status", flat=True)
    assert list(statuses) == ["sent", "skipped"]
