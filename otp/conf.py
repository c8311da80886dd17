"""The otp app's tunables, read from ``django.conf.settings`` at access time.

A property per setting (allauth's ``app_settings`` pattern), so a test that
overrides a setting sees it take effect at once. Defaults are those of SPEC §4;
the project settings (``authsite/settings/base.py``) read them from the
environment.
"""

from __future__ import annotations

from django.conf import settings

# The failure budget spans every code sent to a destination for a purpose over
# this window (SPEC §4: "wrong attempts per destination and purpose per 24 h").
FAILURE_WINDOW_SECONDS = 24 * 60 * 60
# The hourly send cap's window.
SEND_WINDOW_SECONDS = 60 * 60


class AppSettings:
    def _setting(self, name: str, default):
        return getattr(settings, name, default)

    @property
    def LENGTH(self) -> int:
        # Never fewer than 6 digits (SPEC §14 rule 4), whatever the environment says.
        return max(6, int(self._setting("OTP_LENGTH", 6)))

    @property
    def TTL(self) -> int:
        """Lifetime of a code, in seconds."""
        return int(self._setting("OTP_TTL", 10 * 60))

    @property
    def MAX_ATTEMPTS(self) -> int:
        return int(self._setting("OTP_MAX_ATTEMPTS", 5))

    @property
    def RESEND_COOLDOWN(self) -> int:
        return int(self._setting("OTP_RESEND_COOLDOWN", 30))

    @property
    def MAX_SENDS_PER_HOUR(self) -> int:
        return int(self._setting("OTP_MAX_SENDS_PER_HOUR", 4))

    @property
    def MAX_FAILURES_PER_DAY(self) -> int:
        return int(self._setting("OTP_MAX_FAILURES_PER_DAY", 10))

    @property
    def PURGE_GRACE(self) -> int:
        return int(self._setting("OTP_PURGE_GRACE", 24 * 60 * 60))

    @property
    def DELIVERY_MODE(self) -> str:
        """``"thread"`` (off the request path) or ``"sync"`` (in the request, after commit)."""
        return str(self._setting("OTP_DELIVERY_MODE", "thread")).lower()

    @property
    def SMS_BACKEND(self) -> str:
        return self._setting("SMS_BACKEND", "otp.delivery.sms.ConsoleSmsBackend")

    @property
    def SMS_ALLOWED_COUNTRIES(self) -> list[str]:
        return [c.upper() for c in self._setting("SMS_ALLOWED_COUNTRIES", []) or []]

    @property
    def SITE_NAME(self) -> str:
        return self._setting("SITE_NAME", "authsite")

    @property
    def SITE_DOMAIN(self) -> str:
        return self._setting("SITE_DOMAIN", "localhost")

    @property
    def TWILIO_ACCOUNT_SID(self) -> str:
        return self._setting("TWILIO_ACCOUNT_SID", "")

    @property
    def TWILIO_AUTH_TOKEN(self) -> str:
        return self._setting("TWILIO_AUTH_TOKEN", "")

    @property
    def TWILIO_FROM_NUMBER(self) -> str:
        return self._setting("TWILIO_FROM_NUMBER", "")

    @property
    def TWILIO_API_BASE(self) -> str:
        return self._setting("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")

    @property
    def TWILIO_TIMEOUT(self) -> float:
        """Seconds before a Twilio request gives up (a delivery failure)."""
        return float(self._setting("TWILIO_TIMEOUT", 10))


app_settings = AppSettings()
