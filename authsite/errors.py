"""Errors with a stable machine-readable ``code`` (SPEC §5.1).

Services raise these; the API's exception handler (``authsite.api``) renders
them into the error envelope and the HTML views turn them into form errors or
messages. ``code`` and ``status`` never change for a given class.

These classes are also *the* table of error codes: every error the API
answers is rendered from one of them (``authsite.api`` renders DRF's and
Django's own exceptions through ``MethodNotAllowed``, ``ServerError`` …), and
the OpenAPI document lists, per operation and status, the codes of the
classes the view names in ``api_doc(errors=[...])`` (``authsite.schema``), as
an ``enum``. A new error is a new class here; a new endpoint names the
classes it can raise.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


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
    """Base for refusals that carry the number of seconds to wait (429 + Retry-After).
    Their messages say what happened; the wait is added to them, in seconds
    (``message_with_wait``), so they do not say "try again later" themselves."""

    status = 429

    @property
    def wait_seconds(self) -> int:
        """The whole seconds to wait: what ``Retry-After`` says."""
        return max(1, math.ceil(self.retry_after or 1))

    def message_with_wait(self) -> str:
        """The message and the wait in seconds, the same number as ``Retry-After``
        ("Please wait before requesting another code. Try again in 27 seconds.")."""
        seconds = self.wait_seconds
        wait = ngettext(
            "Try again in %(seconds)d second.", "Try again in %(seconds)d seconds.", seconds
        ) % {"seconds": seconds}
        return f"{self.message} {wait}"


class OtpCooldown(RetryLater):
    code = "otp_cooldown"
    default_message = _("Please wait before requesting another code.")


class OtpSendLimit(RetryLater):
    code = "otp_send_limit"
    default_message = _("Too many codes were sent to this address.")


class OtpLocked(RetryLater):
    code = "otp_locked"
    default_message = _("Too many wrong codes for this address.")


class RateLimited(RetryLater):
    code = "rate_limited"
    default_message = _("Too many requests.")


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


# --- answers of the HTTP layer (rendered by authsite.api for DRF's and Django's exceptions)


class PermissionDenied(AuthsiteError):
    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class MethodNotAllowed(AuthsiteError):
    code = "method_not_allowed"
    status = 405
    default_message = _("Method not allowed.")


class NotAcceptable(AuthsiteError):
    code = "not_acceptable"
    status = 406
    default_message = _("This endpoint only answers application/json.")


class UnsupportedMediaType(AuthsiteError):
    code = "unsupported_media_type"
    status = 415
    default_message = _("Send the request body as application/json.")


class ServerError(AuthsiteError):
    code = "server_error"
    status = 500
    default_message = _("Something went wrong on our side.")


def error_classes() -> list[type[AuthsiteError]]:
    """Every error class with a code of its own (the table the schema is built from)."""
    found: list[type[AuthsiteError]] = []
    pending = list(AuthsiteError.__subclasses__())
    while pending:
        cls = pending.pop(0)
        pending.extend(cls.__subclasses__())
        if cls.code != AuthsiteError.code:
            found.append(cls)
    return found
