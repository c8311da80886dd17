"""What this deployment offers a client (SPEC §19.3), read from the settings
at call time, for ``GET /api/v1/config``: a client adapts to it instead of
hard-coding sign-in methods, code lengths or password rules.

Second factors (SPEC §16): an authenticator app and recovery codes always;
a passkey as a second factor with ``WEBAUTHN_ENABLED``; codes by email or SMS
with ``MFA_ALLOW_CODE_FACTOR``. Passkey sign-in (SPEC §17) with
``WEBAUTHN_ENABLED``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation

from otp.conf import app_settings as otp_settings

SIGNIN_METHODS = ("password", "code", "passkey")
SECOND_FACTORS = ("totp", "recovery_codes", "webauthn", "code")
SIGNUP_CHANNELS = ("email", "phone")
BREACH_CHECK_MODES = ("off", "fail_open", "fail_closed")


def _second_factors_enabled() -> list[str]:
    """The second factors a user of this deployment can set up, in
    SECOND_FACTORS order."""
    enabled = {
        "totp": True,
        "recovery_codes": True,
        "webauthn": settings.WEBAUTHN_ENABLED,
        "code": settings.MFA_ALLOW_CODE_FACTOR,
    }
    return [factor for factor in SECOND_FACTORS if enabled[factor]]


def _password_min_length() -> int:
    for validator in password_validation.get_default_password_validators():
        if isinstance(validator, password_validation.MinimumLengthValidator):
            return validator.min_length
    return 1


def _signin_methods_enabled() -> list[str]:
    """The first factors, in SIGNIN_METHODS order: a passkey with
    ``WEBAUTHN_ENABLED`` (as ``passkeys`` says too)."""
    return [m for m in SIGNIN_METHODS if m != "passkey" or settings.WEBAUTHN_ENABLED]


def capabilities_get() -> dict[str, Any]:
    return {
        "signin_methods": _signin_methods_enabled(),
        "second_factors": _second_factors_enabled(),
        "passkeys": bool(settings.WEBAUTHN_ENABLED),
        "code": {
            "length": otp_settings.LENGTH,
            "lifetime": otp_settings.TTL,
            "resend_cooldown": otp_settings.RESEND_COOLDOWN,
            "max_attempts": otp_settings.MAX_ATTEMPTS,
            "max_sends_per_hour": otp_settings.MAX_SENDS_PER_HOUR,
        },
        "password": {
            "min_length": _password_min_length(),
            "max_length": settings.PASSWORD_MAX_LENGTH,
            "require_complexity": bool(getattr(settings, "PASSWORD_REQUIRE_COMPLEXITY", True)),
            "breach_check": settings.PASSWORD_BREACH_CHECK,
        },
        "languages": [{"code": code, "name": name} for code, name in settings.LANGUAGES],
        "signup": {
            "channels": list(SIGNUP_CHANNELS),
            "code_login_creates_account": bool(settings.OTP_LOGIN_CREATES_ACCOUNT),
            "sms_countries": otp_settings.SMS_ALLOWED_COUNTRIES,
        },
    }
