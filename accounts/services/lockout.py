"""Failed sign-ins counted per account, whatever the IP (SPEC §14 rule 3, §22.5).

The count is kept per *account* when the identifier names one: failures on
its email, its phone and its username add up to one lock, and a look-alike
spelling either names another account or none (``accounts.identifiers``).
An identifier that names no account — unknown, or only a sign-up attempt —
keeps a count of its own, so the sequence of answers does not tell whether an
account exists.

After ``LOGIN_FAILURE_LIMIT`` tries without a success within
``LOGIN_FAILURE_WINDOW`` seconds the key is locked for ``LOGIN_LOCKOUT_BASE``
seconds; every further try after a lock doubles the lock, up to
``LOGIN_LOCKOUT_MAX``. Tries are counted before their password is checked
(``signin_try``), so concurrent guesses cannot outrun the count. A success
clears the count; so do a password reset and a password change (a locked
user can still reset).

A password sign-in counts on the identifier it names *and* on its account.
Only the identifier's own count answers 429, so the sequence of answers for
an identifier is the same whether or not it belongs to an account (SPEC
§14.3): locking an account through its public username does not reveal which
email or phone is its. While the account itself is locked, its other
identifiers are answered like a wrong password — with no password checked,
so the lock still bounds the guesses.

Counters live in the shared cache (Redis in production): ``cache.incr`` is
atomic there, so every worker and app server counts together.
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db.models import F

from accounts.models import SecurityEvent, User
from accounts.services.events import event_record
from accounts.services.notices import notify_account
from authsite import clock, metrics
from authsite.client import ClientInfo
from authsite.errors import RateLimited
from authsite.hashers import PasswordHashingBusy, hash_bulkhead
from otp import services as otp


def lockout_key(*, user: User | None, identifier: str | None = None) -> str:
    """What failures are counted against: the account, else the identifier."""
    if user is not None and user.pk is not None:
        return f"account:{user.pk}"
    return f"identifier:{identifier or ''}"


def _cache_keys(key: str) -> tuple[str, str]:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"signin:fail:{digest}", f"signin:lock:{digest}"


def _locked_for(locked_until: float | None) -> int | None:
    if locked_until is None:
        return None
    wait = math.ceil(locked_until - clock.now().timestamp())
    return wait if wait > 0 else None


def signin_try(*, key: str, counted: bool = True) -> None:
    """Count one try on ``key`` *before* its password is checked, or raise
    ``RateLimited`` — and then no password is checked at all.

    Counting first is what makes the limit hold under concurrency: a burst of
    guesses sent together each take a number from the shared counter, and
    those past the limit are refused without a hash. The try that reaches the
    limit closes the lock before its own password is checked; once a lock has
    run out, one try — the first to reopen it — is checked again, and closes
    a lock twice as long. A success clears everything (``signin_clear``).
    ``counted=False``: a lock this try closes is not one more in the metrics
    (the account's own key counts it).
    """
    count_key, lock_key = _cache_keys(key)
    locked_until = cache.get(lock_key)
    wait = _locked_for(locked_until)
    if wait is not None:
        raise RateLimited(retry_after=wait)
    window = settings.LOGIN_FAILURE_WINDOW
    cache.add(count_key, 0, timeout=window)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.add(count_key, 1, timeout=window)
        count = 1
    limit = settings.LOGIN_FAILURE_LIMIT
    if count < limit:
        return
    if count > limit:
        # Past the limit: only the first try after a lock ran out goes on. A
        # try that saw no lock at all lost a race with the one closing it.
        reopened = locked_until is not None and cache.add(
            f"{lock_key}:reopened:{locked_until}", 1, timeout=window
        )
        if not reopened:
            retry = _locked_for(cache.get(lock_key)) or settings.LOGIN_LOCKOUT_BASE
            raise RateLimited(retry_after=retry)
    over = count - limit
    lock_seconds = min(
        settings.LOGIN_LOCKOUT_BASE * (2 ** min(over, 20)), settings.LOGIN_LOCKOUT_MAX
    )
    cache.set(lock_key, clock.now().timestamp() + lock_seconds, timeout=lock_seconds + window)
    cache.touch(count_key, lock_seconds + window)
    if counted:
        metrics.lockout_recorded()


def signin_refuse_if_locked(*, key: str) -> None:
    """Raise ``RateLimited`` if ``key`` is locked, counting nothing: a try on
    a locked key is answered at once, before it waits for a hash slot
    (``authsite/hashers.py``), where it would take a place in the queue."""
    wait = _locked_for(cache.get(_cache_keys(key)[1]))
    if wait is not None:
        raise RateLimited(retry_after=wait)


def signin_is_open(*, key: str, counted: bool = True) -> bool:
    """``signin_try`` that answers instead of raising: whether this try may
    check a password (it is counted either way)."""
    try:
        signin_try(key=key, counted=counted)
    except RateLimited:
        return False
    return True


def signin_clear(*, keys: list[str]) -> None:
    cache_keys: list[str] = []
    for key in keys:
        cache_keys.extend(_cache_keys(key))
    if cache_keys:
        cache.delete_many(cache_keys)


def _account_keys(user: User) -> list[str]:
    """The account's own key and those of each of its identifiers."""
    identifiers = [i for i in (user.email, user.phone, user.username) if i]
    return [lockout_key(user=user), *(lockout_key(user=None, identifier=i) for i in identifiers)]


def signin_clear_account(*, user: User) -> None:
    """Forget the failures of the account and of each of its identifiers (a
    reset, a change)."""
    signin_clear(keys=_account_keys(user))


def password_blocked(user: User) -> bool:
    """The password took SIGNIN_MAX_CONSECUTIVE_FAILURES wrong tries in a row
    (SPEC §18.3): it opens nothing until it is reset."""
    return user.password_failures >= settings.SIGNIN_MAX_CONSECUTIVE_FAILURES


def password_failure_counted(*, user: User | None, valid: bool, client: ClientInfo | None) -> None:
    """Keep the count of wrong passwords in a row, in the database (a cache
    flush must not reset it): a right one sets it back to 0; the wrong one
    that reaches the ceiling blocks the password and tells the account.

    The count moves by conditional UPDATEs, never past the ceiling, and
    "this one reached it" is what the database says, not the count read
    before the hash: of wrong tries in flight together exactly one tells
    (tests/attacks/test_password_ceiling_race.py). A wrong password for no
    account runs the same one UPDATE (matching no row) as one for an account
    below the ceiling's edge, so the statements of a failure do not tell
    whether an account exists (SPEC §14.1)."""
    if valid:
        if user is not None and user.password_failures:
            User.objects.filter(pk=user.pk).update(password_failures=0)
            user.password_failures = 0
        return
    ceiling = settings.SIGNIN_MAX_CONSECUTIVE_FAILURES
    rows = User.objects.filter(pk=user.pk if user is not None else 0)
    if rows.filter(password_failures__lt=ceiling - 1).update(
        password_failures=F("password_failures") + 1
    ):
        if user is not None:
            user.password_failures += 1
        return
    if user is None:
        return
    if not rows.filter(password_failures=ceiling - 1).update(password_failures=ceiling):
        return  # at the ceiling already: another try reached it and told
    user.password_failures = ceiling
    event_record(kind=SecurityEvent.PASSWORD_LOCKED, user=user, client=client)
    notify_account(user=user, template="notice_password_locked")


def password_confirm(*, user: User, password: str) -> bool:
    """Check the current password of a signed-in user (password change, address
    change, account deletion, re-authentication) under the same lockout as
    sign-in: a stolen access token must not become an unlimited password
    oracle. A try counts on the account and on each of its identifiers (the
    holder of the token knows them all already), so that a lock reached here
    also answers 429 to the account's sign-in."""
    keys = _account_keys(user)
    for key in keys:
        signin_refuse_if_locked(key=key)
    # The hash's slot before the count, as for a sign-in: a try a busy server
    # refuses checks no password and is not counted (authsite/hashers.py).
    with hash_bulkhead.reserved():
        for index, key in enumerate(keys):
            signin_try(key=key, counted=index == 0)
        if password_blocked(user):
            return False
        valid, upgrade = password_matches(user, password)
    password_failure_counted(user=user, valid=valid, client=None)
    if valid:
        signin_clear(keys=keys)
        if upgrade:
            password_upgrade(user, password)
    return valid


def password_matches(user: User, password: str) -> tuple[bool, bool]:
    """Whether ``password`` is the user's, and whether its hash should be
    remade with the current parameters (Django's ``must_update``). Unlike
    ``User.check_password`` it does not remake it: callers check inside their
    hash slot and upgrade after leaving it (``password_upgrade``), so that no
    slot is held across a database write — on SQLite a sign-in holding the
    slot and waiting for the write lock, and a sign-up holding the lock and
    waiting for the slot, would wait for each other."""
    stale: list[str] = []
    return check_password(password, user.password, setter=stale.append), bool(stale)


def password_upgrade(user: User, password: str) -> None:
    """Remake a right password's hash with the current parameters, as
    ``User.check_password`` does — but only over the hash that was checked:
    a password changed or reset meanwhile (the upgrade may wait for a slot)
    is never overwritten with the old one. When the bulkhead is full the
    upgrade is left for the next sign-in: the sign-in itself has succeeded.
    Not a new password, so no ``password_changed`` and no new
    ``security_version``."""
    checked = user.password
    try:
        encoded = make_password(password)
    except PasswordHashingBusy:
        return
    if User.objects.filter(pk=user.pk, password=checked).update(password=encoded):
        user.password = encoded


def signin_unblock_by_staff(*, user: User) -> int:
    """Account recovery after a stranger spent what anyone can spend (README,
    "Who can block whom"): the 24 h budgets of wrong codes of the account's
    addresses for sign-in, reset and second-step codes, and the sign-in
    lockout of the account and its identifiers. The password's own ceiling
    (SPEC §18.3) stays: only a reset lifts it, and the reset's codes now go
    out. Returns how many codes had their wrong tries forgotten."""
    forgiven = 0
    for destination in (user.email, user.phone):
        if destination:
            forgiven += otp.otp_budget_forgive(
                destination=destination, purposes=(otp.LOGIN, otp.PASSWORD_RESET, otp.MFA)
            )
    signin_clear_account(user=user)
    return forgiven
