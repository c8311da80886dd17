"""The password hasher: Argon2id with Django's costs, one lane per hash by default.

Django's ``Argon2PasswordHasher`` hashes with 8 lanes (threads). Our app
servers run one sync worker per core (gunicorn), so under load every core is
already busy with a request and 8 threads per hash only contend. On the
2-core bench machine, with two workers, sign-ins went from 9.3 to 10.6-10.7
per second with one lane, for the same CPU per hash measured alone
(README, "Benchmark").

The lanes do not change what a guess costs an attacker (memory x passes,
100 MiB x 2 here, as in Django); they only let one hash use several cores,
which shortens a sign-in on an idle server (about 100 ms instead of 175 ms on
that machine). ``ARGON2_PARALLELISM`` sets them. The algorithm name stays
"argon2", so hashes made with other parameters (Django's, 8 lanes) still
verify and are rehashed with these at the next sign-in.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    @property
    def parallelism(self) -> int:  # type: ignore[override]
        return settings.ARGON2_PARALLELISM
