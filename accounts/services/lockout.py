"""Failed sign-ins counted per identifier, whatever the IP (SPEC §14 rule 3).

After ``LOGIN_FAILURE_LIMIT`` failures within ``LOGIN_FAILURE_WINDOW`` seconds
the identifier is locked for ``LOGIN_LOCKOUT_BASE`` seconds; every further
failure after a lock doubles the lock, up to ``LOGIN_LOCKOUT_MAX``. Unknown
identifiers are counted exactly like known ones, so the sequence of answers
does not tell whether an account exists. A success clears the count; so do a
password reset and a password change (a locked user can still reset).

Counters live in the shared cache (Redis in production): ``cache.incr`` is
atomic there, so every worker and app server counts together.
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.core.cache import cache

from authsite import clock, metrics
from authsite.errors import RateLimited


def _keys(identifier: str) -> tuple[str, str]:
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:40]
    return f"signin:fail:{digest}", f"signin:lock:{digest}"


def signin_check_lock(*, identifier: str) -> None:
    """Raise ``RateLimited`` while the identifier is locked."""
    _count_key, lock_key = _keys(identifier)
    locked_until = cache.get(lock_key)
    if locked_until is None:
        return
    wait = math.ceil(locked_until - clock.now().timestamp())
    if wait > 0:
        raise RateLimited(retry_after=wait)


def signin_record_failure(*, identifier: str) -> int:
    """Count a failure; lock the identifier once over the limit. Returns the count."""
    count_key, lock_key = _keys(identifier)
    window = settings.LOGIN_FAILURE_WINDOW
    cache.add(count_key, 0, timeout=window)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.add(count_key, 1, timeout=window)
        count = 1
    limit = settings.LOGIN_FAILURE_LIMIT
    if count >= limit:
        over = count - limit
        lock_seconds = min(
            settings.LOGIN_LOCKOUT_BASE * (2 ** min(over, 20)), settings.LOGIN_LOCKOUT_MAX
        )
        locked_until = clock.now().timestamp() + lock_seconds
        # Keep counting failures while locked-out attempts keep coming.
        cache.set(lock_key, locked_until, timeout=lock_seconds + window)
        cache.touch(count_key, lock_seconds + window)
        metrics.lockout_recorded()
    return count


def signin_clear(*, identifiers: list[str | None]) -> None:
    keys: list[str] = []
    for identifier in identifiers:
        if identifier:
            keys.extend(_keys(identifier))
    if keys:
        cache.delete_many(keys)


def password_confirm(*, user, password: str) -> bool:
    """Check the current password of a signed-in user (password change, address
    change, account deletion) under the same per-identifier lockout as sign-in:
    a stolen access token must not become an unlimited password oracle. A wrong
    password counts a failure on every identifier of the account."""
    identifiers = [i for i in (user.email, user.phone, user.username) if i]
    for identifier in identifiers:
        signin_check_lock(identifier=identifier)
    if user.check_password(password):
        return True
    for identifier in identifiers:
        signin_record_failure(identifier=identifier)
    return False
