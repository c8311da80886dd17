"""The JSON front door of passkeys (SPEC §17): the ceremonies a native app or
a browser app runs — registration, login without an identifier — and listing,
renaming and removing. Services: ``accounts.services.passkeys`` and the
sign-in pipeline."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as s
from accounts.api.mfa import RecoveryCodesSerializer, SignedInView
from accounts.api.views import PublicView, _signed_in, _validated
from accounts.services import passkeys, reauth, signin
from authsite.api import success
from authsite.client import client_info
from authsite.ratelimits import rate_limited
from authsite.schema import api_doc

STEP_UP = "401: reauthentication_required (no authentication of this session in REAUTH_WINDOW)."


class PasskeySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    aaguid = serializers.CharField(help_text="The authenticator model's AAGUID (may be all zeros).")
    authenticator_name = serializers.CharField(
        allow_null=True, help_text="A known provider's name for the AAGUID, when known."
    )
    backed_up = serializers.BooleanField(help_text="Synced to a cloud account (multi-device).")


class PasskeyAddedSerializer(PasskeySerializer, RecoveryCodesSerializer):
    """The new passkey, and the recovery codes if it is the first second factor."""


class OptionsSerializer(serializers.Serializer):
    """WebAuthn options as JSON (``PublicKeyCredentialCreationOptionsJSON`` or
    ``…RequestOptionsJSON``): pass them to ``navigator.credentials`` (after
    decoding the base64url fields) or to the platform's passkey API."""

    challenge = serializers.CharField()
    rpId = serializers.CharField(required=False)
    timeout = serializers.IntegerField(required=False)


class StrictCharField(serializers.CharField):
    """A string and only a string (DRF's CharField turns numbers into text)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class LoginOptionsInputSerializer(serializers.Serializer):
    identifier = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=320,
        help_text=(
            "Accepted and not used: passkeys are discoverable, so the options never list "
            "an account's credentials (nor tell whether it has any)."
        ),
    )


class RegisterInputSerializer(serializers.Serializer):
    credential = serializers.JSONField(
        help_text="The browser's or platform's RegistrationResponseJSON."
    )
    name = serializers.CharField(required=False, allow_blank=True, max_length=64)


class CredentialInputSerializer(serializers.Serializer):
    credential = serializers.JSONField(
        help_text="The browser's or platform's AuthenticationResponseJSON."
    )


class RenameInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)


def _passkey(info: passkeys.PasskeyInfo) -> dict:
    return PasskeySerializer(info).data


class PasskeyListView(SignedInView):
    @api_doc(
        summary="Your passkeys",
        data=PasskeySerializer(many=True),
        errors={401: "not_authenticated, token_invalid"},
    )
    def get(self, request: Request) -> Response:
        found = passkeys.passkeys_list(user=request.user)
        return success([_passkey(p) for p in found], message=_("Your passkeys."))


class PasskeyRegisterOptionsView(SignedInView):
    @api_doc(
        summary="Passkey registration: options",
        description=(
            "Creation options: a resident key (discoverable credential) required, user "
            "verification preferred, the account's passkeys excluded, no attestation. "
            "The challenge lives 5 minutes and serves one registration; the name is given "
            "with the credential. " + STEP_UP
        ),
        request=None,
        data=OptionsSerializer,
        errors={
            400: "validation_error, passkey_invalid",
            401: "not_authenticated, token_invalid, reauthentication_required",
        },
    )
    def post(self, request: Request) -> Response:
        options = passkeys.passkey_registration_options(user=request.user, session=request.auth)
        return success(options, message=_("Create the passkey with these options."))


class PasskeyRegisterView(SignedInView):
    @api_doc(
        summary="Passkey registration: add it",
        description="The new credential, checked against its challenge and origin. " + STEP_UP,
        request=RegisterInputSerializer,
        data=PasskeyAddedSerializer,
        status=201,
        errors={
            400: "validation_error, passkey_invalid",
            401: "not_authenticated, token_invalid, reauthentication_required",
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(RegisterInputSerializer, request)
        info, codes = passkeys.passkey_register(
            user=request.user,
            session=request.auth,
            credential=data["credential"],
            name=data.get("name"),
            client=client_info(request),
        )
        return success(
            {**_passkey(info), "recovery_codes": codes},
            message=_("The passkey was added."),
            status=201,
        )


class PasskeyDetailView(SignedInView):
    @api_doc(
        summary="Rename a passkey",
        request=RenameInputSerializer,
        data=PasskeySerializer,
        errors={400: "validation_error", 401: "not_authenticated, token_invalid", 404: "not_found"},
    )
    def patch(self, request: Request, passkey_id: int) -> Response:
        data = _validated(RenameInputSerializer, request)
        info = passkeys.passkey_rename(user=request.user, passkey_id=passkey_id, name=data["name"])
        return success(_passkey(info), message=_("The passkey was renamed."))

    @api_doc(
        summary="Remove a passkey",
        description=(
            "Removing the account's last second factor removes its recovery codes too. " + STEP_UP
        ),
        data=None,
        errors={
            401: "not_authenticated, token_invalid, reauthentication_required",
            404: "not_found",
        },
    )
    def delete(self, request: Request, passkey_id: int) -> Response:
        passkeys.passkey_remove(
            user=request.user,
            session=request.auth,
            passkey_id=passkey_id,
            client=client_info(request),
        )
        return success(None, message=_("The passkey was removed."))


class PasskeyLoginOptionsView(PublicView):
    @api_doc(
        summary="Sign in with a passkey: options",
        description=(
            "Request options for a discoverable login: no identifier needed (one may be "
            "sent; it is not used), empty `allowCredentials`, user verification required."
        ),
        request=LoginOptionsInputSerializer,
        data=OptionsSerializer,
        errors={400: "validation_error, passkey_invalid", 429: "rate_limited"},
    )
    @rate_limited("anon_ip")
    def post(self, request: Request) -> Response:
        _validated(LoginOptionsInputSerializer, request)
        return success(signin.signin_passkey_options(), message=_("Use your passkey."))


class PasskeyLoginView(PublicView):
    @api_doc(
        summary="Sign in with a passkey",
        description=(
            "An assertion for the options' challenge. The passkey names the account; with "
            "user verification it is both factors, so no second step follows. Opens a "
            "token session."
        ),
        request=CredentialInputSerializer,
        data=s.TokenSessionSerializer,
        errors={
            400: "validation_error, passkey_invalid",
            403: "account_inactive, account_not_verified",
            429: "rate_limited",
        },
    )
    @rate_limited("anon_ip", "login_ip")
    def post(self, request: Request) -> Response:
        data = _validated(CredentialInputSerializer, request)
        signed_in = signin.signin_passkey(
            credential=data["credential"], client=client_info(request), kind=signin.API
        )
        return _signed_in(signed_in, message=_("Signed in."))


class ReauthPasskeyOptionsView(SignedInView):
    @api_doc(
        summary="Confirm it is you with a passkey: options",
        description="Request options for one of your passkeys; send the assertion to "
        "/auth/reauthenticate with `method` webauthn and `credential`.",
        request=None,
        data=OptionsSerializer,
        errors={400: "passkey_invalid", 401: "not_authenticated, token_invalid"},
    )
    def post(self, request: Request) -> Response:
        options = reauth.reauth_passkey_options(user=request.user, session=request.auth)
        return success(options, message=_("Use your passkey."))
