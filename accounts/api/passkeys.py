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
from accounts.api.views import SESSION_EXAMPLE, PublicView, _signed_in, _validated
from accounts.services import passkeys, reauth, signin
from authsite.api import success
from authsite.client import client_info
from authsite.errors import (
    AccountInactive,
    AccountNotVerified,
    NotAuthenticated,
    NotFound,
    PasskeyInvalid,
    RateLimited,
    ReauthenticationRequired,
    TokenInvalid,
    ValidationFailed,
)
from authsite.ratelimits import rate_limited
from authsite.schema import api_doc

PASSKEY_EXAMPLE = {
    "id": 3,
    "name": "iPhone",
    "created_at": "2026-11-21T10:00:00Z",
    "last_used_at": "2026-11-28T08:12:00Z",
    "aaguid": "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
    "authenticator_name": "iCloud Keychain",
    "backed_up": True,
}
CREATION_OPTIONS_EXAMPLE = {
    "challenge": "q1w2e3r4t5y6u7i8o9p0aSdFgHjKlZxC",
    "rp": {"id": "example.com", "name": "authsite"},
    "user": {"id": "dXNlci1oYW5kbGU", "name": "ada@example.com", "displayName": "Ada"},
    "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
    "timeout": 300000,
    "excludeCredentials": [],
    "authenticatorSelection": {"residentKey": "required", "userVerification": "required"},
    "attestation": "none",
}
REQUEST_OPTIONS_EXAMPLE = {
    "challenge": "q1w2e3r4t5y6u7i8o9p0aSdFgHjKlZxC",
    "rpId": "example.com",
    "timeout": 300000,
    "allowCredentials": [],
    "userVerification": "required",
}
REGISTRATION_EXAMPLE = {
    "id": "Y3JlZGVudGlhbC1pZA",
    "rawId": "Y3JlZGVudGlhbC1pZA",
    "type": "public-key",
    "response": {
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0",
        "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YQ",
        "transports": ["internal", "hybrid"],
    },
    "clientExtensionResults": {},
}
ASSERTION_EXAMPLE = {
    "id": "Y3JlZGVudGlhbC1pZA",
    "rawId": "Y3JlZGVudGlhbC1pZA",
    "type": "public-key",
    "response": {
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0",
        "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
        "signature": "MEUCIQDx…",
        "userHandle": "dXNlci1oYW5kbGU",
    },
    "clientExtensionResults": {},
}
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


class LoginOptionsInputSerializer(serializers.Serializer):
    # No length limit: it is not read (the body's size is Django's to bound),
    # and a maxLength the schema counts before trimming and DRF after would
    # disagree (found by the schema fuzz on MariaDB).
    identifier = s.StrictCharField(
        required=False,
        allow_blank=True,
        help_text=(
            "Accepted and not used: passkeys are discoverable, so the options never list "
            "an account's credentials (nor tell whether it has any)."
        ),
    )


class RegisterInputSerializer(serializers.Serializer):
    credential = s.credential_field(
        description="The browser's or platform's RegistrationResponseJSON."
    )
    name = s.StrictCharField(required=False, allow_blank=True, max_length=64)


class CredentialInputSerializer(serializers.Serializer):
    credential = s.credential_field(
        description="The browser's or platform's AuthenticationResponseJSON."
    )


class RenameInputSerializer(serializers.Serializer):
    name = s.StrictCharField(max_length=64)


def _passkey(info: passkeys.PasskeyInfo) -> dict:
    return PasskeySerializer(info).data


class PasskeyListView(SignedInView):
    @api_doc(
        data_example=[PASSKEY_EXAMPLE],
        summary="Your passkeys",
        data=PasskeySerializer(many=True),
        errors=[NotAuthenticated, TokenInvalid],
    )
    def get(self, request: Request) -> Response:
        found = passkeys.passkeys_list(user=request.user)
        return success([_passkey(p) for p in found], message=_("Your passkeys."))


class PasskeyRegisterOptionsView(SignedInView):
    @api_doc(
        data_example=CREATION_OPTIONS_EXAMPLE,
        summary="Passkey registration: options",
        description=(
            "Creation options: a resident key (discoverable credential) required, user "
            "verification preferred, the account's passkeys excluded, no attestation. "
            "The challenge lives 5 minutes and serves one registration; the name is given "
            "with the credential. " + STEP_UP
        ),
        request=None,
        data=s.OptionsSerializer,
        errors=[
            ValidationFailed,
            PasskeyInvalid,
            NotAuthenticated,
            TokenInvalid,
            ReauthenticationRequired,
        ],
    )
    def post(self, request: Request) -> Response:
        options = passkeys.passkey_registration_options(user=request.user, session=request.auth)
        return success(options, message=_("Create the passkey with these options."))


class PasskeyRegisterView(SignedInView):
    @api_doc(
        request_example={"credential": REGISTRATION_EXAMPLE, "name": "iPhone"},
        data_example={**PASSKEY_EXAMPLE, "last_used_at": None, "recovery_codes": None},
        summary="Passkey registration: add it",
        description="The new credential, checked against its challenge and origin. " + STEP_UP,
        request=RegisterInputSerializer,
        data=PasskeyAddedSerializer,
        status=201,
        errors=[
            ValidationFailed,
            PasskeyInvalid,
            NotAuthenticated,
            TokenInvalid,
            ReauthenticationRequired,
        ],
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
    partial_patch = False  # a rename needs its name

    @api_doc(
        request_example={"name": "Work laptop"},
        data_example={**PASSKEY_EXAMPLE, "name": "Work laptop"},
        summary="Rename a passkey",
        request=RenameInputSerializer,
        data=PasskeySerializer,
        errors=[ValidationFailed, NotAuthenticated, TokenInvalid, NotFound],
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
        errors=[NotAuthenticated, TokenInvalid, ReauthenticationRequired, NotFound],
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
        request_example={},
        data_example=REQUEST_OPTIONS_EXAMPLE,
        summary="Sign in with a passkey: options",
        description=(
            "Request options for a discoverable login: no identifier needed (one may be "
            "sent; it is not used), empty `allowCredentials`, user verification required."
        ),
        request=LoginOptionsInputSerializer,
        data=s.OptionsSerializer,
        errors=[ValidationFailed, PasskeyInvalid, RateLimited],
    )
    @rate_limited("anon_ip")
    def post(self, request: Request) -> Response:
        _validated(LoginOptionsInputSerializer, request)
        return success(signin.signin_passkey_options(), message=_("Use your passkey."))


class PasskeyLoginView(PublicView):
    @api_doc(
        request_example={"credential": ASSERTION_EXAMPLE},
        data_example=SESSION_EXAMPLE,
        summary="Sign in with a passkey",
        description=(
            "An assertion for the options' challenge. The passkey names the account; with "
            "user verification it is both factors, so no second step follows. Opens a "
            "token session."
        ),
        request=CredentialInputSerializer,
        data=s.TokenSessionSerializer,
        errors=[ValidationFailed, PasskeyInvalid, AccountInactive, AccountNotVerified, RateLimited],
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
        data_example=REQUEST_OPTIONS_EXAMPLE,
        summary="Confirm it is you with a passkey: options",
        description="Request options for one of your passkeys; send the assertion to "
        "/auth/reauthenticate with `method` webauthn and `credential`.",
        request=None,
        data=s.OptionsSerializer,
        errors=[PasskeyInvalid, NotAuthenticated, TokenInvalid],
    )
    def post(self, request: Request) -> Response:
        options = reauth.reauth_passkey_options(user=request.user, session=request.auth)
        return success(options, message=_("Use your passkey."))
