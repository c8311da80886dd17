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
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
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
