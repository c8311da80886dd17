"""Errors with a stable machine-readable ``code`` (SPEC §5.1).

Services raise these; the API's exception handler (``authsite.api``) renders
them into the error envelope and the HTML views turn them into form errors or
messages. ``code`` and ``status`` never change for a given class.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class AuthsiteError(Exception):
    code = "error"
    status = 400
    default_message = _("The request could not be completed.")

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        data: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.message = str(message) if message is not None else str(self.default_message)
        self.errors = errors
        self.data = data
        self.retry_after = retry_after
        super().__init__(self.message)


class ValidationFailed(AuthsiteError):
    code = "validation_error"
    status = 400
    default_message = _("Some fields are invalid.")

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationFailed:
        return cls(errors={field: [str(message)]})


class InvalidCredentials(AuthsiteError):
    code = "invalid_credentials"
    status = 401
    default_message = _("The email, phone number, username or password is incorrect.")


class AccountNotVerified(AuthsiteError):
    code = "account_not_verified"
    status = 403
    default_message = _("This account is not verified yet. Enter the code we sent you.")


class AccountInactive(AuthsiteError):
    code = "account_inactive"
    status = 403
    default_message = _("This account has been disabled.")


class AccountExists(AuthsiteError):
    code = "account_exists"
    status = 409
    default_message = _("An account with this address already exists. Sign in instead.")


class OtpInvalid(AuthsiteError):
    code = "otp_invalid"
    status = 400
    default_message = _("Invalid or expired code.")


class OtpAttemptsExceeded(AuthsiteError):
    code = "otp_attempts_exceeded"
    status = 400
    default_message = _("Too many wrong attempts for this code. Request a new code.")


class RetryLater(AuthsiteError):
    """Base for refusals that carry the number of seconds to wait (429 + Retry-After)."""

    status = 429


class OtpCooldown(RetryLater):
    code = "otp_cooldown"
    default_message = _("Please wait before requesting another code.")


class OtpSendLimit(RetryLater):
    code = "otp_send_limit"
    default_message = _("Too many codes were sent to this address. Try again later.")


class OtpLocked(RetryLater):
    code = "otp_locked"
    default_message = _("Too many wrong codes for this address. Try again later.")


class RateLimited(RetryLater):
    code = "rate_limited"
    default_message = _("Too many requests. Try again later.")


class NotAuthenticated(AuthsiteError):
    code = "not_authenticated"
    status = 401
    default_message = _("Authentication credentials were not provided.")


class TokenInvalid(AuthsiteError):
    code = "token_invalid"
    status = 401
    default_message = _("The token is invalid or expired.")


class TokenReused(AuthsiteError):
    code = "token_reused"
    status = 401
    default_message = _("This refresh token was already used. The session has been signed out.")


class CurrentPasswordIncorrect(AuthsiteError):
    code = "current_password_incorrect"
    status = 400
    default_message = _("The current password is incorrect.")


class PasswordUnchanged(AuthsiteError):
    code = "password_unchanged"
    status = 400
    default_message = _("The new password must be different from the current one.")


class NotFound(AuthsiteError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class DeliveryRefused(AuthsiteError):
    """The destination cannot receive codes (for example an SMS country not allowed)."""

    code = "validation_error"
    status = 400
    default_message = _("We cannot send a code to this destination.")


class ServiceUnavailable(AuthsiteError):
    code = "service_unavailable"
    status = 503
    default_message = _("The service is temporarily unavailable. Try again shortly.")


class MfaRequired(AuthsiteError):
    """The first factor was right; the account asks for a second one (SPEC
    §16.1). ``data`` holds ``mfa_token``, ``methods`` and ``expires_in``."""

    code = "mfa_required"
    status = 401
    default_message = _("Enter your second factor to finish signing in.")


class MfaSetupRequired(AuthsiteError):
    """MFA_REQUIRED and the account has no second factor yet (SPEC §16.5)."""

    code = "mfa_setup_required"
    status = 403
    default_message = _("Add a second factor to your account to continue.")


class ReauthenticationRequired(AuthsiteError):
    """A sensitive change needs a recent authentication (SPEC §16.4)."""

    code = "reauthentication_required"
    status = 401
    default_message = _("Confirm it is you: sign in again, or enter a code, to continue.")


class PasskeyInvalid(AuthsiteError):
    """A passkey ceremony that did not verify: an unknown or replayed
    challenge, one of another ceremony or account, an expired one, a wrong
    origin or relying party, a bad signature, a counter that went backwards
    (SPEC §17)."""

    code = "passkey_invalid"
    status = 400
    default_message = _("This passkey could not be verified. Try again.")
