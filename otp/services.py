"""One-time codes (SPEC §4): issue, check, consume; limits; hashed storage.

INTERFACE CONTRACT (accounts calls these; otp knows nothing of accounts):

- ``otp_issue(*, purpose, destination, user=None, subject="", deliver=True,
  template=None, context=None) -> IssuedCode``
- ``otp_check(*, purpose, destination, code, user=None, subject="") -> None``
- ``otp_consume(*, purpose, destination, code, user=None, subject="") -> int``
  (code row id)
- ``otp_rebind(*, purpose, destination, subject, new_subject, user) -> int``
- ``message_send(*, destination, template, context=None, user=None) -> None``
- ``destinations_lock(destinations) -> None``
- ``otp_delete_for(*, destinations, user=None) -> int``

The state machine of a code, in one place: issued → wrong attempts counted →
consumed, expired, superseded or dead. The rules (each read from a setting,
see ``otp.conf``):

- A code is ``OTP_LENGTH`` digits from ``secrets``. Only an HMAC-SHA256 of
  (purpose, destination, code) keyed from ``SECRET_KEY`` is stored, so a copy
  of the table does not give out codes and a hash is bound to its purpose and
  destination; comparison is constant-time. The plain code exists in memory
  and in the message only.
- A code may be bound to a ``subject`` besides its destination (an opaque
  string the caller chooses: a sign-up attempt, an account changing its
  address). Only the newest code of a (purpose, destination, subject) is
  live: issuing a code kills the previous ones of that subject without
  touching them, and never a code of another subject (SPEC §22.2, §22.7).
- A code lives ``OTP_TTL`` seconds and dies after ``OTP_MAX_ATTEMPTS`` wrong
  tries (even the right code then fails: ``otp_attempts_exceeded``).
- Per (purpose, destination): a send at most every ``OTP_RESEND_COOLDOWN``
  seconds, at most ``OTP_MAX_SENDS_PER_HOUR`` sends per hour, and at most
  ``OTP_MAX_FAILURES_PER_DAY`` wrong tries per 24 h across all codes (the
  budget a resend does not reset). Refusals carry ``retry_after`` seconds.
  These limits span every subject — one destination cannot be flooded by
  making many sign-up attempts — except for ``contact_change``, whose codes
  an account asks for its own address change: there the cooldown and the
  hourly cap count per (destination, subject), so that another account
  asking for the same address neither kills your code nor spends your cap
  (SPEC §22.7). The 24 h budget of wrong tries always spans every subject:
  guessing at one address's codes from many accounts gets no more tries.

Queries: every function reads the rows of the last 24 h for its (purpose,
destination) in ONE select and derives every rule from them; then ``otp_issue``
inserts one row, and ``otp_check`` / ``otp_consume`` update one row at most.

Transactions: the functions open ``transaction.atomic(savepoint=False)`` — no
SAVEPOINT queries inside the caller's transaction — and raise their errors
only after leaving it, so they never mark the caller's transaction for
rollback. But a caller's rollback undoes what they wrote: a wrong try counted
by ``otp_check`` / ``otp_consume`` inside the caller's ``atomic`` block is lost
if the ``Otp*`` error propagates out of that block. Call them before opening
the block, or catch the error inside it and re-raise it after the block::

    with transaction.atomic():
        try:
            otp_consume(purpose=..., destination=..., code=...)
        except AuthsiteError as exc:
            error = exc  # the counted wrong try commits with the block
        else:
            error = None
            ...  # the rest of the flow
    if error is not None:
        raise error
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from authsite import clock
from authsite.errors import (
    AuthsiteError,
    DeliveryRefused,
    OtpAttemptsExceeded,
    OtpCooldown,
    OtpInvalid,
    OtpLocked,
    OtpSendLimit,
    ValidationFailed,
)
from authsite.i18n import message_language
from otp import delivery
from otp.conf import FAILURE_WINDOW_SECONDS, SEND_WINDOW_SECONDS, app_settings
from otp.destinations import SMS, channel_for, mask_destination
from otp.models import CodeRequestLock, OneTimeCode, retry_while_locked

logger = logging.getLogger("otp")

# The purposes are defined once, on the model.
SIGNUP = OneTimeCode.Purpose.SIGNUP.value
LOGIN = OneTimeCode.Purpose.LOGIN.value
PASSWORD_RESET = OneTimeCode.Purpose.PASSWORD_RESET.value
CONTACT_CHANGE = OneTimeCode.Purpose.CONTACT_CHANGE.value
MFA = OneTimeCode.Purpose.MFA.value
REAUTHENTICATION = OneTimeCode.Purpose.REAUTHENTICATION.value
PURPOSES = tuple(OneTimeCode.Purpose.values)
# Purposes whose limits count per (destination, subject), not per destination.
SUBJECT_LIMITED = frozenset({CONTACT_CHANGE})
# Purposes a client may ask to re-send through /auth/otp/resend; the others
# have their own entry point (the second step, a re-authentication).
RESENDABLE = (SIGNUP, LOGIN, PASSWORD_RESET, CONTACT_CHANGE)

# The wording of a purpose in messages ("your sign-in code").
PURPOSE_LABELS = {
    SIGNUP: _("account verification"),
    LOGIN: _("sign-in"),
    PASSWORD_RESET: _("password reset"),
    CONTACT_CHANGE: _("address change"),
    MFA: _("second sign-in step"),
    REAUTHENTICATION: _("confirmation"),
}

# Key derivation salt for the code hash: salted_hmac derives the HMAC key from
# SECRET_KEY and this salt, so the key is used for nothing else.
HASH_KEY_SALT = "authsite.otp"

_FAILURE_WINDOW = timedelta(seconds=FAILURE_WINDOW_SECONDS)
_SEND_WINDOW = timedelta(seconds=SEND_WINDOW_SECONDS)

# Columns each path reads from the 24 h window.
_ISSUE_FIELDS = ("id", "subject", "created_at", "attempts", "delivery_status")
_VERIFY_FIELDS = (
    "id",
    "subject",
    "user_id",
    "code_hash",
    "created_at",
    "expires_at",
    "attempts",
    "consumed_at",
)


@dataclass(frozen=True)
class IssuedCode:
    id: int
    code: str  # the plain code: in memory only, for delivery and OTP_EXPOSE_IN_RESPONSE
    purpose: str
    channel: str  # "email" or "sms"
    destination: str
    expires_at: datetime
    expires_in: int  # seconds
    resend_in: int  # seconds until the cooldown allows another send

    def __repr__(self) -> str:
        # Keep the code out of any log line or traceback that formats this object.
        return (
            f"IssuedCode(id={self.id}, purpose={self.purpose!r}, channel={self.channel!r}, "
            f"destination={mask_destination(self.destination)!r})"
        )


def _initial_status(deliver: bool) -> str:
    """The delivery status a new code is stored with.

    With the worker pool, every code starts "pending", sent or not, and the
    pool's job ends with the same one-row UPDATE to "sent" or "skipped": a
    code that is not delivered writes exactly what a delivered one does, in
    the request and after it. (An UPDATE that changes nothing costs the
    database far less than one that does, which showed under load.) In
    "sync" mode no status is written after the request, so the row is
    stored "skipped" at once.
    """
    if deliver or app_settings.DELIVERY_MODE == "thread":
        return OneTimeCode.DeliveryStatus.PENDING
    return OneTimeCode.DeliveryStatus.SKIPPED


def otp_issue(
    *,
    purpose: str,
    destination: str,
    user: Any = None,
    subject: str = "",
    deliver: bool = True,
    template: str | None = None,
    context: dict[str, Any] | None = None,
    limit_group: str = "",
    language: str | None = None,
) -> IssuedCode:
    """Issue a new code for (purpose, destination, subject), optionally bound
    to ``user``.

    ``language``: the message's (SPEC §21: the recipient's); by default
    ``user``'s, else the request's.

    ``limit_group``: for a ``SUBJECT_LIMITED`` purpose, the cooldown and the
    hourly cap count the rows whose subject starts with it, instead of this
    subject's alone (subjects anyone makes for the asking, such as sign-up
    attempts, share one set of limits per address).

    ``destination`` is already normalised (lower-case email or E.164 phone).
    Refuses with ``OtpCooldown`` / ``OtpSendLimit`` (``retry_after`` set),
    ``OtpLocked`` when the 24 h failure budget is spent, ``DeliveryRefused``
    for an SMS destination outside ``SMS_ALLOWED_COUNTRIES`` (before anything
    is stored). The newest code kills the previous ones. Delivery runs after
    commit; ``deliver=False`` writes the same row but sends nothing (the
    enumeration-safe path for unknown addresses). ``template`` replaces the
    message template (for example a notice instead of the code).

    Limits, decided here:

    - The cooldown runs from the newest send that did not fail: a failed
      delivery does not start it, so the user can ask again at once.
    - The hourly cap counts every row, failed deliveries included: it also
      bounds how often one destination can make us call a provider.
    - ``deliver=False`` rows count like the others, so an unknown address is
      refused exactly when a known one would be.

    Concurrency: the requests for one destination are decided one after the
    other (``_destination_locked``): the limits hold against a burst sent at
    once, on MariaDB as on SQLite.
    """
    _require_purpose(purpose)
    channel = channel_for(destination)
    if channel == SMS and not _sms_country_allowed(destination):
        message = gettext("We cannot send text messages to phone numbers in this country.")
        raise DeliveryRefused(message, errors={"phone": [message]})

    now = clock.now()
    ttl = app_settings.TTL
    code = _generate_code(app_settings.LENGTH)

    def write() -> tuple[AuthsiteError | None, OneTimeCode | None]:
        with transaction.atomic(savepoint=False):
            _destination_locked(destination, now)
            rows = _window(purpose, destination, now, _ISSUE_FIELDS)
            refusal = _issue_refusal(rows, _send_scope(rows, purpose, subject, limit_group), now)
            if refusal is not None:
                return refusal, None
            row = OneTimeCode.objects.create(
                purpose=purpose,
                channel=channel,
                destination=destination,
                subject=subject,
                user=user,
                code_hash=_code_hash(purpose, destination, code),
                created_at=now,
                expires_at=now + timedelta(seconds=ttl),
                delivery_status=_initial_status(deliver),
            )
            # Without ``deliver`` the message is rehearsed (rendered, not sent):
            # the same work off the request path as a real delivery.
            delivery.schedule(
                delivery.Message(
                    channel=channel,
                    destination=destination,
                    template=template or f"code_{purpose}",
                    context={
                        **_base_context(destination, purpose),
                        **(context or {}),
                        "code": code,
                    },
                    purpose=purpose,
                    user_id=getattr(user, "pk", None),
                    code_id=row.pk,
                    language=language or message_language(user),
                    rehearsal=not deliver,
                )
            )
            return None, row

    refusal, row = retry_while_locked(write)
    # Raised outside the atomic block: an exception leaving a savepoint-less
    # block would doom the caller's whole transaction.
    if refusal is not None:
        logger.info(
            "Code refused: %s purpose=%s destination=%s retry_after=%s",
            refusal.code,
            purpose,
            mask_destination(destination),
            refusal.retry_after,
        )
        raise refusal
    assert row is not None  # write() gives a refusal or the row
    logger.info(
        "Code issued: id=%s purpose=%s channel=%s destination=%s deliver=%s",
        row.pk,
        purpose,
        channel,
        mask_destination(destination),
        deliver,
    )
    return IssuedCode(
        id=row.pk,
        code=code,
        purpose=purpose,
        channel=channel,
        destination=destination,
        expires_at=row.expires_at,
        expires_in=ttl,
        resend_in=app_settings.RESEND_COOLDOWN,
    )


def otp_check(
    *, purpose: str, destination: str, code: str, user: Any = None, subject: str = ""
) -> None:
    """Check a code without consuming it. A wrong code counts a try.

    Raises ``OtpInvalid`` (wrong, expired, consumed, superseded, unknown;
    after a counted wrong try its ``data["attempts_left"]`` says how many
    tries the code has left), ``OtpAttemptsExceeded`` (the code is dead),
    ``OtpLocked`` (24 h budget).

    For the "verify before reset" step: the right code stays usable for
    ``otp_consume``. ``user``, when given, must be the user the code was
    issued for. See the module docstring about calling this inside a
    transaction.
    """
    _verify(
        purpose=purpose,
        destination=destination,
        code=code,
        user=user,
        subject=subject,
        consume=False,
    )


def otp_consume(
    *, purpose: str, destination: str, code: str, user: Any = None, subject: str = ""
) -> int:
    """Check and consume a code atomically (single use under concurrency).

    Raises what ``otp_check`` raises; returns the code row's id. Of any number
    of concurrent calls with the right code exactly one succeeds.

    A success does not clear the destination's 24 h failure budget: wrong
    tries made before it keep counting until they leave the window. The
    budget protects the owner of an address against someone guessing its
    codes; if the owner's own successful sign-ins refilled it, the guesser
    would get a fresh set of tries after each of them.
    """
    return _verify(
        purpose=purpose,
        destination=destination,
        code=code,
        user=user,
        subject=subject,
        consume=True,
    )


def otp_rebind(*, purpose: str, destination: str, subject: str, new_subject: str, user: Any) -> int:
    """Hand the codes of one subject over to another, and to ``user``: the
    pending address of a sign-up becomes the new account's own address
    change once the account exists. Returns how many rows moved."""
    _require_purpose(purpose)
    return OneTimeCode.objects.filter(
        purpose=purpose, destination=destination, subject=subject
    ).update(subject=new_subject, user=user)


def message_send(
    *,
    destination: str,
    template: str,
    context: dict[str, Any] | None = None,
    user: Any = None,
) -> None:
    """Send a message without a code (account notices) after commit, in the
    language of ``user`` (the account it is about), else the request's.

    Nothing is stored and no limit applies: notices go to an account's own
    addresses after something happened to it. The template receives
    ``site_name``, ``site_domain``, ``ttl_minutes``, ``destination`` and
    ``context``. An SMS to a country outside ``SMS_ALLOWED_COUNTRIES`` is
    skipped with a log line rather than refused: a notice follows a change
    that already happened, which a refusal here would undo. (A flow that must
    answer alike for known and unknown addresses sends its notice with
    ``otp_issue(template=...)``, which refuses both alike.)
    """
    channel = channel_for(destination)
    if channel == SMS and not _sms_country_allowed(destination):
        logger.warning(
            "Notice %s not sent: SMS to %s is outside SMS_ALLOWED_COUNTRIES",
            template,
            mask_destination(destination),
        )
        return
    delivery.schedule(
        delivery.Message(
            channel=channel,
            destination=destination,
            template=template,
            context={**_base_context(destination, None), **(context or {})},
            language=message_language(user),
        )
    )


def otp_delete_for(*, destinations: list[str], user: Any = None) -> int:
    """Delete every code sent to these destinations or bound to ``user``.

    For account deletion. It also forgets these destinations' failure
    budgets, so it is no tool for anything else.
    """
    condition = Q()
    destinations = [d for d in destinations if d]
    if destinations:
        condition |= Q(destination__in=destinations)
    if user is not None:
        condition |= Q(user_id=user.pk)
    if not condition:
        return 0
    deleted, _by_model = OneTimeCode.objects.filter(condition).delete()
    return deleted


def otp_budget_forgive(*, destination: str, purposes: Sequence[str]) -> int:
    """Staff's answer to a spent 24 h budget (SPEC §4): anyone who knows an
    address can spend it with wrong guesses at codes its owner receives, and
    then the owner gets ``otp_locked`` for a day. Every code of these
    purposes for ``destination`` still alive is killed first — so that no
    code gets its tries back — then their wrong tries are forgotten, so the
    budget has room again. Returns how many codes were touched."""
    now = clock.now()
    rows = OneTimeCode.objects.filter(
        destination=destination, purpose__in=list(purposes), created_at__gt=now - _FAILURE_WINDOW
    )
    with transaction.atomic(savepoint=False):
        rows.filter(expires_at__gt=now).update(expires_at=now)
        return rows.filter(attempts__gt=0).update(attempts=0)


# --- internals --------------------------------------------------------------------------


def _verify(
    *, purpose: str, destination: str, code: str, user: Any, subject: str, consume: bool
) -> int:
    _require_purpose(purpose)
    now = clock.now()
    # Hash before reading, whatever is found: the work does not depend on
    # whether a code exists.
    supplied_hash = _code_hash(purpose, destination, _clean(code))

    def read_and_write() -> tuple[AuthsiteError | None, int | None]:
        with transaction.atomic(savepoint=False):
            rows = _window(purpose, destination, now, _VERIFY_FIELDS)
            return _verify_rows(
                rows, supplied_hash, user=user, subject=subject, now=now, consume=consume
            )

    error, code_id = retry_while_locked(read_and_write)
    # Raised outside the atomic block, see otp_issue.
    if error is not None:
        logger.info(
            "Code rejected: %s purpose=%s destination=%s",
            error.code,
            purpose,
            mask_destination(destination),
        )
        raise error
    assert code_id is not None  # _verify_rows gives an error or the id
    return code_id


def _verify_rows(
    rows: Sequence[Any],
    supplied_hash: str,
    *,
    user: Any,
    subject: str,
    now: datetime,
    consume: bool,
) -> tuple[AuthsiteError | None, int | None]:
    max_attempts = app_settings.MAX_ATTEMPTS
    locked_for = _budget_retry_after(rows, now)
    if locked_for is not None:
        return OtpLocked(retry_after=locked_for), None

    # Only the newest code of the subject can be live: a newer code of the
    # same subject superseded every older one; other subjects' codes are not
    # this one's business (a stranger's sign-up code cannot verify yours).
    newest = next((row for row in rows if row.subject == subject), None)
    if newest is None or newest.consumed_at is not None:
        return OtpInvalid(), None
    if newest.attempts >= max_attempts:
        return OtpAttemptsExceeded(), None
    if newest.expires_at <= now:
        return OtpInvalid(), None
    if user is not None and newest.user_id != user.pk:
        # A code bound to one account is no use to another (contact change).
        return OtpInvalid(), None

    if not constant_time_compare(supplied_hash, newest.code_hash):
        # Conditional: concurrent wrong tries cannot push a code past the cap.
        counted = OneTimeCode.objects.filter(
            pk=newest.id, attempts__lt=max_attempts, consumed_at__isnull=True
        ).update(attempts=F("attempts") + 1)
        if not counted:
            # Consumed, or its last try spent, by a concurrent request.
            return OtpInvalid(), None
        attempts = newest.attempts + 1
        after = [row._replace(attempts=attempts) if row is newest else row for row in rows]
        locked_for = _budget_retry_after(after, now)
        if locked_for is not None:
            return OtpLocked(retry_after=locked_for), None
        if attempts >= max_attempts:
            return OtpAttemptsExceeded(), None
        # Said only after a counted wrong try. It tells no more than the fifth
        # try's ``otp_attempts_exceeded`` already does: that a live code exists.
        return OtpInvalid(data={"attempts_left": max_attempts - attempts}), None

    if consume:
        # Single use under concurrency, on MariaDB and SQLite alike: the
        # conditions are re-checked by the database inside the UPDATE, which
        # takes the row's write lock (InnoDB) or the database's (SQLite), so of
        # concurrent consumers exactly one finds the row still unconsumed and
        # changes it (rowcount 1); the others re-read it consumed and match
        # nothing (rowcount 0). A SELECT-then-save would let two succeed.
        used = OneTimeCode.objects.filter(
            pk=newest.id,
            consumed_at__isnull=True,
            attempts__lt=max_attempts,
            expires_at__gt=now,
        ).update(consumed_at=now)
        if used != 1:
            return OtpInvalid(), None
    return None, newest.id


def _send_scope(
    rows: Sequence[Any], purpose: str, subject: str, limit_group: str = ""
) -> Sequence[Any]:
    """The rows the cooldown and the hourly cap count: every subject's, or for
    a ``SUBJECT_LIMITED`` purpose only this subject's — or its
    ``limit_group``'s (counted per sign-up attempt, eight sign-ups naming one
    inbox sent it eight codes at once: tests/attacks/test_signup_pending_email_flood.py)."""
    if purpose in SUBJECT_LIMITED:
        if limit_group:
            return [row for row in rows if row.subject.startswith(limit_group)]
        return [row for row in rows if row.subject == subject]
    return rows


def _destination_locked(destination: str, now: datetime) -> None:
    """Inside the caller's transaction: hold the destination's
    ``CodeRequestLock`` row until the transaction ends.

    One statement, an upsert, so the lock is exclusive from the start
    (``INSERT ... ON DUPLICATE KEY UPDATE`` on MariaDB; a plain INSERT
    followed by ``SELECT ... FOR UPDATE`` would first take a shared lock on
    a duplicate, and two such requests deadlock). On SQLite the transaction
    already holds the database's write lock (IMMEDIATE)."""
    CodeRequestLock.objects.bulk_create(
        [CodeRequestLock(destination=destination, requested_at=now)],
        update_conflicts=True,
        update_fields=["requested_at"],
        unique_fields=(
            ["destination"] if connection.features.supports_update_conflicts_with_target else None
        ),
    )


def destinations_lock(destinations: Sequence[str]) -> None:
    """Inside the caller's transaction: hold the code-request locks of these
    destinations until it ends, so no code is issued for them meanwhile (an
    account's deletion takes them before the account's row, the order a code
    request takes them in: one waits for the other, neither deadlocks).
    Sorted: whatever holds two of them (a sign-up with a phone and an email,
    a deletion) takes them through here, in this one order."""
    now = clock.now()
    for destination in sorted(set(destinations)):
        _destination_locked(destination, now)


def _window(purpose: str, destination: str, now: datetime, fields: Sequence[str]) -> list[Any]:
    """The rows for (purpose, destination) created in the last 24 h, every
    subject's, newest first.

    The failure budget counts a row's wrong tries at the row's creation time
    rather than at each try's time: a code takes tries only while it lives,
    so a try leaves the window at most OTP_TTL early, and one indexed read
    gives every rule without a table of attempts.
    """
    rows = OneTimeCode.objects.filter(
        purpose=purpose, destination=destination, created_at__gt=now - _FAILURE_WINDOW
    )
    return list(rows.order_by("-created_at", "-id").values_list(*fields, named=True))


def _issue_refusal(
    rows: Sequence[Any], sends: Sequence[Any], now: datetime
) -> AuthsiteError | None:
    """Why a new code cannot be sent now (the longest wait first), or None.
    ``rows`` make up the failure budget, ``sends`` the cooldown and cap."""
    locked_for = _budget_retry_after(rows, now)
    if locked_for is not None:
        return OtpLocked(retry_after=locked_for)

    cap = max(1, app_settings.MAX_SENDS_PER_HOUR)
    last_hour = [row for row in sends if row.created_at > now - _SEND_WINDOW]
    if len(last_hour) >= cap:
        # Newest first: once the cap-th newest send leaves the hour, fewer than
        # `cap` remain in it.
        return OtpSendLimit(
            retry_after=_seconds_until(last_hour[cap - 1].created_at + _SEND_WINDOW, now)
        )

    cooldown = timedelta(seconds=app_settings.RESEND_COOLDOWN)
    for row in sends:
        if row.delivery_status == OneTimeCode.DeliveryStatus.FAILED:
            continue  # a failed delivery does not start the cooldown
        if row.created_at + cooldown > now:
            return OtpCooldown(retry_after=_seconds_until(row.created_at + cooldown, now))
        break
    return None


def _budget_retry_after(rows: Sequence[Any], now: datetime) -> int | None:
    """Seconds until the 24 h failure budget has room again; None if it has now."""
    limit = app_settings.MAX_FAILURES_PER_DAY
    spent = sum(row.attempts for row in rows)
    if spent < limit:
        return None
    for row in reversed(rows):  # the oldest tries leave the window first
        spent -= row.attempts
        if spent < limit:
            return _seconds_until(row.created_at + _FAILURE_WINDOW, now)
    return FAILURE_WINDOW_SECONDS  # a limit of 0 or less: always locked


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _code_hash(purpose: str, destination: str, code: str) -> str:
    """HMAC-SHA256 of the code, keyed from SECRET_KEY and bound to its purpose
    and destination (a ``login`` code's hash never matches a reset's)."""
    value = f"{purpose}\x00{destination}\x00{code}"
    return salted_hmac(HASH_KEY_SALT, value, algorithm="sha256").hexdigest()


def _generate_code(length: int) -> str:
    # Uniform over every string of `length` digits, leading zeros included.
    return f"{secrets.randbelow(10**length):0{length}d}"


def _clean(code: Any) -> str:
    # People paste "123 456"; anything that is still not the code is a wrong try.
    return "".join(str(code or "").split())[:64]


def _require_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValidationFailed.for_field("purpose", gettext("Unknown purpose."))


def _sms_country_allowed(destination: str) -> bool:
    """SMS-pumping guard: the number's country is in SMS_ALLOWED_COUNTRIES (empty = all)."""
    allowed = app_settings.SMS_ALLOWED_COUNTRIES
    if not allowed:
        return True
    try:
        number = phonenumbers.parse(destination, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_number(number) in allowed


def _base_context(destination: str, purpose: str | None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "site_name": app_settings.SITE_NAME,
        "site_domain": app_settings.SITE_DOMAIN,
        "ttl_minutes": max(1, math.ceil(app_settings.TTL / 60)),
        "destination": destination,
    }
    if purpose is not None:
        context["purpose"] = purpose
        context["purpose_label"] = PURPOSE_LABELS[purpose]
    return context
