"""Settings for the test suite: the production settings module, with test keys.

``DATABASE_URL`` still comes from the environment, so the same suite runs on
SQLite (the default) and on MariaDB (``.ci/run`` sets it).
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("JWT_SIGNING_KEY", "test-jwt-signing-key-not-for-production-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("EMAIL_URL", "memorymail://")
os.environ.setdefault("SMS_BACKEND", "otp.delivery.sms.OutboxSmsBackend")
os.environ.setdefault("OTP_DELIVERY_MODE", "sync")
os.environ.setdefault("SITE_DOMAIN", "testserver")

from .base import *  # noqa: F403
from .base import DATABASES, PASSWORD_HASHERS

# Argon2id with small cost parameters: the same hasher class and code path as
# production, without spending 100 MiB and a tenth of a second on every hash.
# It replaces the production Argon2 hasher: both use the algorithm name "argon2", and
# Django picks the last one listed to verify.
PASSWORD_HASHERS = [
    "authsite.settings.test.FastArgon2PasswordHasher",
    *(h for h in PASSWORD_HASHERS if not h.endswith("Argon2idPasswordHasher")),
]

from django.contrib.auth.hashers import Argon2PasswordHasher  # noqa: E402


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    algorithm = "argon2"
    time_cost = 1
    memory_cost = 256
    parallelism = 1


# Plain static storage: tests render pages without running collectstatic.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Never the internet: the breached-password check is off, and its address is a
# closed local port. Only its own tests turn it on, against a local stub.
PASSWORD_BREACH_CHECK = "off"
PASSWORD_BREACH_API_URL = "http://127.0.0.1:9"

# SQLite: the test database is a file in the temporary directory, not
# Django's default in-memory database in shared-cache mode. There a second
# connection that meets another's write lock fails at once with "database
# table is locked" (SQLITE_LOCKED does not wait for the busy timeout), so the
# tests that race threads flaked on SQLite. A file has production's WAL
# journal, IMMEDIATE transactions and busy timeout: races are decided as in
# production. Without fsync (synchronous=OFF): a test database need not
# survive a power cut.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"authsite-test-{os.getpid()}.sqlite3")
    }
    DATABASES["default"]["OPTIONS"]["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
    )
