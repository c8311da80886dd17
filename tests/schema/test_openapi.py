"""Schemathesis against our own OpenAPI document (issue 9).

Every operation of ``/api/v1/schema`` is called in-process through WSGI with
examples generated from the schema — valid ones and, as much, invalid ones —
and every response goes through all of schemathesis' checks plus ours
(``envelope_conformance``): no 5xx, the status, headers and body documented
for the operation, the SPEC §5.1 envelope with an error ``code`` that the
operation documents for that status, and nothing of a traceback or SQL.

Authenticated operations get a fresh verified user and token session per
example, so the examples that end a session (logout, "this wasn't me",
password change, account deletion) do not starve the next one. Half the
valid examples also get real values where random ones can only fail (the
user's own session id and event id in paths; the session's tokens, the
account's password and address, and codes issued for the purpose in
bodies), so the success paths are fuzzed too, the rest of each body as the
fuzzer made it.

Run with ``make schema`` (SQLite) or ``DATABASE_URL=mysql://… make schema``;
.ci/run does both. ``SCHEMA_EXAMPLES=500`` asks for more examples.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import secrets
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth.hashers import make_password
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test import TestCase
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.core.parameters import ParameterLocation

from accounts.models import SecurityEvent, SignupAttempt
from accounts.selectors import signup_token_hash
from accounts.services.events import event_record
from accounts.services.tokens import session_open
from accounts.services.users import user_create
from authsite import clock
from authsite.client import ClientInfo
from otp import services as otp
from tests.conformance.formats import register_formats
from tests.conformance.negatives import register_negative_body_check

# `make schema` (and .ci/run, on SQLite and MariaDB) runs these; `make test` does not.
pytestmark = pytest.mark.schema

# At least 50 per operation (issue 9); SCHEMA_EXAMPLES=500 make schema digs deeper.
MINIMUM_EXAMPLES = 50
EXAMPLES_PER_OPERATION = max(MINIMUM_EXAMPLES, int(os.environ.get("SCHEMA_EXAMPLES", "50")))
PASSWORD = "Fuzz-Correct-Horse-9"
STRONG = "Another-Strong-Pass-7"

# positive_data_acceptance: "a request the schema accepts is not refused". In
# this API a 400 is also how a well-formed request is refused for a business
# rule (SPEC §5.1: otp_invalid, current_password_incorrect, password_unchanged
# …) or for a rule JSON Schema cannot state (a phone number libphonenumber
# accepts, exactly one of email / phone, password strength). So 400 is
# expected here too; `envelope_conformance` still insists that its `code` is
# one the operation documents for 400. 5xx is dropped from the defaults:
# never expected.
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "database": "none"},
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
            },
        },
    }
)

register_formats()
register_negative_body_check()
schema = schemathesis.openapi.from_wsgi("/api/v1/schema", get_wsgi_application(), config=CONFIG)
DOCUMENT = schema.raw_schema

# Words that would mean an error body leaks internals.
LEAK_MARKERS = (
    "Traceback",
    'File "',
    "SELECT ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    "django.db",
    "MySQLdb",
    "sqlite3",
    "IntegrityError",
    "OperationalError",
    "SECRET_KEY",
)

# Status codes seen per operation, printed at the end of the module.
statuses: defaultdict[str, Counter[int]] = defaultdict(Counter)
_serial = itertools.count()


def documented_codes(case: schemathesis.Case, status: int) -> set[str]:
    """The error codes an operation documents for ``status``: its component's ``code`` enum."""
    responses = case.operation.definition.raw.get("responses", {})
    response = responses.get(str(status)) or {}
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    if not ref:
        return set()
    component = DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return set(component["properties"]["code"]["enum"])


def envelope_conformance(ctx, response, case) -> None:
    """SPEC §5.1: every answer is the envelope; errors carry a documented code."""
    status = response.status_code
    assert status < 500, f"{status} from {case.method} {case.path}"
    if status == 204:
        assert not response.content, "204 with a body"
        return
    body = response.json()
    assert isinstance(body, dict), "the body is not a JSON object"
    assert isinstance(body.get("message"), str), "no `message`"
    if status < 400:
        assert body.get("success") is True, "a success without success: true"
        assert "data" in body, "a success without `data`"
    else:
        assert body.get("success") is False, "an error without success: false"
        code = body.get("code")
        if status == 405:
            # schemathesis' unsupported_method check: a method the path does not
            # serve (not an operation, so nothing documents it) answers this code.
            assert code == "method_not_allowed", code
            return
        documented = documented_codes(case, status)
        assert code in documented, f"{status} {code!r} is not documented (documented: {documented})"
        # No internals in an error; what the client sent may come back (a
        # choice field names the refused value), the fuzzer sends "SELECT 1".
        sent = json.dumps([case.body, case.query, case.path_parameters], default=str)
        for marker in LEAK_MARKERS:
            if marker not in sent:
                assert marker not in response.text, f"the error body holds {marker!r}"


@pytest.fixture(scope="module")
def examples_report(request):
    """Print the examples and statuses per operation, and hold each operation
    that ran to the promised number of examples."""
    yield
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None and statuses:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line("schemathesis examples per operation (status: count):")
            for label, seen in sorted(statuses.items()):
                counts = ", ".join(f"{status}: {n}" for status, n in sorted(seen.items()))
                reporter.write_line(f"  {sum(seen.values()):4d}  {label}  ({counts})")
    short = {label: sum(seen.values()) for label, seen in statuses.items()}
    # An operation that takes nothing (GET /config: no parameter, body or
    # token) has no examples to vary; one answer is all there is to check.
    inputless = {
        operation.label
        for operation in (result.ok() for result in schema.get_all_operations())
        if not operation.definition.raw.get("parameters")
        and "requestBody" not in operation.definition.raw
        and not any(operation.definition.raw.get("security", [{}]))
    }
    short = {
        label: n
        for label, n in short.items()
        if n < (1 if label in inputless else MINIMUM_EXAMPLES)
    }
    assert not short, f"operations that ran fewer than {MINIMUM_EXAMPLES} examples: {short}"


def _is_positive(case: schemathesis.Case) -> bool:
    return case.meta is None or case.meta.generation.mode is schemathesis.GenerationMode.POSITIVE


def _drops_authorization(case: schemathesis.Case) -> bool:
    """An invalid example that leaves the token out on purpose (expecting a 401)."""
    return (
        case.meta is not None
        and case.meta.is_negative_at(ParameterLocation.HEADER)
        and not any(name.lower() == "authorization" for name in case.headers or {})
    )


def _account(serial: int):
    """A fresh verified account: mostly email + password; every third one
    without a password (code sign-in only), every fourth by phone."""
    kwargs = {"verified": True, "password": None if serial % 3 == 2 else PASSWORD}
    if serial % 4 == 3:
        kwargs["phone"] = f"+9198{serial % 10**8:08d}"
    else:
        kwargs["email"] = f"fuzz-{serial}@example.com"
    return user_create(**kwargs)


def _use_address(body: dict, *, email: str | None = None, phone: str | None = None) -> None:
    """Make ``body`` name exactly this address (the fuzzer's own left aside)."""
    for field in ("email", "phone", "dialing_code"):
        body.pop(field, None)
    if phone:
        body["phone"] = phone
    else:
        body["email"] = email


def _code(purpose: str, destination: str, user=None, subject: str = "") -> str:
    return otp.otp_issue(
        purpose=purpose, destination=destination, user=user, subject=subject, deliver=False
    ).code


def _attempt(email: str) -> tuple[str, SignupAttempt]:
    """A live sign-up attempt for ``email`` and its ``signup_token``."""
    token = secrets.token_urlsafe(32)
    attempt = SignupAttempt.objects.create(
        token_hash=signup_token_hash(token),
        email=email,
        password=make_password(STRONG),
        expires_at=clock.now() + timedelta(hours=1),
    )
    return token, attempt


def _plant_real_values(case: schemathesis.Case, *, serial: int, user, other_session, event, pair):
    """Real ids, tokens, addresses and codes where a random value can only be
    refused, so the fuzzed rest of the request reaches the success path."""
    if "session_id" in (case.path_parameters or {}):
        case.path_parameters["session_id"] = str(other_session.pk)
    if "event_id" in (case.path_parameters or {}):
        case.path_parameters["event_id"] = event.pk
    if not isinstance(case.body, dict):
        return
    # A copy: the generated body may be an object hypothesis holds on to (an
    # explicit example, a replayed case), which must not change under it.
    body = case.body = copy.deepcopy(case.body)
    for field, value in (("token", pair.access), ("refresh", pair.refresh)):
        if field in body:
            body[field] = value
    path = case.operation.path.removeprefix("/api/v1")
    own = {"phone": user.phone} if user.phone else {"email": user.email}
    fresh = f"fresh-{serial}@example.com"
    # Code flows alternate between a fresh address and the account's own.
    use_fresh = (serial // 2) % 2 == 0
    if "current_password" in body:
        body["current_password"] = PASSWORD
    if "new_password" in body:
        body["new_password"] = STRONG
    if "password" in body and path in ("/auth/contact/change", "/auth/account"):
        body["password"] = PASSWORD
    if path == "/auth/login":
        for field in ("identifier", "username"):
            body.pop(field, None)
        _use_address(body, **own)
        body["password"] = PASSWORD
    elif path == "/auth/signup":
        # The account's own address is the enumeration-safe path (SPEC §5.3).
        _use_address(body, **({"email": fresh} if use_fresh else own))
        body["password"] = STRONG
    elif path == "/auth/signup/verify":
        token, attempt = _attempt(fresh)
        body["signup_token"] = token
        body["otp"] = _code(otp.SIGNUP, fresh, subject=attempt.code_subject)
        body.pop("username", None)  # a fuzzed handle may be taken or malformed
    elif path == "/auth/otp/resend" and body.get("purpose") == otp.SIGNUP:
        body["signup_token"], _attempt_row = _attempt(fresh)
    elif path in ("/auth/otp/request", "/auth/password/forgot", "/auth/otp/resend"):
        _use_address(body, **own)
    elif path == "/auth/otp/verify":
        # A fresh address creates the account (OTP_LOGIN_CREATES_ACCOUNT).
        _use_address(body, **({"email": fresh} if use_fresh else own))
        body["otp"] = _code(otp.LOGIN, fresh if use_fresh else user.primary_destination)
    elif path in ("/auth/password/forgot/verify", "/auth/password/reset"):
        _use_address(body, **own)
        body["otp"] = _code(otp.PASSWORD_RESET, user.primary_destination, user)
    elif path == "/auth/contact/change":
        _use_address(body, email=fresh)
    elif path == "/auth/contact/verify":
        _use_address(body, email=fresh)
        body["otp"] = _code(otp.CONTACT_CHANGE, fresh, user, subject=f"user:{user.pk}")
    elif path == "/auth/account" and not user.has_usable_password():
        body["otp"] = _code(otp.LOGIN, user.primary_destination, user)


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    # Function-scoped fixtures (the database, settings) are shared by the
    # examples of one operation on purpose; every example makes its own user.
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, fuzz_settings, keep_test_connection, examples_report):
    serial = next(_serial)
    user = _account(serial)
    client = ClientInfo(ip="127.0.0.1", user_agent="schemathesis")
    pair = session_open(user=user, client=client)
    other_session = session_open(user=user, client=client).session
    event = event_record(kind=SecurityEvent.LOGIN_SUCCESS, user=user, client=client)
    if _is_positive(case) and serial % 2:
        _plant_real_values(
            case, serial=serial, user=user, other_session=other_session, event=event, pair=pair
        )
    headers = {}
    if not _drops_authorization(case):
        headers["Authorization"] = f"Bearer {pair.access}"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = case.call_and_validate(headers=headers, additional_checks=[envelope_conformance])
    statuses[case.operation.label][response.status_code] += 1
    # A request must not leave a transaction it could not finish behind.
    assert not connection.needs_rollback, "the request left a broken transaction behind"
