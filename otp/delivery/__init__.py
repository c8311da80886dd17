"""Delivery of codes and notices, after the database transaction commits.

``schedule(message)`` registers the delivery with ``transaction.on_commit``: a
rolled-back flow sends nothing, and a message never names a row that does not
exist. What happens at commit depends on ``OTP_DELIVERY_MODE``:

- ``"thread"`` (production default): the message goes to a small module-level
  worker pool, so a slow provider does not sit on the request path and a code
  request answers in the same time whether or not a message is sent
  (SPEC §14 rule 2). Each pool thread keeps its database connection between
  jobs the way a request does (``CONN_MAX_AGE``, checked before reuse).
- ``"sync"`` (tests): the message is delivered in the committing thread.

A delivery failure is logged (without the code), written on the code's row
(``delivery_status="failed"``, ``delivery_error`` scrubbed of the code) and
announced with ``otp.signals.delivery_failed``; nothing else changes, so the
user can simply ask for the code again.

The success of a delivery is written back (``delivery_status="sent"``) by the
worker pool only: in ``"sync"`` mode that write would be one more query inside
the request (SPEC §13 budgets), so a delivered code keeps ``"pending"`` there.
A rehearsed code (see ``Message.rehearsal``) is stored ``"pending"`` too in
``"thread"`` mode and its job writes ``"skipped"``: the same row change, so
the database does the same work after a request for an unknown address as
after one for a known address.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from django.db import DatabaseError, close_old_connections, transaction
from django.utils import translation

from authsite import metrics
from authsite.logging import log_context, request_id_current
from otp.conf import app_settings
from otp.destinations import EMAIL, mask_destination

logger = logging.getLogger("otp.delivery")

MAX_WORKERS = 4


class DeliveryError(Exception):
    """A backend could not hand the message over. Its text must never hold the code."""


@dataclass(frozen=True)
class Message:
    """One message to render and send. Lives in memory only."""

    channel: str  # "email" or "sms"
    destination: str
    template: str  # templates/otp/<template>_{subject,message,sms}.txt
    # Holds the plain code for code messages: kept out of repr() so no log or
    # traceback that formats the message can show it.
    context: dict[str, Any] = field(repr=False)
    purpose: str | None = None
    user_id: Any = None
    code_id: int | None = None
    language: str | None = None
    # Render and build the message exactly as for sending, then send nothing.
    # An address without an account gets this in place of a real delivery, so
    # both cost the same work on the same worker pool: under load, the time of
    # the answers does not tell registered addresses from unregistered ones.
    rehearsal: bool = False
    # The id of the request that asked for the message: the worker pool logs
    # under it, so a delivery failure leads back to the request.
    request_id: str | None = None


def schedule(message: Message) -> None:
    """Deliver ``message`` once the current transaction commits (at once outside one)."""
    if message.request_id is None:
        message = replace(message, request_id=request_id_current())
    transaction.on_commit(partial(dispatch, message))


def dispatch(message: Message) -> Future | None:
    """Deliver now (``"sync"``) or hand to the worker pool (``"thread"``)."""
    if app_settings.DELIVERY_MODE == "sync":
        with _logged_under_request(message):
            deliver(message, record_success=False)
        return None
    future = _executor().submit(_worker_job, message)
    with _lock:
        _inflight.add(future)
    future.add_done_callback(_forget)
    return future


def deliver(message: Message, *, record_success: bool) -> bool:
    """Render and send ``message``; record a failure. True when it was handed over."""
    from otp.delivery.email import send_email
    from otp.delivery.sms import send_sms
    from otp.models import OneTimeCode

    if message.rehearsal:
        from otp.delivery.email import build_email
        from otp.delivery.sms import render_sms

        with translation.override(message.language):
            if message.channel == EMAIL:
                # The bytes an SMTP backend would send.
                build_email(message).message().as_bytes(linesep="\r\n")
            else:
                render_sms(message.template, message.context)
        if record_success and message.code_id is not None:
            # The same single-row UPDATE a delivered code gets ("pending" to
            # "sent"), and like it a change the database must write.
            _record_status(
                message.code_id,
                OneTimeCode.DeliveryStatus.PENDING,
                OneTimeCode.DeliveryStatus.SKIPPED,
            )
        return True
    try:
        with translation.override(message.language):
            if message.channel == EMAIL:
                send_email(message)
            else:
                send_sms(message)
    except (
        Exception
    ) as exc:  # Any failure of a backend (SMTP, HTTP, template) is a delivery failure.
        _record_failure(message, exc)
        return False
    metrics.message_sent(message)
    logger.info(
        "Message sent: channel=%s destination=%s purpose=%s template=%s code_id=%s",
        message.channel,
        mask_destination(message.destination),
        message.purpose,
        message.template,
        message.code_id,
        extra={"channel": message.channel, "purpose": message.purpose or "notice"},
    )
    if record_success and message.code_id is not None:
        _record_status(
            message.code_id, OneTimeCode.DeliveryStatus.PENDING, OneTimeCode.DeliveryStatus.SENT
        )
    return True


def _record_status(code_id: int, current: str, new: str) -> None:
    from otp.models import OneTimeCode, retry_while_locked

    retry_while_locked(
        OneTimeCode.objects.filter(pk=code_id, delivery_status=current).update,
        delivery_status=new,
    )


def scrub(text: str, code: str | None) -> str:
    """``text`` without the code, should a provider have echoed the message body."""
    if code:
        text = text.replace(code, "[code]")
    return text


def _record_failure(message: Message, exc: Exception) -> None:
    from otp.models import OneTimeCode, retry_while_locked
    from otp.signals import delivery_failed

    error = scrub(f"{type(exc).__name__}: {exc}", message.context.get("code"))[:255]
    metrics.message_failed(message)
    # No exc_info: a traceback's chained exception texts could hold a provider's
    # echo of the message body, and with it the code.
    logger.warning(
        "Delivery failed: channel=%s destination=%s purpose=%s template=%s code_id=%s error=%s",
        message.channel,
        mask_destination(message.destination),
        message.purpose,
        message.template,
        message.code_id,
        error,
    )
    if message.code_id is not None:
        try:
            retry_while_locked(
                OneTimeCode.objects.filter(pk=message.code_id).update,
                delivery_status=OneTimeCode.DeliveryStatus.FAILED,
                delivery_error=error,
            )
        except DatabaseError:
            logger.exception("Could not record the delivery failure of code %s", message.code_id)
    # send_robust: a failing receiver must not turn a delivery failure into a
    # crash of the request that committed (sync mode) or of the worker.
    results = delivery_failed.send_robust(
        sender=OneTimeCode,
        purpose=message.purpose,
        channel=message.channel,
        destination=message.destination,
        user_id=message.user_id,
        template=message.template,
        code_id=message.code_id,
    )
    for receiver, result in results:
        if isinstance(result, Exception):
            logger.error("delivery_failed receiver %r raised %s", receiver, type(result).__name__)


# --- worker pool ("thread" mode) -------------------------------------------------------

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_inflight: set[Future] = set()


def _executor() -> ThreadPoolExecutor:
    # Created lazily, so a pre-forking server (gunicorn) starts one per worker
    # process rather than sharing threads that do not survive fork().
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="otp-delivery")
        return _pool


def _after_fork_in_child() -> None:
    global _pool, _lock
    _pool = None
    _lock = threading.Lock()
    _inflight.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _forget(future: Future) -> None:
    with _lock:
        _inflight.discard(future)


def _worker_job(message: Message) -> None:
    # Like a request: each pool thread keeps its connection between jobs while
    # it is usable and younger than CONN_MAX_AGE (checked before reuse, with
    # CONN_HEALTH_CHECKS), instead of connecting anew for every message.
    close_old_connections()
    with _logged_under_request(message):
        try:
            deliver(message, record_success=True)
        except Exception:
            # deliver() records backend failures itself; this is the database
            # failing under it. The message text never holds the code.
            logger.exception("Delivery job failed: code_id=%s", message.code_id)
        finally:
            close_old_connections()


def _logged_under_request(message: Message) -> contextlib.AbstractContextManager:
    """The log context of the request that asked for ``message``: a pool thread
    (or a commit after the request) does not have it, so every line logged for
    the message carries the request's id."""
    if message.request_id is None or message.request_id == request_id_current():
        return contextlib.nullcontext()
    return log_context(request_id=message.request_id, user_id=message.user_id)


def wait_for_deliveries(timeout: float | None = None) -> bool:
    """Wait for the deliveries handed to the pool so far; True when all are done.

    For tests and for a graceful shutdown.
    """
    with _lock:
        pending = set(_inflight)
    if not pending:
        return True
    _done, not_done = wait_futures(pending, timeout=timeout)
    return not not_done
