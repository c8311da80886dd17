"""The JSON front door of second factors and step-up (SPEC §16): the second
step of sign-in, managing factors, and re-authenticating a session. Services:
``accounts.services.signin`` (the second step), ``accounts.services.mfa``
(factors), ``accounts.services.reauth`` (step-up)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as s
from accounts.api.views import (
    CODE_SENT_EXAMPLE,
    PASSWORD,
    SESSION_EXAMPLE,
    PublicView,
    _signed_in,
    _validated,
)
from accounts.services import mfa, reauth, signin
from authsite.api import ApiView, success
from authsite.client import client_info
from authsite.errors import (
    AccountInactive,
    CurrentPasswordIncorrect,
    NotAuthenticated,
    NotFound,
    OtpAttemptsExceeded,
    OtpCooldown,
    OtpInvalid,
    OtpLocked,
    OtpSendLimit,
    PasskeyInvalid,
    RateLimited,
    ReauthenticationRequired,
    TokenInvalid,
    ValidationFailed,
)
from authsite.ratelimits import rate_limited
from authsite.schema import Variant, Variants, api_doc

STEP_UP = "401: reauthentication_required (no authentication of this session in REAUTH_WINDOW)."
MFA_TOKEN = "bWZhLXRva2VuLWV4YW1wbGU.c2ln"
RECOVERY_EXAMPLE = {"recovery_codes": ["k7vq3m9xpd", "h2rt8wcn4f", "mz6yq5bj3s"]}


def _without_blanks(attrs: dict) -> dict:
    """A field sent blank — empty, null, or white space alone (the schema's
    ``BLANK``; a password is not trimmed, so "  " arrives as sent) — is a
    field left out, as the schema's combinations say."""
    return {
        key: value
        for key, value in attrs.items()
        if value is not None and not (isinstance(value, str) and not value.strip())
    }


def _factor_fields_checked(attrs: dict, *, also_unwanted: tuple[str, ...] = ()) -> None:
    """A second factor is ``method`` with its ``code`` (totp, recovery_code,
    code) or its ``credential`` (webauthn), and nothing else: the schema's
    combinations, refused as a ``validation_error`` before any factor is
    checked, so that a body the schema refuses never costs a try."""
    method = attrs["method"]
    needed, unwanted = ("credential", "code") if method == mfa.WEBAUTHN else ("code", "credential")
    errors: dict[str, list[str]] = {}
    if needed not in attrs:
        errors[needed] = [_("Required with method %(method)s.") % {"method": method}]
    for name in (unwanted, *also_unwanted):
        if name in attrs:
            errors[name] = [_("Not with method %(method)s.") % {"method": method}]
    if errors:
        raise serializers.ValidationError(errors)


# --- shapes --------------------------------------------------------------------------------


class MfaRequiredDataSerializer(serializers.Serializer):
    """``data`` of a 401 ``mfa_required``: what the second step needs."""

    mfa_token = serializers.CharField(help_text="Single use; send it to /auth/mfa/verify.")
    methods = serializers.ListField(
        child=serializers.ChoiceField(choices=[(m, m) for m in mfa.METHODS]),
        help_text="The second factors this account can use now.",
    )
    expires_in = serializers.IntegerField(help_text="Seconds the mfa_token lives.")


class MfaVerifyInputSerializer(serializers.Serializer):
    schema_variants = Variants(
        "oneOf",
        (
            Variant(
                "Code",
                ("method", "code"),
                ("credential",),
                {"method": [m for m in mfa.METHODS if m != mfa.WEBAUTHN]},
            ),
            Variant("Passkey", ("method", "credential"), ("code",), {"method": [mfa.WEBAUTHN]}),
        ),
    )
    mfa_token = s.StrictCharField(max_length=128)
    method = serializers.ChoiceField(choices=[(m, m) for m in mfa.METHODS])
    code = s.StrictCharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The code (totp, recovery_code, code).",
    )
    credential = s.credential_field(required=False, description="A passkey assertion (webauthn).")

    def validate(self, attrs: dict) -> dict:
        attrs = _without_blanks(attrs)
        _factor_fields_checked(attrs)
        return attrs


class MfaChallengeInputSerializer(serializers.Serializer):
    mfa_token = s.StrictCharField(max_length=128)
    method = serializers.ChoiceField(choices=[("code", "code"), ("webauthn", "webauthn")])


class FactorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField(source="kind")
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class MfaOverviewSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="The account asks for a second factor.")
    factors = FactorSerializer(many=True)
    recovery_codes_left = serializers.IntegerField(
        allow_null=True, help_text="Unused recovery codes; null without a set."
    )


class TotpSetupSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32; shown this once.")
    otpauth_uri = serializers.CharField()
    qr_svg = serializers.CharField(help_text="The otpauth URI as a QR code, SVG.")


class CodeInputSerializer(serializers.Serializer):
    code = s.otp_field(max_length=16)


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="Shown this once; null when the account already had a set.",
    )


class ReauthInputSerializer(serializers.Serializer):
    """One of: ``password``; ``code`` (from /auth/reauthenticate/code); or
    ``method`` (``totp`` / ``recovery_code``) with its ``code``; or ``method``
    ``webauthn`` with a ``credential``."""

    schema_variants = Variants(
        "oneOf",
        (
            Variant("Password", ("password",), ("code", "method", "credential")),
            Variant("Code", ("code",), ("password", "method", "credential")),
            Variant(
                "Factor",
                ("method", "code"),
                ("password", "credential"),
                {"method": ["totp", "recovery_code"]},
            ),
            Variant(
                "Passkey", ("method", "credential"), ("password", "code"), {"method": ["webauthn"]}
            ),
        ),
    )

    password = s.password_field(required=False, allow_blank=True)
    code = s.StrictCharField(max_length=64, required=False, allow_blank=True)
    method = s.BlankableChoiceField(
        choices=[("totp", "totp"), ("recovery_code", "recovery_code"), ("webauthn", "webauthn")],
        required=False,
    )
    credential = s.credential_field(
        required=False,
        description="With method webauthn: an assertion for /auth/reauthenticate/passkey/options.",
    )

    def validate(self, attrs: dict) -> dict:
        attrs = _without_blanks(attrs)
        if "method" in attrs:
            _factor_fields_checked(attrs, also_unwanted=("password",))
        elif "credential" in attrs:
            raise serializers.ValidationError(
                {"credential": [_("A passkey assertion goes with method webauthn.")]}
            )
        elif "password" in attrs and "code" in attrs:
            message = _("Give your password or a code, not both.")
            raise serializers.ValidationError({"password": [message], "code": [message]})
        return attrs


class ReauthenticatedSerializer(serializers.Serializer):
    valid_for = serializers.IntegerField(help_text="Seconds the re-authentication lasts.")


def _recovery(codes: list[str] | None) -> dict:
    return {"recovery_codes": codes}


# --- the second step of sign-in ----------------------------------------------------------------


class MfaVerifyView(PublicView):
    code_field = "code"

    @api_doc(
        request_example={"mfa_token": MFA_TOKEN, "method": "totp", "code": "123456"},
        data_example=SESSION_EXAMPLE,
        summary="Second step of sign-in",
        description=(
            "After a first factor answered 401 mfa_required: the `mfa_token` and a second "
            "factor — `code` for totp, recovery_code and code, `credential` for webauthn. "
            "Opens a token session. A wrong code answers otp_invalid with "
            "`data.attempts_left`; after five the mfa_token is dead (token_invalid), as it "
            "is once the password is reset or changed, or the account signs out everywhere."
        ),
        request=MfaVerifyInputSerializer,
        data=s.TokenSessionSerializer,
        errors=[
            ValidationFailed,
            OtpInvalid,
            OtpAttemptsExceeded,
            PasskeyInvalid,
            TokenInvalid,
            AccountInactive,
            OtpLocked,
            RateLimited,
        ],
    )
    @rate_limited("anon_ip", "login_ip")
    def post(self, request: Request) -> Response:
        data = _validated(MfaVerifyInputSerializer, request)
        signed_in = signin.signin_mfa(
            mfa_token=data["mfa_token"],
            method=data["method"],
            code=data.get("code"),
            credential=data.get("credential"),
            client=client_info(request),
            kind=signin.API,
        )
        return _signed_in(signed_in, message=_("Signed in."), created=signed_in.created)


class MfaChallengeView(PublicView):
    @api_doc(
        request_example={"mfa_token": MFA_TOKEN, "method": "code"},
        data_example=CODE_SENT_EXAMPLE,
        summary="Second step: send a code",
        description=(
            "With `method` code: a code to the account's other verified address (the "
            "cooldown and hourly cap of codes apply): `data` is a CodeSent. With "
            "`webauthn`: `data` is WebAuthn request options for one of the account's "
            "passkeys. A method that is not in the `methods` of the mfa_required answer "
            "is refused (validation_error on `method`)."
        ),
        request=MfaChallengeInputSerializer,
        data=PolymorphicProxySerializer(
            component_name="MfaChallengeData",
            serializers=[s.CodeSentSerializer, s.OptionsSerializer],
            resource_type_field_name=None,
        ),
        envelope_name="MfaChallengeEnvelope",
        errors=[ValidationFailed, TokenInvalid, OtpCooldown, OtpSendLimit, OtpLocked, RateLimited],
    )
    @rate_limited("anon_ip", "code_request_ip")
    def post(self, request: Request) -> Response:
        data = _validated(MfaChallengeInputSerializer, request)
        if data["method"] == "webauthn":
            options = signin.signin_mfa_passkey_options(mfa_token=data["mfa_token"])
            return success(options, message=_("Use your passkey."))
        sent = signin.signin_mfa_code_send(mfa_token=data["mfa_token"], client=client_info(request))
        return success(s.code_sent_data(sent), message=_("A code is on its way."))


# --- managing factors ---------------------------------------------------------------------------


class SignedInView(ApiView):
    permission_classes = [IsAuthenticated]


class MfaView(SignedInView):
    @api_doc(
        data_example={
            "enabled": True,
            "factors": [
                {
                    "id": 7,
                    "type": "totp",
                    "name": "Authenticator app",
                    "created_at": "2026-11-21T10:00:00Z",
                    "last_used_at": "2026-11-28T08:12:00Z",
                }
            ],
            "recovery_codes_left": 9,
        },
        summary="Your second factors",
        data=MfaOverviewSerializer,
        errors=[NotAuthenticated, TokenInvalid],
    )
    def get(self, request: Request) -> Response:
        overview = mfa.mfa_overview(user=request.user)
        return success(MfaOverviewSerializer(overview).data, message=_("Your second factors."))


class TotpSetupView(SignedInView):
    @api_doc(
        data_example={
            "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
            "otpauth_uri": (
                "otpauth://totp/authsite:ada%40example.com"
                "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=authsite"
            ),
            "qr_svg": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 37 37">…</svg>',
        },
        summary="Set up an authenticator app",
        description=(
            "A new TOTP secret (shown once), its otpauth URI and QR code. It works once "
            "/auth/mfa/totp/confirm gets one of its codes. " + STEP_UP
        ),
        request=None,
        data=TotpSetupSerializer,
        errors=[ValidationFailed, NotAuthenticated, TokenInvalid, ReauthenticationRequired],
    )
    def post(self, request: Request) -> Response:
        setup = mfa.totp_setup(user=request.user, session=request.auth)
        return success(
            TotpSetupSerializer(setup).data,
            message=_("Scan the code with your authenticator app, then enter a code from it."),
        )


class TotpConfirmView(SignedInView):
    code_field = "code"

    @api_doc(
        request_example={"code": "123456"},
        data_example=RECOVERY_EXAMPLE,
        summary="Confirm the authenticator app",
        description=(
            "One current code turns the app on. The first second factor of an account "
            "comes with its recovery codes, shown this once. " + STEP_UP
        ),
        request=CodeInputSerializer,
        data=RecoveryCodesSerializer,
        errors=[
            NotFound,
            ValidationFailed,
            OtpInvalid,
            NotAuthenticated,
            TokenInvalid,
            ReauthenticationRequired,
        ],
    )
    def post(self, request: Request) -> Response:
        data = _validated(CodeInputSerializer, request)
        codes = mfa.totp_confirm(
            user=request.user, session=request.auth, code=data["code"], client=client_info(request)
        )
        return success(_recovery(codes), message=_("The authenticator app is on."))


class TotpView(SignedInView):
    @api_doc(
        summary="Remove the authenticator app",
        description="Removing the last second factor removes the recovery codes too. " + STEP_UP,
        data=None,
        errors=[
            NotFound,
            ValidationFailed,
            NotAuthenticated,
            TokenInvalid,
            ReauthenticationRequired,
        ],
    )
    def delete(self, request: Request) -> Response:
        mfa.factor_remove(
            user=request.user, session=request.auth, kind=mfa.TOTP, client=client_info(request)
        )
        return success(None, message=_("The authenticator app was removed."))


class CodeFactorView(SignedInView):
    @api_doc(
        data_example=RECOVERY_EXAMPLE,
        summary="Codes by SMS or email as a second factor",
        description=(
            "POST turns it on (a verified address is needed; a code then goes to a verified "
            "address other than the one a code sign-in used), DELETE turns it off. SMS is "
            "the weakest second factor (NIST SP 800-63B): prefer an authenticator app or a "
            "passkey. " + STEP_UP
        ),
        request=None,
        data=RecoveryCodesSerializer,
        errors=[ValidationFailed, NotAuthenticated, TokenInvalid, ReauthenticationRequired],
    )
    def post(self, request: Request) -> Response:
        codes = mfa.code_factor_enable(
            user=request.user, session=request.auth, client=client_info(request)
        )
        return success(_recovery(codes), message=_("Codes are now a second factor."))

    @api_doc(
        summary="Stop codes as a second factor",
        data=None,
        errors=[
            NotFound,
            ValidationFailed,
            NotAuthenticated,
            TokenInvalid,
            ReauthenticationRequired,
        ],
    )
    def delete(self, request: Request) -> Response:
        mfa.factor_remove(
            user=request.user, session=request.auth, kind=mfa.CODE, client=client_info(request)
        )
        return success(None, message=_("Codes are no longer a second factor."))


class RecoveryCodesView(SignedInView):
    @api_doc(
        data_example=RECOVERY_EXAMPLE,
        summary="New recovery codes",
        description="A new set, shown this once; the old set stops working. " + STEP_UP,
        request=None,
        data=RecoveryCodesSerializer,
        errors=[ValidationFailed, NotAuthenticated, TokenInvalid, ReauthenticationRequired],
    )
    def post(self, request: Request) -> Response:
        codes = mfa.recovery_codes_regenerate(
            user=request.user, session=request.auth, client=client_info(request)
        )
        return success(_recovery(codes), message=_("Here are your new recovery codes."))


# --- step-up -------------------------------------------------------------------------------------


class ReauthenticateView(SignedInView):
    code_field = "code"

    @api_doc(
        request_example={"password": PASSWORD},
        data_example={"valid_for": 300},
        summary="Confirm it is you (step-up)",
        description=(
            "With `password`, a `code` from /auth/reauthenticate/code, or a second factor "
            "(`method` totp or recovery_code with its `code`): sensitive changes — second "
            "factors, passkeys, email/phone change, export, deletion — are then allowed on "
            "this session for REAUTH_WINDOW seconds."
        ),
        request=ReauthInputSerializer,
        data=ReauthenticatedSerializer,
        errors=[
            ValidationFailed,
            CurrentPasswordIncorrect,
            OtpInvalid,
            PasskeyInvalid,
            OtpAttemptsExceeded,
            NotAuthenticated,
            TokenInvalid,
            OtpLocked,
            RateLimited,
        ],
    )
    def post(self, request: Request) -> Response:
        data = _validated(ReauthInputSerializer, request)
        reauth.reauthenticate(
            user=request.user,
            session=request.auth,
            client=client_info(request),
            password=data.get("password"),
            code=data.get("code"),
            method=data.get("method"),
            credential=data.get("credential"),
        )
        return success({"valid_for": settings.REAUTH_WINDOW}, message=_("Thank you."))


class ReauthenticateCodeView(SignedInView):
    @api_doc(
        data_example=CODE_SENT_EXAMPLE,
        summary="Send a code to confirm it is you",
        description="To the account's primary address; send it to /auth/reauthenticate.",
        request=None,
        data=s.CodeSentSerializer,
        errors=[NotAuthenticated, TokenInvalid, OtpCooldown, OtpSendLimit, OtpLocked],
    )
    def post(self, request: Request) -> Response:
        sent = reauth.reauth_code_send(
            user=request.user, session=request.auth, client=client_info(request)
        )
        return success(s.code_sent_data(sent), message=_("A code is on its way."))
