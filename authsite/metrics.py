"""Prometheus metrics (SPEC §20): the metric objects, the small functions the
services call to record, and the ``/metrics`` endpoint.

Under gunicorn every worker is its own process. With
``PROMETHEUS_MULTIPROC_DIR`` set (``gunicorn.conf.py`` sets and clears it),
prometheus-client keeps each worker's values in a file there and ``/metrics``
adds them up, so a scrape shows the whole server whichever worker answers it.
Without the variable (tests, ``make run``) the values live in this process.

Labels are bounded: method, outcome (an error ``code`` of ``authsite.errors``
or "success"), channel, purpose, rate-limit action, view name, HTTP method and
status class. Never a user, an address or an IP.

``/metrics`` answers 404 while ``METRICS_TOKEN`` is empty, and 401 without
``Authorization: Bearer <METRICS_TOKEN>`` (compared in constant time).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from authsite.errors import AuthsiteError, TokenReused

F = TypeVar("F", bound=Callable[..., Any])

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Each metric below opens its file there at once.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

SIGNINS = Counter(
    "authsite_signins",
    "Sign-in attempts by method (password, code, signup) and outcome "
    "(success, or the error code the client was given).",
    ["method", "outcome"],
)
SECOND_FACTOR = Counter(
    "authsite_second_factor",
    "Second-factor checks by method and outcome (success, or the error code).",
    ["method", "outcome"],
)
MESSAGES_SENT = Counter(
    "authsite_messages_sent",
    "Messages handed to the email or SMS provider: codes by purpose, notices as purpose=notice.",
    ["channel", "purpose"],
)
DELIVERY_FAILURES = Counter(
    "authsite_delivery_failures",
    "Messages the email or SMS provider did not accept, by channel and purpose.",
    ["channel", "purpose"],
)
REFRESHES = Counter(
    "authsite_token_refreshes",
    "Refresh-token presentations by outcome (success, token_invalid, token_reused).",
    ["outcome"],
)
REUSE_DETECTIONS = Counter(
    "authsite_token_reuse_detections",
    "Spent refresh tokens presented again (the session is revoked).",
)
LOCKOUTS = Counter(
    "authsite_signin_lockouts",
    "Failed sign-ins that locked an identifier, or lengthened its lock.",
)
RATE_LIMIT_REFUSALS = Counter(
    "authsite_rate_limit_refusals",
    "Requests refused by a per-IP rate limit, by action.",
    ["action"],
)
PASSWORD_HASH_REFUSALS = Counter(
    "authsite_password_hash_refusals",
    "Password checks and hashes refused because the bulkhead's queue was full "
    "(503 service_unavailable with Retry-After): sign-ins, sign-ups, password changes.",
)
REQUEST_SECONDS = Histogram(
    "authsite_http_request_duration_seconds",
    "Time to answer a request, by view name (not path), HTTP method and status class.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

CHANNELS = ("email", "sms")
PURPOSES = (
    "signup",
    "login",
    "password_reset",
    "contact_change",
    "mfa",
    "reauthentication",
    "notice",
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LABEL = re.compile(r"[a-z0-9_]{1,40}")

# Series that alerts watch exist from the start at 0, so the first failure
# is an increase and not the birth of a series.
for _channel in CHANNELS:
    for _purpose in PURPOSES:
        MESSAGES_SENT.labels(_channel, _purpose)
        DELIVERY_FAILURES.labels(_channel, _purpose)
for _outcome in ("success", "token_invalid", "token_reused"):
    REFRESHES.labels(_outcome)


def _label(value: Any) -> str:
    """A label value from a fixed vocabulary, or "other" for anything unexpected."""
    text = str(value) if value is not None else ""
    return text if _LABEL.fullmatch(text) else "other"


def _outcome(exc: BaseException) -> str:
    return exc.code if isinstance(exc, AuthsiteError) else "error"


# --- recording ------------------------------------------------------------------------


def signin_recorded(*, method: str, outcome: str) -> None:
    SIGNINS.labels(_label(method), _label(outcome)).inc()


def signin_counted(method: str) -> Callable[[F], F]:
    """Decorate a first-factor service: count its return as a "success" sign-in
    and each error it raises under the error's ``code``."""

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = func(*args, **kwargs)
            except Exception as exc:
                signin_recorded(method=method, outcome=_outcome(exc))
                raise
            signin_recorded(method=method, outcome="success")
            return result

        return wrapper  # type: ignore[return-value]

    return decorator


def second_factor_recorded(*, method: str, outcome: str) -> None:
    SECOND_FACTOR.labels(_label(method), _label(outcome)).inc()


def refresh_counted(func: F) -> F:
    """Decorate ``session_refresh``: count each outcome, and reuse detections."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = func(*args, **kwargs)
        except Exception as exc:
            REFRESHES.labels(_label(_outcome(exc))).inc()
            if isinstance(exc, TokenReused):
                REUSE_DETECTIONS.inc()
            raise
        REFRESHES.labels("success").inc()
        return result

    return wrapper  # type: ignore[return-value]


def _message_labels(message: Any) -> tuple[str, str]:
    purpose = getattr(message, "purpose", None) or "notice"
    return _label(getattr(message, "channel", None)), _label(purpose)


def message_sent(message: Any) -> None:
    """An ``otp.delivery.Message`` was handed to its provider."""
    MESSAGES_SENT.labels(*_message_labels(message)).inc()


def message_failed(message: Any) -> None:
    """An ``otp.delivery.Message`` was not accepted by its provider."""
    DELIVERY_FAILURES.labels(*_message_labels(message)).inc()


def lockout_recorded() -> None:
    LOCKOUTS.inc()


def rate_limit_refused(*, action: str) -> None:
    RATE_LIMIT_REFUSALS.labels(_label(action)).inc()


def password_hash_refused() -> None:
    PASSWORD_HASH_REFUSALS.inc()


# REQUEST_SECONDS' series by (view, method, status class), found once:
# ``labels()`` takes a lock and checks its arguments on every call. The keys
# are bounded: URL names, METHODS and "other", status classes.
_request_series: dict[tuple[str, str, str], Any] = {}


def request_observed(*, view: str, method: str | None, status: int, seconds: float) -> None:
    key = (
        view,
        method if method in METHODS else "other",
        f"{status // 100}xx" if 100 <= status <= 599 else "other",
    )
    series = _request_series.get(key)
    if series is None:
        series = _request_series[key] = REQUEST_SECONDS.labels(*key)
    series.observe(seconds)


def view_label(request: HttpRequest) -> str:
    """The URL name of the view that answered (``accounts_api:login``), never the path."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or "unnamed"
    static = "/" + settings.STATIC_URL.lstrip("/")
    if request.path.startswith(static):
        return "static"
    return "unmatched"


# --- the endpoint ------------------------------------------------------------------------


def export() -> bytes:
    """The Prometheus text exposition: of every worker in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and constant_time_compare(credentials.strip(), token)


@never_cache
@csrf_exempt
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404  # off: as if there were no such page
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if not _authorized(request, token):
        response = HttpResponse(
            "Unauthorized\n", status=401, content_type="text/plain; charset=utf-8"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(export(), content_type=CONTENT_TYPE_LATEST)
