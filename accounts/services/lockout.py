"""Failed sign-ins counted per account, whatever the IP (SPEC §14 rule 3, §22.5).

The count is kept per *account* when the identifier names one: failures on
its email, its phone and its username add up to one lock, and a look-alike
spelling either names another account or none (``accounts.identifiers``).
An identifier that names no account — unknown, or only a sign-up attempt —
keeps a count of its own, so the sequence of answers does not tell whether an
account exists.

After ``LOGIN_FAILURE_LIMIT`` failures within ``LOGIN_FAILURE_WINDOW`` seconds
the key is locked for ``LOGIN_LOCKOUT_BASE`` seconds; every further failure
after a lock doubles the lock, up to ``LOGIN_LOCKOUT_MAX``. A success clears
the count; so do a password reset and a password change (a locked user can
still reset).

Counters live in the shared cache (Redis in production): ``cache.incr`` is
atomic there, so every worker and app server counts together.
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.core.cache import cache

from accounts.models import User
from authsite import clock, metrics
from authsite.errors import RateLimited


def lockout_key(*, user: User | None, identifier: str | None = None) -> str:
    """What failures are counted against: the account, else the identifier."""
    if user is not None and user.pk is not None:
        return f"account:{user.pk}"
    return f"identifier:{identifier or ''}"


def _cache_keys(key: str) -> tuple[str, str]:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"signin:fail:{digest}", f"signin:lock:{digest}"


def signin_check_lock(*, key: str) -> None:
    """Raise ``RateLimited`` while the key is locked."""
    _count_key, lock_key = _cache_keys(key)
    locked_until = cache.get(lock_key)
    if locked_until is None:
        return
    wait = math.ceil(locked_until - clock.now().timestamp())
    if wait > 0:
        raise RateLimited(retry_after=wait)


def signin_record_failure(*, key: str) -> int:
    """Count a failure; lock the key once over the limit. Returns the count."""
    count_key, lock_key = _cache_keys(key)
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
        metrics.lockout_recorded()
        cache.touch(count_key, lock_seconds + window)
    return count


def signin_clear(*, keys: list[str]) -> None:
    cache_keys: list[str] = []
    for key in keys:
        cache_keys.extend(_cache_keys(key))
    if cache_keys:
        cache.delete_many(cache_keys)


def signin_clear_account(*, user: User) -> None:
    """Forget the account's failures (a success, a reset, a change)."""
    signin_clear(keys=[lockout_key(user=user)])


def password_confirm(*, user: User, password: str) -> bool:
    """Check the current password of a signed-in user (password change, address
    change, account deletion, re-authentication) under the same lockout as
    sign-in: a stolen access token must not become an unlimited password
    oracle. A wrong password counts a failure on the account."""
    key = lockout_key(user=user)
    signin_check_lock(key=key)
    if user.check_password(password):
        return True
    signin_record_failure(key=key)
    return False
