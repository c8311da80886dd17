"""The password hasher: Argon2id whose costs are settings (SPEC §18.6).

``ARGON2_TIME_COST`` (passes, default 2) and ``ARGON2_MEMORY_COST`` (KiB,
default 102400 = 100 MiB) default to Django's ``Argon2PasswordHasher``;
``authsite/settings/base.py`` checks their ranges at start-up. They are read
at every hash, so ``settings`` overrides in tests take effect at once.

``ARGON2_PARALLELISM`` (lanes, i.e. threads per hash) defaults to 1, not
Django's 8. Our app servers run one sync worker per core (gunicorn), so under
load every core is already busy with a request and 8 threads per hash only
contend. On the 2-core bench machine, with two workers, sign-ins went from
9.3 to 10.6-10.7 per second with one lane, for the same CPU per hash measured
alone (README, "Benchmark").

The lanes do not change what a guess costs an attacker (memory x passes,
100 MiB x 2 here, as in Django); they only let one hash use several cores,
which shortens a sign-in on an idle server (about 100 ms instead of 175 ms on
that machine).

The algorithm name stays "argon2", so hashes made with other parameters
(Django's 8 lanes, an older cost setting) still verify, and Django's
``must_update`` — which compares a stored hash's parameters with these —
has them rehashed with the configured costs at the next successful sign-in.

The bulkhead
------------
A password hash costs a quarter of a second of CPU; a token call, a
millisecond. Under a storm of sign-ins, workers busy hashing would leave token
calls waiting behind them. So every hash of this hasher (a sign-in's check,
the dummy hash for an unknown identifier, a new password's hash) takes a slot
of ``hash_bulkhead``, a per-process bound:

- at most ``PASSWORD_HASH_CONCURRENCY`` hashes run at once in a worker
  process (default 1: with gunicorn's default of one process per core, one
  hash per core);
- at most ``PASSWORD_HASH_QUEUE`` more wait for a slot (default 4); the hash
  that finds the queue full is refused at once with ``PasswordHashingBusy``
  — 503 ``service_unavailable`` with ``Retry-After``
  (``PASSWORD_HASH_RETRY_AFTER`` seconds; the pages answer the 503 page) —
  instead of waiting behind a growing queue.

With gunicorn's gthread workers (``gunicorn.conf.py``) the other threads of a
worker keep serving token calls meanwhile: argon2-cffi releases the GIL while
it hashes. And the hash itself runs on a thread of its own (one per slot, per
process) whose scheduling priority is lowered by ``PASSWORD_HASH_NICE``
(default 10; 0 leaves it as it is): when token calls want the CPU they get
it first, and the hashes use what they leave. Measured on the 2-core bench
machine, a worker's Python code ran at 59 % of its speed beside a hash of
equal priority and at 99 % beside a hash at nice 10. README, "gunicorn",
says how to size workers, threads and these.

The sign-in lockout counts every try before its password is checked
(``accounts.services.lockout.signin_try``), so that concurrent guesses cannot
outrun the count. A try the bulkhead refuses checks no password, and must not
be counted: were it counted, anyone able to make the server busy would lock
the owners of accounts out as they retried with their right passwords (found
by ``make soak``; ``tests/attacks/test_bulkhead_lockout.py``). So a password
check under the lockout (a sign-in, a current-password confirmation) is
answered 429 at once if its key is locked; otherwise it takes its slot first
(``HashBulkhead.reserved``), then is counted, then checked, in that slot.
The slot is never held across a database write: an old hash is remade after
the slot is left (``accounts.services.lockout.password_matches``), and new
passwords are hashed before their transaction begins — on SQLite a writer
waiting for a slot and a slot holder waiting for the write lock would wait
for each other. The reservation is taken whatever the configured hasher.
Each refusal is counted in the metric ``authsite_password_hash_refusals_total``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher
from django.utils.translation import gettext_lazy as _

from authsite import metrics
from authsite.errors import ServiceUnavailable

T = TypeVar("T")


class PasswordHashingBusy(ServiceUnavailable):
    """Too many password hashes running and waiting in this process."""

    default_message = _("Too many sign-ins at the moment. Try again in a few seconds.")


class HashBulkhead:
    """At most ``PASSWORD_HASH_CONCURRENCY`` holders of a slot at once, at most
    ``PASSWORD_HASH_QUEUE`` waiting; one more is refused (``PasswordHashingBusy``).
    The settings are read at every ``slot()``, so tests can change them."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._free = threading.Condition(threading.Lock())
        self.running = 0
        self.waiting = 0
        self._held = threading.local()  # a slot this thread took with reserved()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        if getattr(self._held, "slot", False):  # this thread's reserved slot
            yield
            return
        concurrency = max(1, settings.PASSWORD_HASH_CONCURRENCY)
        with self._free:
            if self.running >= concurrency:
                if self.waiting >= settings.PASSWORD_HASH_QUEUE:
                    metrics.password_hash_refused()
                    raise PasswordHashingBusy(retry_after=settings.PASSWORD_HASH_RETRY_AFTER)
                self.waiting += 1
                try:
                    while self.running >= concurrency:
                        self._free.wait()
                finally:
                    self.waiting -= 1
            self.running += 1
        try:
            yield
        finally:
            with self._free:
                self.running -= 1
                self._free.notify()

    @contextmanager
    def reserved(self) -> Iterator[None]:
        """Take a slot now, before the work that leads to a hash, and keep it
        for every hash this thread runs inside the block (``run`` uses it
        instead of taking another). A sign-in reserves its slot before the
        lockout counts its try: a try refused here was never counted, so a
        busy server does not lock anyone out (``tests/attacks/
        test_bulkhead_lockout.py``). Nested reservations share the first."""
        if getattr(self._held, "slot", False):
            yield
            return
        with self.slot():
            self._held.slot = True
            try:
                yield
            finally:
                self._held.slot = False

    def run(self, work: Callable[[], T]) -> T:
        """``work()`` in a slot (the thread's reserved one, else a new one), on
        one of the hashing threads (lower priority)."""
        with self.slot():
            return self._executor().submit(work).result()

    def _executor(self) -> ThreadPoolExecutor:
        # One thread per slot, made in the worker process (not before fork).
        size = max(1, settings.PASSWORD_HASH_CONCURRENCY)
        with self._free:
            if self._pool is None or self._pool_size != size:
                old, self._pool = (
                    self._pool,
                    ThreadPoolExecutor(
                        max_workers=size,
                        thread_name_prefix="password-hash",
                        initializer=_lower_priority,
                        initargs=(settings.PASSWORD_HASH_NICE,),
                    ),
                )
                self._pool_size = size
                if old is not None:
                    old.shutdown(wait=False)
            return self._pool


def _lower_priority(nice: int) -> None:
    """Lower the scheduling priority of this thread only (Linux: a thread's
    id names it to setpriority). Elsewhere, or not allowed: left as it is."""
    if nice > 0:
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


hash_bulkhead = HashBulkhead()
# A forked worker starts with an empty bulkhead (and a lock nobody holds).
os.register_at_fork(after_in_child=hash_bulkhead._reset)


class Argon2idPasswordHasher(Argon2PasswordHasher):
    def encode(self, password: str, salt: str) -> str:
        return hash_bulkhead.run(lambda: super(Argon2idPasswordHasher, self).encode(password, salt))

    def verify(self, password: str, encoded: str) -> bool:
        return hash_bulkhead.run(
            lambda: super(Argon2idPasswordHasher, self).verify(password, encoded)
        )

    @property
    def time_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_MEMORY_COST

    @property
    def parallelism(self) -> int:  # type: ignore[override]
        return settings.ARGON2_PARALLELISM


class RecoveryCodeHasher(PBKDF2PasswordHasher):
    """Salted hashes of recovery codes (SPEC §16, ASVS 6.5.2). A recovery code
    carries about 50 random bits, so a modest iteration count already puts an
    offline search out of reach (2^50 guesses x 20,000 iterations each); a
    password's Argon2 cost would make checking ten of them take seconds."""

    algorithm = "pbkdf2_sha256_recovery"
    iterations = 20_000
