"""The JSON front door of the accounts app: validate, call a service, shape
the answer. Errors are raised by the services and rendered by
``authsite.api.exception_handler``."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors
from accounts.api import serializers as s
from accounts.services import account, contact, password, resend, signin, signup, tokens
from authsite.api import ApiView, ApiViewMixin, success
from authsite.client import client_info
from authsite.errors import (
    AccountExists,
    AccountInactive,
    AccountNotVerified,
    CurrentPasswordIncorrect,
    InvalidCredentials,
    MfaRequired,
    NotFound,
    OtpAttemptsExceeded,
    OtpCooldown,
    OtpInvalid,
    OtpLocked,
    OtpSendLimit,
    PasswordUnchanged,
    RateLimited,
    ReauthenticationRequired,
    TokenInvalid,
    TokenReused,
)
from authsite.ratelimits import rate_limited
from authsite.schema import api_doc, documented_errors

# The errors of a kind of step (authsite.schema adds those every operation of a
# kind can answer: validation_error, the token errors, rate_limited …).
SEND_ERRORS = [OtpCooldown, OtpSendLimit, OtpLocked]
CODE_ERRORS = [OtpInvalid, OtpAttemptsExceeded, OtpLocked]
PASSWORD_CHECK_ERRORS = [CurrentPasswordIncorrect, RateLimited]
# SPEC §16.4: sensitive changes need an authentication of this session within
# REAUTH_WINDOW (its sign-in or /auth/reauthenticate), or the inline password.
STEP_UP_INLINE = (
    "Within REAUTH_WINDOW seconds of this session's sign-in or of "
    "/auth/reauthenticate, no confirmation is needed; after it, without one, "
    "401 reauthentication_required."
)
LIMITED = (
    "429 answers carry `Retry-After` and a message with the same number of seconds "
    "(otp_cooldown, otp_send_limit, otp_locked, rate_limited)."
)

# Example values for the document.
EMAIL, PHONE, PASSWORD = "ada@example.com", "+919876543210", "Correct-Horse-9!"
OTP, SIGNUP_TOKEN = "123456", "Zq3xV9sKp0bLrT2yWm8nHc4dJf6gQa1eUo5iXk7lPzM"
ACCESS, REFRESH = (
    "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2ln",
    ("eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln"),
)
USER_EXAMPLE = {
    "id": 4815162342,
    "email": EMAIL,
    "phone": None,
    "username": "ada",
    "email_verified": True,
    "phone_verified": False,
    "pending_email": None,
    "pending_phone": None,
}
SESSION_EXAMPLE = {
    "access": ACCESS,
    "refresh": REFRESH,
    "token_type": "Bearer",
    "expires_at": "2026-11-21T11:00:00Z",
    "refresh_expires_at": "2026-11-28T10:00:00Z",
    "session_id": "3f1c2b7e-8a4d-4c6e-9b0a-5d2e7f3a1c9b",
    "user": USER_EXAMPLE,
}
CODE_SENT_EXAMPLE = {
    "channel": "email",
    "destination": "ad***@example.com",
    "expires_in": 600,
    "resend_in": 30,
}


def _validated(serializer_class, request: Request, **kwargs):
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _signed_in(signed_in: signin.SignedIn, *, message: str, **extra) -> Response:
    assert signed_in.tokens is not None  # the API door asks for a token session
    return success(s.token_session_data(signed_in.tokens, **extra), message=message)


class PublicView(ApiView):
    """Endpoints for clients that are not signed in (no bearer token read)."""

    authentication_classes: list = []
    permission_classes: list = []


class SignupView(PublicView):
    @api_doc(
        summary="Sign up",
        description=(
            "Starts a sign-up: nothing is created yet. A code goes to the phone if one is "
            "given, else to the email; with both, the email is sent a code of its own, "
            "entered through `/auth/contact/verify` once signed in. The answer carries a "
            "`signup_token`: the account is made when the code is sent with it to "
            "`/auth/signup/verify`. The answer is the same for a fresh address, one with "
            "other pending sign-ups and one that already belongs to an account (which gets "
            "a notice instead of a code), unless ACCOUNT_SIGNUP_REVEALS_EXISTING "
            "(then 409 account_exists). " + LIMITED
        ),
        request=s.SignupRequestSerializer,
        data=s.SignupStartedSerializer,
        status=201,
        errors=[AccountExists, *SEND_ERRORS],
        request_example={"phone": PHONE, "email": EMAIL, "password": PASSWORD, "first_name": "Ada"},
        message_example=(
            "Enter the code we sent to finish signing up. We also sent a code to "
            "your email address: enter it once signed in to add that address."
        ),
        data_example={
            "signup_token": SIGNUP_TOKEN,
            "channel": "sms",
            "destination": "+91******3210",
            "expires_in": 600,
            "resend_in": 30,
            "pending": {"channel": "email", "destination": "ad***@example.com"},
        },
    )
    @rate_limited("anon_ip", "code_request_ip")
    def post(self, request: Request) -> Response:
        data = _validated(s.SignupInputSerializer, request)
        started = signup.signup_start(
            email=data.get("email"),
            phone=data.get("phone"),
            dialing_code=data.get("dialing_code"),
            password=data["password"],
            username=data.get("username"),
            profile=s.profile_input(request.data),
            client=client_info(request),
        )
        message = _("Enter the code we sent to finish signing up.")
        if started.pending is not None:
            # The channel, not the address: the text is the same for every
            # address (tests/timing), `data.pending` has the masked one.
            if started.pending.channel == "sms":
                message = _(
                    "Enter the code we sent to finish signing up. We also sent a code to "
                    "your phone number: enter it once signed in to add that number."
                )
            else:
                message = _(
                    "Enter the code we sent to finish signing up. We also sent a code to "
                    "your email address: enter it once signed in to add that address."
                )
        return success(s.signup_started_data(started), message=message, status=201)


class SignupVerifyView(PublicView):
    code_field = "otp"

    @api_doc(
        summary="Verify a sign-up code",
        description=(
            "The code and the `signup_token` of the same sign-up: the account is made, "
            "its address verified, and a token session opened. Optional `username` and "
            "profile fields are applied too (over those given at sign-up). 409 "
            "account_exists when the address was taken meanwhile (sign in instead)."
        ),
        request=s.SignupVerifyRequestSerializer,
        data=s.TokenSessionSerializer,
        errors=[*CODE_ERRORS, AccountExists],
        request_example={"signup_token": SIGNUP_TOKEN, "otp": OTP},
        message_example="Account verified. You are signed in.",
        data_example=SESSION_EXAMPLE,
    )
    @rate_limited("anon_ip", "login_ip")
    def post(self, request: Request) -> Response:
        data = _validated(s.SignupVerifyInputSerializer, request)
        signed_in = signin.signin_signup(
            signup_token=data["signup_token"],
            code=data["otp"],
            username=data.get("username"),
            profile=s.profile_input(request.data),
            client=client_info(request),
            kind=signin.API,
        )
        return _signed_in(signed_in, message=_("Account verified. You are signed in."))


class LoginView(PublicView):
    @api_doc(
        summary="Sign in with a password",
        description=(
            "By email, phone (E.164, or national digits with `dialing_code`) or "
            "username. Unknown identifier and wrong password give the same 401. "
            "After 10 failures in 15 minutes an account (all its identifiers together) "
            "is locked (429) for a growing delay, whatever the IP. The right password of a "
            "sign-up that was never verified answers 403 account_not_verified with "
            "`data.verification` and a new `data.signup_token` for it."
        ),
        request=s.LoginInputSerializer,
        data=s.TokenSessionSerializer,
        errors=[InvalidCredentials, AccountNotVerified, AccountInactive, MfaRequired],
        request_example={"identifier": EMAIL, "password": PASSWORD},
        message_example="Signed in.",
        data_example=SESSION_EXAMPLE,
    )
    @rate_limited("anon_ip", "login_ip")
    def post(self, request: Request) -> Response:
        data = _validated(s.LoginInputSerializer, request)
        signed_in = signin.signin_password(
            identifier=data["identifier_value"],
            password=data["password"],
            client=client_info(request),
            kind=signin.API,
        )
        return _signed_in(signed_in, message=_("Signed in."))


class CodeRequestView(PublicView):
    @api_doc(
        summary="Request a sign-in code",
        description="Same answer whether or not an account exists. " + LIMITED,
        request=s.AddressInputSerializer,
        data=s.CodeSentSerializer,
        errors=SEND_ERRORS,
        request_example={"email": EMAIL},
        message_example="If this address can sign in, a code is on its way.",
        data_example=CODE_SENT_EXAMPLE,
    )
    @rate_limited("anon_ip", "code_request_ip")
    def post(self, request: Request) -> Response:
        data = _validated(s.AddressInputSerializer, request)
        sent = signin.login_code_request(identifier=data["identifier"], client=client_info(request))
        return success(
            s.code_sent_data(sent), message=_("If this address can sign in, a code is on its way.")
        )


class CodeVerifyView(PublicView):
    code_field = "otp"

    @api_doc(
        summary="Sign in with a code",
        description=(
            "Opens a token session. `data.created` is true when the code created the "
            "account (OTP_LOGIN_CREATES_ACCOUNT); sign-ups never verified for this address "
            "end then, and none of them is applied."
        ),
        request=s.CodeVerifyInputSerializer,
        data=s.CodeLoginSessionSerializer,
        errors=[*CODE_ERRORS, AccountInactive, MfaRequired],
        request_example={"email": EMAIL, "otp": OTP},
        message_example="Signed in.",
        data_example={**SESSION_EXAMPLE, "created": False},
    )
    @rate_limited("anon_ip", "login_ip")
    def post(self, request: Request) -> Response:
        data = _validated(s.CodeVerifyInputSerializer, request)
        signed_in = signin.signin_code(
            identifier=data["identifier"],
            code=data["otp"],
            client=client_info(request),
            kind=signin.API,
        )
        return _signed_in(signed_in, message=_("Signed in."), created=signed_in.created)


class CodeResendView(ApiView):
    # The bearer token is optional (only `contact_change` needs it, and a
    # refused one is ignored for the other purposes); AllowAny also documents
    # it as optional in the schema.
    token_optional = True  # accounts.api.authentication
    permission_classes = [AllowAny]

    @api_doc(
        summary="Send a new code",
        description=(
            "`signup` with the sign-up's `signup_token`; `login`, `password_reset` or "
            "`contact_change` with the address (`contact_change` needs the bearer token of "
            "the account changing its address, and answers 404 for an address that is not "
            "its pending one). The cooldown and hourly cap apply; the "
            "answer does not tell whether an account exists. " + LIMITED
        ),
        request=s.ResendInputSerializer,
        data=s.CodeSentSerializer,
        errors=[*SEND_ERRORS, NotFound],
        request_example={"purpose": "signup", "signup_token": SIGNUP_TOKEN},
        message_example="If this address is expecting a code, a new one is on its way.",
        data_example=CODE_SENT_EXAMPLE,
    )
    @rate_limited("anon_ip", "code_request_ip")
    def post(self, request: Request) -> Response:
        data = _validated(s.ResendInputSerializer, request)
        refusal = getattr(request, "token_refusal", None)
        if refusal is not None and resend.resend_needs_account(data["purpose"]):
            raise refusal
        user = request.user if request.user.is_authenticated else None
        sent = resend.code_resend(
            purpose=data["purpose"],
            identifier=data["identifier"],
            signup_token=data.get("signup_token"),
            client=client_info(request),
            user=user,
        )
        return success(
            s.code_sent_data(sent),
            message=_("If this address is expecting a code, a new one is on its way."),
        )


class TokenRefreshView(PublicView):
    @api_doc(
        summary="Rotate a refresh token",
        description=(
            "Returns a new access and a new refresh token; the old refresh token is "
            "spent. A spent refresh token presented again revokes the session "
            "(401 token_reused), except the one just spent within "
            "JWT_REFRESH_REUSE_GRACE seconds, which gets a fresh pair."
        ),
        request=s.RefreshInputSerializer,
        data=s.TokenSessionSerializer,
        errors=[TokenInvalid, TokenReused],
        request_example={"refresh": REFRESH},
        message_example="Token refreshed.",
        data_example=SESSION_EXAMPLE,
    )
    @rate_limited("anon_ip")
    def post(self, request: Request) -> Response:
        raw = request.data.get("refresh") if isinstance(request.data, dict) else None
        if not (isinstance(raw, str) and _TOKEN_SHAPE.fullmatch(raw)):
            # Anything but a token-shaped string: the serializer's checks and errors.
            raw = _validated(s.RefreshInputSerializer, request)["refresh"]
        pair = tokens.session_refresh(raw_refresh=raw, client=client_info(request))
        return success(s.token_session_data(pair), message=_("Token refreshed."))


# What RefreshInputSerializer accepts unchanged, checked without building it on
# every refresh (issue 21): base64url segments and dots, at most 4096 characters
# (no whitespace to trim, no NUL or surrogate to refuse).
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_.-]{1,4096}")


class TokenVerifyView(PublicView):
    @api_doc(
        summary="Verify a token",
        description="200 with the claims when the token is valid and its session live.",
        request=s.TokenVerifyInputSerializer,
        data=s.ClaimsSerializer,
        errors=[TokenInvalid],
        request_example={"token": ACCESS},
        message_example="The token is valid.",
        data_example={
            "token_type": "access",
            "user_id": 4815162342,
            "sid": "3f1c2b7e-8a4d-4c6e-9b0a-5d2e7f3a1c9b",
            "jti": "9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f",
            "exp": 1795000000,
            "iat": 1794996400,
            "email": EMAIL,
            "phone": None,
            "username": "ada",
        },
    )
    @rate_limited("anon_ip")
    def post(self, request: Request) -> Response:
        data = _validated(s.TokenVerifyInputSerializer, request)
        claims = tokens.token_claims(raw_token=data["token"])
        return success(claims, message=_("The token is valid."))


class LogoutView(ApiView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="Sign out",
        description=(
            "Revokes this session; with `refresh`, the session of that refresh token "
            "(it must be yours); with `all: true`, every session of the account "
            "(tokens and web)."
        ),
        request=s.LogoutInputSerializer,
        data=s.RevokedSerializer,
        request_example={"all": True},
        message_example="Signed out everywhere.",
        data_example={"revoked": 3},
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.LogoutInputSerializer, request)
        client = client_info(request)
        if data.get("all"):
            count = tokens.sessions_revoke_all(user=request.user, client=client, reason="logout")
            return success({"revoked": count}, message=_("Signed out everywhere."))
        session_id = request.auth.pk
        if data.get("refresh"):
            session_id = tokens.refresh_session_id(raw_refresh=data["refresh"])
        if not tokens.session_revoke(
            user=request.user, session_id=session_id, client=client, reason="logout"
        ):
            raise TokenInvalid()
        return success({"revoked": 1}, message=_("Signed out."))


class MeView(ApiView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="The signed-in user",
        description="`pending_email` / `pending_phone`: an address waiting for its code.",
        data=s.UserSerializer,
        message_example="Your account.",
        data_example={**USER_EXAMPLE, "pending_phone": "+919876543210"},
    )
    def get(self, request: Request) -> Response:
        # UserSerializer's answer, built without a serializer (s.user_data).
        return success(s.user_data(request.user), message=_("Your account."))


class SessionListView(ApiView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="Your signed-in devices",
        description="Live sessions (API and web), the one making this request marked `current`.",
        data=s.DeviceSessionSerializer(many=True),
        message_example="Your sessions.",
        data_example=[
            {
                "id": "3f1c2b7e-8a4d-4c6e-9b0a-5d2e7f3a1c9b",
                "kind": "api",
                "created_at": "2026-11-21T10:00:00Z",
                "last_used_at": "2026-11-21T10:05:00Z",
                "expires_at": "2026-11-28T10:00:00Z",
                "ip": "203.0.113.7",
                "device": "App on iOS",
                "user_agent": "MyApp/2.1 (iPhone; iOS 18.1)",
                "current": True,
            }
        ],
    )
    def get(self, request: Request) -> Response:
        sessions = tokens.sessions_live(user=request.user)
        data = s.DeviceSessionSerializer(
            sessions, many=True, context={"current_session_id": request.auth.pk}
        ).data
        return success(data, message=_("Your sessions."))


class SessionDetailView(ApiView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="Revoke one of your sessions",
        parameters=[OpenApiParameter("session_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        data=s.RevokedSerializer,
        message_example="Session revoked.",
        data_example={"revoked": 1},
    )
    def delete(self, request: Request, session_id) -> Response:
        if not tokens.session_revoke(
            user=request.user, session_id=session_id, client=client_info(request)
        ):
            raise NotFound()
        return success({"revoked": 1}, message=_("Session revoked."))


class PasswordForgotView(PublicView):
    @api_doc(
        summary="Forgot password: send a reset code",
        description=(
            "The same answer (status and body) for registered, unregistered and "
            "inactive addresses; only an active account receives a code. " + LIMITED
        ),
        request=s.AddressInputSerializer,
        data=s.CodeSentSerializer,
        errors=SEND_ERRORS,
        request_example={"phone": "9876543210", "dialing_code": "91"},
        message_example="If an account uses this address, a reset code is on its way.",
        data_example={**CODE_SENT_EXAMPLE, "channel": "sms", "destination": "+91******3210"},
    )
    @rate_limited("anon_ip", "code_request_ip")
    def post(self, request: Request) -> Response:
        data = _validated(s.AddressInputSerializer, request)
        sent = password.password_forgot(identifier=data["identifier"], client=client_info(request))
        return success(
            s.code_sent_data(sent),
            message=_("If an account uses this address, a reset code is on its way."),
        )


class PasswordForgotVerifyView(PublicView):
    code_field = "otp"

    @api_doc(
        summary="Forgot password: check the code",
        description="200 if the code is right. The code is not spent; wrong tries count.",
        request=s.CodeVerifyInputSerializer,
        data=s.ValidCodeSerializer,
        errors=CODE_ERRORS,
        request_example={"email": EMAIL, "otp": OTP},
        message_example="The code is right. Choose a new password.",
        data_example={"valid": True},
    )
    @rate_limited("anon_ip", "login_ip")
    def post(self, request: Request) -> Response:
        data = _validated(s.CodeVerifyInputSerializer, request)
        password.password_forgot_verify(
            identifier=data["identifier"], code=data["otp"], client=client_info(request)
        )
        return success({"valid": True}, message=_("The code is right. Choose a new password."))


class PasswordResetView(PublicView):
    code_field = "otp"

    @api_doc(
        summary="Forgot password: set the new password",
        description=(
            "Spends the code, sets the password, marks the address verified and "
            "revokes every session (token and web). Nobody is signed in: sign in "
            "with the new password."
        ),
        request=s.ResetInputSerializer,
        data=None,
        errors=CODE_ERRORS,
        request_example={"email": EMAIL, "otp": OTP, "new_password": "Another-Horse-7!"},
        message_example="Your password has been reset. Sign in with it.",
    )
    @rate_limited("anon_ip", "login_ip")
    def post(self, request: Request) -> Response:
        data = _validated(s.ResetInputSerializer, request)
        password.password_reset(
            identifier=data["identifier"],
            code=data["otp"],
            new_password=data["new_password"],
            client=client_info(request),
        )
        return success(None, message=_("Your password has been reset. Sign in with it."))


class PasswordChangeView(ApiView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="Change password",
        description=(
            "Every session of the account (token and web) is revoked, this one "
            "included, and a fresh token session is returned."
        ),
        request=s.PasswordChangeInputSerializer,
        data=s.TokenSessionSerializer,
        errors=[*PASSWORD_CHECK_ERRORS, PasswordUnchanged],
        request_example={"current_password": PASSWORD, "new_password": "Another-Horse-7!"},
        message_example="Your password has been changed.",
        data_example=SESSION_EXAMPLE,
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.PasswordChangeInputSerializer, request)
        pair = password.password_change(
            user=request.user,
            current_password=data["current_password"],
            new_password=data["new_password"],
            client=client_info(request),
            reopen_token_session=True,
        )
        return success(s.token_session_data(pair), message=_("Your password has been changed."))


class ContactChangeView(ApiView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="Change or add an email or phone: send a code to the new address",
        description=(
            "Confirm with the current `password` (accounts that have one; checked whenever "
            "it is sent). " + STEP_UP_INLINE + " An address that belongs to another account "
            "gets the same answer but no code; the account's own address answers 409 "
            "account_exists. " + LIMITED
        ),
        request=s.ContactChangeInputSerializer,
        data=s.CodeSentSerializer,
        errors=[*PASSWORD_CHECK_ERRORS, *SEND_ERRORS, AccountExists, ReauthenticationRequired],
        request_example={"phone": PHONE, "password": PASSWORD},
        message_example="Enter the code we sent to the new address.",
        data_example={**CODE_SENT_EXAMPLE, "channel": "sms", "destination": "+91******3210"},
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.ContactChangeInputSerializer, request)
        sent = contact.contact_change_start(
            user=request.user,
            identifier=data["identifier"],
            password=data.get("password"),
            client=client_info(request),
            session=request.auth,
        )
        return success(
            s.code_sent_data(sent), message=_("Enter the code we sent to the new address.")
        )


class ContactVerifyView(ApiView):
    code_field = "otp"
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="Change or add an email or phone: enter the code",
        description="The address becomes the account's, verified; the old address gets a notice.",
        request=s.CodeVerifyInputSerializer,
        data=s.UserSerializer,
        errors=CODE_ERRORS,
        request_example={"phone": PHONE, "otp": OTP},
        message_example="Your address has been updated.",
        data_example={**USER_EXAMPLE, "phone": PHONE, "phone_verified": True},
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.CodeVerifyInputSerializer, request)
        user = contact.contact_change_verify(
            user=request.user,
            identifier=data["identifier"],
            code=data["otp"],
            client=client_info(request),
        )
        return success(s.UserSerializer(user).data, message=_("Your address has been updated."))


class EventListView(ApiViewMixin, ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.SecurityEventSerializer
    page_message = gettext_lazy("Your recent security events.")

    def get_queryset(self):
        return selectors.events_for_user(user=self.request.user)

    @extend_schema(
        summary="Your security events, newest first",
        description="Paginated: `?page=` and `?page_size=` (at most 100); a page past the "
        "last is 404 not_found.",
        extensions=documented_errors([NotFound]),
        examples=[
            OpenApiExample(
                "Success",
                response_only=True,
                value={
                    "id": 7,
                    "kind": "login_success",
                    "description": "Signed in",
                    "identifier": EMAIL,
                    "ip": "203.0.113.7",
                    "user_agent": "MyApp/2.1 (iPhone; iOS 18.1)",
                    "created_at": "2026-11-21T10:00:00Z",
                },
            )
        ],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class EventNotMeView(ApiView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="This wasn't me",
        description=(
            "Revokes every session of the account (this one included) and sends a "
            "password-reset code to the account's primary address."
        ),
        request=None,
        data=None,
        message_example=(
            "Every session has been signed out. Reset your password with the code we sent."
        ),
    )
    def post(self, request: Request, event_id: int) -> Response:
        account.event_not_me(user=request.user, event_id=event_id, client=client_info(request))
        return success(
            None,
            message=_(
                "Every session has been signed out. Reset your password with the code we sent."
            ),
        )


class AccountExportView(ApiView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="Export your data",
        description=(
            "Everything stored about the account as one document: account (pending "
            "addresses included), profile, sessions, security events, second factors, "
            "recovery codes left, passkeys, known devices, one-time codes sent and pending "
            "sign-in and passkey challenges. Never a secret: no password hash, TOTP secret, "
            "recovery code, code, token, jti or hash of any kind. Needs an "
            "authentication of this session within REAUTH_WINDOW seconds (its sign-in or "
            "/auth/reauthenticate); without one, 401 reauthentication_required."
        ),
        data=s.ExportSerializer,
        errors=[ReauthenticationRequired],
        message_example="Your data.",
        data_example={
            "account": {
                "id": 4815162342,
                "email": EMAIL,
                "phone": None,
                "username": "ada",
                "pending_email": None,
                "pending_phone": "+919876543210",
                "email_verified_at": "2026-11-01T09:00:00Z",
                "phone_verified_at": None,
                "has_password": True,
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
                "groups": [],
                "permissions": [],
                "date_joined": "2026-11-01T08:59:00Z",
                "last_login": "2026-11-21T10:00:00Z",
                "language": "",
                "mfa_enabled": True,
                "security_version": 2,
                "password_reset_via": None,
                "password_failures": 0,
                "passkey_offer_dismissed_at": None,
            },
            "profile": {
                "first_name": "Ada",
                "last_name": "Lovelace",
                "company": "",
                "city": "London",
                "state": "",
                "country": "GB",
                "gender": "female",
                "date_of_birth": "1990-12-10",
                "bio": "",
                "preferences": ["maths"],
                "attributes": {},
                "updated_at": "2026-11-01T09:05:00Z",
            },
            "sessions": [],
            "security_events": [],
            "second_factors": [
                {
                    "id": 7,
                    "kind": "totp",
                    "name": "",
                    "confirmed": True,
                    "created_at": "2026-11-02T09:00:00Z",
                    "last_used_at": "2026-11-21T10:00:00Z",
                    "failures": 0,
                    "blocked": False,
                },
                {
                    "id": 8,
                    "kind": "recovery_codes",
                    "name": "",
                    "confirmed": True,
                    "created_at": "2026-11-02T09:00:00Z",
                    "last_used_at": None,
                    "failures": 0,
                    "blocked": False,
                },
            ],
            "recovery_codes": {"left": 10, "used_at": []},
            "passkeys": [],
            "known_devices": [
                {
                    "id": 3,
                    "first_seen_at": "2026-11-01T09:00:00Z",
                    "last_seen_at": "2026-11-21T10:00:00Z",
                }
            ],
            "codes": [],
            "mfa_challenges": [],
            "passkey_challenges": [],
        },
    )
    def get(self, request: Request) -> Response:
        return success(
            account.account_export(user=request.user, session=request.auth),
            message=_("Your data."),
        )


class AccountView(ApiView):
    code_field = "otp"
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="Delete your account",
        description=(
            "Confirm with `password`, or, for an account without a password, with `otp`: "
            "a sign-in code requested through /auth/otp/request (an `otp` for an account "
            "with a password is refused: validation_error). Whichever is sent is checked. "
            + STEP_UP_INLINE
            + " Answers 204."
        ),
        request=s.AccountDeleteInputSerializer,
        status=204,
        errors=[*PASSWORD_CHECK_ERRORS, *CODE_ERRORS, ReauthenticationRequired],
        request_example={"password": PASSWORD},
    )
    def delete(self, request: Request) -> Response:
        data = _validated(s.AccountDeleteInputSerializer, request)
        account.account_delete(
            user=request.user,
            password=data.get("password"),
            code=data.get("otp"),
            client=client_info(request),
            session=request.auth,
        )
        return Response(status=204)
