"""Log lines an operator can follow: request ids, one context per request, JSON.

- Every request gets an id (``authsite.middleware.RequestIdMiddleware``): the
  ``X-Request-ID`` a trusted proxy sent (``TRUSTED_PROXY_COUNT`` > 0, and only
  when its shape is safe to write into a log line), else a fresh one.
- ``log_context`` keeps the request's id, client IP, path (and the request, for
  the user id once authentication has resolved it) in a ``ContextVar``; the
  ``RequestContextFilter`` copies them onto every record logged while it is
  set, whichever logger wrote the record. The delivery pool sets the same
  context around each message it sends (``otp.delivery``), so its lines carry
  the id of the request that asked for the message.
- ``LOG_FORMAT=json`` renders one JSON object per line (``JsonFormatter``);
  ``text`` (the default) a plain line with the request id in it.

No log line may hold a password, a one-time code or a token: nothing here
logs a request body, a header or a query string, and the formatters replace
anything shaped like a JWT or a bearer credential as a last line of defence.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

# Fields the filter puts on every record (None outside a request).
CONTEXT_FIELDS = ("request_id", "client_ip", "user_id", "path")
# Extra fields a record may carry (``logger.info(..., extra={...})``) that the
# JSON formatter writes out; anything else a library attaches is left out.
EXTRA_FIELDS = (
    "method",
    "status",
    "duration_ms",
    "view",
    "bytes",
    "user_agent",
    "channel",
    "purpose",
)

# An incoming X-Request-ID is used only when it looks like an id: no spaces,
# quotes, newlines or control characters that could forge or break a log line.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:=+/@-]{1,128}")

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
# The "this wasn't me" link of a new-device notice carries its token in the
# path (accounts/urls.py): every line that shows a path shows it without.
_NOT_ME_PATH = re.compile(r"(/accounts/not-me/)[^/\s\"']+")


@dataclass(frozen=True)
class LogContext:
    request_id: str | None = None
    client_ip: str | None = None
    path: str | None = None
    user_id: Any = None
    # The HttpRequest, read only for a user its authentication already loaded.
    request: Any = None


_context: ContextVar[LogContext | None] = ContextVar("authsite_log_context", default=None)


def printable(text: str, limit: int | None = 500) -> str:
    """``text`` with control characters escaped (a decoded URL path may hold a
    newline that would forge a second log line), cut to ``limit`` characters."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return text[:limit]


def path_redacted(path: str) -> str:
    """``path`` without the token a "this wasn't me" link carries in it."""
    if "/not-me/" in path:
        path = _NOT_ME_PATH.sub(r"\1[token]", path)
    return path


def request_id_new() -> str:
    return secrets.token_hex(16)


def request_id_valid(value: str | None) -> bool:
    return bool(value) and REQUEST_ID_PATTERN.fullmatch(value) is not None


def request_id_current() -> str | None:
    """The id of the request (or delivery job) being handled in this context."""
    context = _context.get()
    return context.request_id if context is not None else None


@contextmanager
def log_context(**fields: Any) -> Iterator[LogContext]:
    """Put ``fields`` (see ``LogContext``) on every record logged inside the block."""
    context = LogContext(**fields)
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


def log_context_begin(**fields: Any) -> LogContext:
    """Set the context of a request until ``log_context_end``: the middleware
    begins it, and it ends when Django signals ``request_finished``, after
    the handler's own lines about the response (``django.request``)."""
    context = LogContext(**fields)
    _context.set(context)
    return context


def log_context_end(**_signal_kwargs: Any) -> None:
    _context.set(None)


def _user_id(context: LogContext) -> Any:
    if context.user_id is not None:
        return context.user_id
    request = context.request
    if request is None:
        return None
    return request_user_id(request)


def request_user_id(request: Any) -> Any:
    """The signed-in user's id, if the request already loaded its user."""
    # Only a user somebody already loaded: reading a lazy ``request.user`` here
    # would query the database from inside a log call.
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = user.__dict__.get("_wrapped", user)  # django.utils.functional.SimpleLazyObject
    from django.utils.functional import empty

    if wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return wrapped.pk


class RequestContextFilter(logging.Filter):
    """Copy the current request's id, client IP, user id and path onto the record.

    Attach it to handlers (a logger's filters do not see records that
    propagate from child loggers). A field the record already has is kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        values = {
            "request_id": context.request_id if context else None,
            "client_ip": context.client_ip if context else None,
            "path": context.path if context else None,
        }
        for name, value in values.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        if not hasattr(record, "user_id"):
            record.user_id = _user_id(context) if context else None
        return True


def redact(text: str) -> str:
    """``text`` with JWTs, bearer credentials and the token of a "this wasn't
    me" link replaced (defence in depth)."""
    text = path_redacted(text)
    if "eyJ" in text:
        text = _JWT.sub("[token]", text)
    if "earer" in text:
        text = _BEARER.sub(r"\1 [redacted]", text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, pid, request
    context, the request line's fields, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "pid": record.process,
        }
        for name in CONTEXT_FIELDS:
            entry[name] = getattr(record, name, None)
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``<time> <level> <logger> [<request id>] <message>``, one line per
    message: control characters in the message are escaped (Django's own
    "Not Found: <path>" would otherwise start a forged line at a newline of
    the path); a traceback follows on its own lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message, limit=None)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            return redact(super().format(record))
        # A record from outside any request: show "-" without changing the
        # record, which other handlers format too.
        had_field = "request_id" in record.__dict__
        record.request_id = "-"
        try:
            return redact(super().format(record))
        finally:
            if had_field:
                record.request_id = None
            else:
                del record.request_id


def iso_time(created: float) -> str:
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` dict of the settings: one console handler (stderr) in
    ``log_format`` ("text" or "json"), with the request context filter."""
    if log_format not in ("text", "json"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT must be 'text' or 'json', not {log_format!r}.")
    # Python's warnings go to stderr as free text unless logging takes them.
    logging.captureWarnings(log_format == "json")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "authsite.logging.RequestContextFilter"}},
        "formatters": {
            "text": {"()": "authsite.logging.TextFormatter"},
            "json": {"()": "authsite.logging.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
        },
    }
