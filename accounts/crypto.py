"""Secrets kept at rest, encrypted: the TOTP secrets of second factors
(SPEC §16). Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).

The key is ``MFA_ENCRYPTION_KEY`` — one or more Fernet keys, comma-separated:
the first encrypts, every one decrypts, so a key can be rotated by putting a
new one first (``manage.py shell`` re-encrypts nothing; old secrets keep
working until their factor is set up again). Without it the key is derived
from ``SECRET_KEY`` (HKDF-SHA256, its own label), so a first run needs no
configuration; rotating ``SECRET_KEY`` then makes existing TOTP secrets
unreadable, which is why production sets its own key.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """A stored secret could not be decrypted with any configured key."""


def _derived_key(secret_key: str) -> bytes:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"authsite.mfa.secrets"
    ).derive(secret_key.encode("utf-8"))
    return base64.urlsafe_b64encode(derived)


@lru_cache(maxsize=4)
def _box(configured: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    try:
        fernets = [Fernet(k) for k in keys] if keys else [Fernet(_derived_key(secret_key))]
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "MFA_ENCRYPTION_KEY must be one or more Fernet keys (comma-separated), made with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
        ) from exc
    return MultiFernet(fernets)


def _current_box() -> MultiFernet:
    return _box(settings.MFA_ENCRYPTION_KEY, settings.SECRET_KEY)


def secret_encrypt(plain: str) -> str:
    return _current_box().encrypt(plain.encode("utf-8")).decode("ascii")


def secret_decrypt(token: str) -> str:
    try:
        return _current_box().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise SecretUnreadable() from exc
