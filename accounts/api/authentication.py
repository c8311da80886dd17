from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.api import schema  # noqa: F401  (its OpenAPI description, registered on import)
from accounts.services.mfa import mfa_setup_required
from accounts.services.tokens import session_authenticate, token_malformed
from authsite.errors import MfaSetupRequired, TokenInvalid

# What an account that must add a second factor (MFA_REQUIRED) may still reach
# (SPEC §16.5: every other endpoint answers 403 mfa_setup_required).
MFA_SETUP_ENDPOINTS = frozenset(
    {
        "mfa",
        "mfa_totp_setup",
        "mfa_totp_confirm",
        "mfa_code",
        "mfa_recovery_codes",
        "reauthenticate",
        "reauthenticate_code",
        "passkeys",
        "passkey_register_options",
        "passkey_register",
        # Not a setup endpoint, but signing out is always possible.
        "logout",
    }
)


def _url_name(request: HttpRequest) -> str | None:
    match = getattr(getattr(request, "_request", request), "resolver_match", None)
    return match.url_name if match is not None else None


class SessionTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <access JWT>``, accepted only while its token
    session is live. Tokens are never read from the query string or a cookie.

    The authenticated request gets ``request.auth`` = the ``DeviceSession``.
    """

    keyword = "Bearer"

    def authenticate(self, request: HttpRequest):
        try:
            return self._authenticated(request)
        except (
            exceptions.NotAuthenticated,
            exceptions.AuthenticationFailed,
            MfaSetupRequired,
        ) as exc:
            view = (getattr(request, "parser_context", None) or {}).get("view")
            if not getattr(view, "token_optional", False):
                raise
            # A public endpoint that uses a token when one is given
            # (/auth/otp/resend: only its contact_change purpose needs it).
            # A refused token makes the request anonymous instead of failing
            # it, so a client that sends its old token with every call still
            # gets its sign-in code; the view raises the refusal where it
            # needs the account.
            request.token_refusal = exc
            return None

    def _authenticated(self, request: HttpRequest):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != self.keyword.lower():
            raise exceptions.NotAuthenticated(_("Send the access token as 'Bearer <token>'."))
        try:
            user, session, _token = session_authenticate(raw_access=parts[1])
        except TokenInvalid as exc:
            # SPEC §5.1: "no or malformed bearer token" is not_authenticated;
            # a JWT that is expired, forged or revoked is token_invalid.
            if token_malformed(parts[1]):
                raise exceptions.NotAuthenticated(_("The access token is malformed.")) from None
            raise exceptions.AuthenticationFailed(exc.message, code="token_invalid") from None
        if mfa_setup_required(user) and _url_name(request) not in MFA_SETUP_ENDPOINTS:
            raise MfaSetupRequired()
        return user, session

    def authenticate_header(self, request: HttpRequest) -> str:
        return f'{self.keyword} realm="api"'
