"""Input and output shapes of the accounts API. Inputs only parse and
normalise; every rule of a flow lives in ``accounts.services``."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.devices import device_describe
from accounts.identifiers import address_from_fields, signin_identifier_from_fields
from accounts.models import Authenticator, DeviceSession, SecurityEvent, WebAuthnChallenge
from accounts.services.codes import CodeSent
from accounts.services.signup import SignupStarted
from accounts.services.tokens import TokenPair
from authsite.errors import AccountNotVerified, MfaRequired, OtpInvalid
from authsite.schema import (
    WS,
    TrueField,
    Variant,
    Variants,
    at_least_one,
    error_data_schema,
    exactly_one,
)
from otp.models import OneTimeCode
from otp.services import RESENDABLE as PURPOSES
from profiles.api.serializers import ProfileInputSerializer
from profiles.models import Profile

PASSWORD_MAX = settings.PASSWORD_MAX_LENGTH

# The rules of accounts.identifiers, as the OpenAPI document states them. The
# API trims every text field, and an empty one counts as left out.
_WS = f"{WS}*"
# At least 4 digits: what makes an identifier a phone number (looks_like_phone).
PHONE_PATTERN = rf"^{_WS}[+(]?[0-9](?:[ ()./-]*[0-9]){{3}}[0-9 ()./-]*{_WS}$"
DIALING_CODE_PATTERN = rf"^{_WS}(\+?[0-9]{{1,4}})?{_WS}$"
USERNAME_PATTERN = rf"^{_WS}[A-Za-z][A-Za-z0-9_.]{{2,29}}{_WS}$"
OTP_PATTERN = rf"^{_WS}[0-9]{{6,12}}{_WS}$"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,128}$"
# A JWT's three base64url parts (anything else is refused, 401 or 400).
JWT_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
_DIALING_CODE_RE = re.compile(DIALING_CODE_PATTERN)
ADDRESS_PURPOSES = [p for p in PURPOSES if p != "signup"]


class StrictCharField(serializers.CharField):
    """Text only: DRF's CharField would take 123456 for "123456", which the
    schema (``type: string``) does not allow."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        # The length as sent, as the schema's maxLength (made from max_length)
        # counts it; DRF's own check comes after trimming, and would let a
        # padded value through. A field with a schema of its own (``style``,
        # authsite.schema) states its limits there, counted after trimming.
        documented = "openapi" in (self.style or {})
        if self.max_length is not None and not documented and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """``true`` or ``false`` only, not DRF's "yes", "1", 0 …"""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def _documented(field_class, schema: dict, **kwargs):
    """A field whose OpenAPI schema is ``schema`` (``authsite.schema`` reads it)."""
    return field_class(style={"openapi": schema}, **kwargs)


class CredentialField(serializers.JSONField):
    """A WebAuthn credential as the browser or platform gives it: a JSON object
    (or, where the body's combinations allow it, ``""`` for "left out")."""

    default_error_messages = {"not_an_object": _("Expected the credential as a JSON object.")}

    def to_internal_value(self, data):
        if isinstance(data, str) and not data.strip():
            return ""
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_an_object")
        return value


class BlankableChoiceField(serializers.ChoiceField):
    """A choice that may be left blank: white space alone is ``""`` (trimmed,
    as every text field of the API is)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and not data.strip():
            return ""
        return super().to_internal_value(data)


def credential_field(*, description: str, **kwargs) -> serializers.JSONField:
    return _documented(
        CredentialField,
        {"type": "object", "additionalProperties": {}, "description": description},
        **kwargs,
    )


def email_field(**kwargs) -> serializers.CharField:
    return _documented(
        StrictCharField,
        {
            "type": "string",
            "format": "email",
            "description": "At most 254 characters; the domain may be an IDN.",
        },
        required=False,
        allow_blank=True,
        **kwargs,
    )


def phone_field(**kwargs) -> serializers.CharField:
    return _documented(
        StrictCharField,
        {
            "type": "string",
            "format": "phone",
            "pattern": PHONE_PATTERN,
            "description": (
                "E.164 (+919876543210), or national digits with `dialing_code`, or "
                "national digits of DEFAULT_PHONE_REGION; at most 32 characters; a number "
                "valid for its country."
            ),
        },
        required=False,
        allow_blank=True,
        **kwargs,
    )


def dialing_code_field() -> serializers.CharField:
    return _documented(
        StrictCharField,
        {
            "type": "string",
            "nullable": True,
            "pattern": DIALING_CODE_PATTERN,
            "description": 'Country calling code for a national phone number: "91" or "+91".',
        },
        required=False,
        allow_blank=True,
        allow_null=True,
    )


def username_field(*, blank: bool = True) -> serializers.CharField:
    pattern = rf"^{_WS}([A-Za-z][A-Za-z0-9_.]{{2,29}})?{_WS}$" if blank else USERNAME_PATTERN
    return _documented(
        StrictCharField,
        {
            "type": "string",
            "pattern": pattern,
            "description": "3 to 30 letters, digits, '_' and '.', starting with a letter; "
            "stored in lower case.",
        },
        required=False,
        allow_blank=True,
    )


def password_field(*, new: bool = False, **kwargs) -> serializers.CharField:
    # No trimming: passwords are compared exactly, spaces included.
    # DRF refuses the NUL character in any text field.
    schema = {
        "type": "string",
        "format": "password",
        "minLength": 1,
        "maxLength": PASSWORD_MAX,
        "pattern": "^[^\\u0000]*$",
    }
    if new:
        schema["minLength"] = password_min_length()
        schema["description"] = (
            f"At least {schema['minLength']} and at most {PASSWORD_MAX} characters; not a "
            "common password, not all digits, not like the email, phone or username; with "
            "PASSWORD_REQUIRE_COMPLEXITY an upper- and a lower-case letter, a digit and a "
            "symbol (GET /config says which rules apply)."
        )
    return _documented(
        StrictCharField,
        schema,
        max_length=PASSWORD_MAX,
        trim_whitespace=False,
        **kwargs,
    )


def password_min_length() -> int:
    from accounts.capabilities import capabilities_get

    return capabilities_get()["password"]["min_length"]


def otp_field(**kwargs) -> serializers.CharField:
    # Held to its pattern (trimmed first, as every text field): a code that
    # cannot be one is a validation_error, even where the code is optional and
    # a recent authentication would do without it (DELETE /auth/account).
    return _documented(
        StrictCharField,
        {"type": "string", "pattern": OTP_PATTERN, "description": "The one-time code (digits)."},
        validators=[RegexValidator(r"\A[0-9]{6,12}\Z", _("Enter the code's 6 to 12 digits."))],
        **kwargs,
    )


def jwt_field(**kwargs) -> serializers.CharField:
    return _documented(
        StrictCharField,
        {"type": "string", "pattern": JWT_PATTERN, "maxLength": 4096},
        max_length=4096,
        **kwargs,
    )


def _check_dialing_code(attrs) -> None:
    code = attrs.get("dialing_code")
    if code and not _DIALING_CODE_RE.match(code):
        raise serializers.ValidationError(
            {"dialing_code": ["Enter a valid dialing code, such as 91 or +91."]}
        )


# --- identifiers --------------------------------------------------------------------


class AddressInputSerializer(serializers.Serializer):
    """Exactly one of ``email`` / ``phone`` (+ optional ``dialing_code``)."""

    schema_variants = exactly_one("email", "phone")

    email = email_field()
    phone = phone_field()
    dialing_code = dialing_code_field()

    def validate(self, attrs):
        _check_dialing_code(attrs)
        try:
            attrs["identifier"] = address_from_fields(
                email=attrs.get("email"),
                phone=attrs.get("phone"),
                dialing_code=attrs.get("dialing_code"),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class ProfileFieldsSerializer(ProfileInputSerializer):
    """Profile fields accepted at sign-up and its verification (documentation;
    the rules are applied by ``profiles.services.profile_clean``)."""


PROFILE_KEYS = tuple(ProfileFieldsSerializer().fields)


def profile_input(data) -> dict:
    """The profile fields present in a request body, as sent (unvalidated)."""
    if not isinstance(data, dict):
        return {}
    return {key: data[key] for key in PROFILE_KEYS if key in data}


class SignupInputSerializer(serializers.Serializer):
    email = email_field()
    phone = phone_field()
    dialing_code = dialing_code_field()
    password = password_field(new=True)
    username = username_field()

    def validate(self, attrs):
        _check_dialing_code(attrs)
        return attrs


class SignupRequestSerializer(ProfileFieldsSerializer, SignupInputSerializer):
    """The documented sign-up body: identity fields plus profile fields. An
    email, a phone, or both."""

    schema_variants = at_least_one("email", "phone")


def signup_token_field(**kwargs) -> serializers.CharField:
    return _documented(
        StrictCharField,
        {
            "type": "string",
            "pattern": TOKEN_PATTERN,
            "description": (
                "The `signup_token` of the sign-up's answer (or of a 403 account_not_verified)."
            ),
        },
        max_length=128,
        trim_whitespace=False,
        # Its shape is checked whatever the purpose, as the schema states it.
        # (\Z, not $: Python's $ would let a final newline through.)
        validators=[RegexValidator(TOKEN_PATTERN[:-1] + r"\Z", "This is not a sign-up token.")],
        **kwargs,
    )


class SignupVerifyInputSerializer(serializers.Serializer):
    signup_token = signup_token_field()
    otp = otp_field()
    username = username_field()


class SignupVerifyRequestSerializer(ProfileFieldsSerializer, SignupVerifyInputSerializer):
    """The documented sign-up verification body."""


class LoginInputSerializer(serializers.Serializer):
    """Exactly one of ``identifier`` / ``email`` / ``phone`` / ``username``, and the password."""

    schema_variants = exactly_one("identifier", "email", "phone", "username")

    identifier = _documented(
        StrictCharField,
        {
            "anyOf": [
                {"type": "string", "format": "email"},
                {"type": "string", "format": "phone", "pattern": PHONE_PATTERN},
                {"type": "string", "pattern": USERNAME_PATTERN},
            ],
            "description": "Email, phone number or username. Or send `email` / `phone` / "
            "`username`.",
        },
        required=False,
        allow_blank=True,
    )
    email = email_field()
    phone = phone_field()
    username = username_field(blank=False)
    dialing_code = dialing_code_field()
    password = password_field()

    def validate(self, attrs):
        _check_dialing_code(attrs)
        try:
            attrs["identifier_value"] = signin_identifier_from_fields(
                identifier=attrs.get("identifier"),
                email=attrs.get("email"),
                phone=attrs.get("phone"),
                username=attrs.get("username"),
                dialing_code=attrs.get("dialing_code"),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class CodeVerifyInputSerializer(AddressInputSerializer):
    otp = otp_field()


class ResendInputSerializer(serializers.Serializer):
    """``signup``: the attempt's ``signup_token``. Any other purpose: the
    address (exactly one of ``email`` / ``phone``)."""

    schema_variants = Variants(
        "oneOf",
        (
            Variant("SignupToken", ("purpose", "signup_token"), only={"purpose": ["signup"]}),
            *(
                Variant(v.name, v.given, v.blank, {"purpose": ADDRESS_PURPOSES})
                for v in exactly_one("email", "phone").variants
            ),
        ),
    )

    purpose = serializers.ChoiceField(choices=[(p, p) for p in PURPOSES])
    signup_token = signup_token_field(required=False)
    email = email_field()
    phone = phone_field()
    dialing_code = dialing_code_field()

    def validate(self, attrs):
        _check_dialing_code(attrs)
        if attrs["purpose"] == "signup":
            if not attrs.get("signup_token"):
                raise serializers.ValidationError(
                    {"signup_token": ["A sign-up's code is re-sent with its signup_token."]}
                )
            attrs["identifier"] = None
            return attrs
        try:
            attrs["identifier"] = address_from_fields(
                email=attrs.get("email"),
                phone=attrs.get("phone"),
                dialing_code=attrs.get("dialing_code"),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class RefreshInputSerializer(serializers.Serializer):
    refresh = jwt_field()


class TokenVerifyInputSerializer(serializers.Serializer):
    token = jwt_field()


class LogoutInputSerializer(serializers.Serializer):
    # The shape is checked even with ``all`` (which does not need the token):
    # a body the schema refuses is refused.
    refresh = jwt_field(
        required=False,
        help_text="Sign out the session of this refresh token.",
        validators=[RegexValidator(JWT_PATTERN, message=_("Not a token."))],
    )
    all = StrictBooleanField(
        required=False, default=False, help_text="Sign out every session of the account."
    )


# --- outputs -----------------------------------------------------------------------------


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Random, below 2^53 (safe in JavaScript).")
    email = serializers.EmailField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    username = serializers.CharField(allow_null=True)
    email_verified = serializers.BooleanField()
    phone_verified = serializers.BooleanField()
    pending_email = serializers.EmailField(
        allow_null=True, help_text="An email address waiting for its code."
    )
    pending_phone = serializers.CharField(
        allow_null=True, help_text="A phone number waiting for its code."
    )


class TokenSessionSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField(default="Bearer")
    expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()
    session_id = serializers.UUIDField()
    user = UserSerializer()


class CodeLoginSessionSerializer(TokenSessionSerializer):
    created = serializers.BooleanField(help_text="True when this code created the account.")


def user_data(user) -> dict:
    """``UserSerializer(user).data``, built directly: the user object is in
    every answer of ``GET /auth/me`` and of every sign-in and refresh, and a
    DRF serializer deep-copies its fields for every instance (issue 21;
    README, "Benchmark"). The same keys in the same order and the same
    values: ``accounts/tests/api/test_hot_path_budgets.py`` compares them."""
    return {
        "id": int(user.id),
        "email": None if user.email is None else str(user.email),
        "phone": None if user.phone is None else str(user.phone),
        "username": None if user.username is None else str(user.username),
        "email_verified": bool(user.email_verified),
        "phone_verified": bool(user.phone_verified),
        "pending_email": None if user.pending_email is None else str(user.pending_email),
        "pending_phone": None if user.pending_phone is None else str(user.pending_phone),
    }


# Unbound fields of TokenSessionSerializer's types, for their formats.
_DATETIME = serializers.DateTimeField()
_UUID = serializers.UUIDField()


def token_session_data(pair: TokenPair, **extra) -> dict:
    """``TokenSessionSerializer``'s answer for ``pair`` (plus ``extra``), built
    directly as ``user_data`` is (the same test compares them)."""
    data = {
        "access": str(pair.access),
        "refresh": str(pair.refresh),
        "token_type": "Bearer",
        "expires_at": _DATETIME.to_representation(pair.expires_at),
        "refresh_expires_at": _DATETIME.to_representation(pair.refresh_expires_at),
        "session_id": _UUID.to_representation(pair.session.pk),
        "user": user_data(pair.session.user),
    }
    data.update(extra)
    return data


class CodeSentSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=[("email", "email"), ("sms", "sms")])
    destination = serializers.CharField(help_text="Masked destination of the code.")
    expires_in = serializers.IntegerField(min_value=1, help_text="Seconds the code lives.")
    resend_in = serializers.IntegerField(
        min_value=0, help_text="Seconds before another code can be sent."
    )
    otp = serializers.CharField(
        required=False, help_text="The code itself: development only (OTP_EXPOSE_IN_RESPONSE)."
    )


class OptionsSerializer(serializers.Serializer):
    """WebAuthn options as JSON (``PublicKeyCredentialCreationOptionsJSON`` or
    ``…RequestOptionsJSON``): pass them to ``navigator.credentials`` (after
    decoding the base64url fields) or to the platform's passkey API."""

    challenge = serializers.CharField()
    rpId = serializers.CharField(required=False)
    timeout = serializers.IntegerField(required=False)


class PendingAddressSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=[("email", "email"), ("sms", "sms")])
    destination = serializers.CharField(help_text="Masked address that was sent a code too.")


class SignupStartedSerializer(CodeSentSerializer):
    signup_token = serializers.CharField(
        help_text=(
            "Send it with the code to /auth/signup/verify, and to /auth/otp/resend "
            "(purpose signup). It is the only handle on this sign-up: there is no user id "
            "until the code is entered."
        )
    )
    pending = PendingAddressSerializer(
        allow_null=True,
        help_text=(
            "With both a phone and an email: the email was sent a code of its own, to "
            "enter through /auth/contact/verify once signed in."
        ),
    )


def code_sent_data(sent: CodeSent) -> dict:
    data = {
        "channel": sent.channel,
        "destination": sent.destination,
        "expires_in": sent.expires_in,
        "resend_in": sent.resend_in,
    }
    if sent.code is not None:
        data["otp"] = sent.code
    return data


def signup_started_data(started: SignupStarted) -> dict:
    pending = started.pending
    return {
        "signup_token": started.signup_token,
        **code_sent_data(started.sent),
        "pending": (
            {"channel": pending.channel, "destination": pending.destination} if pending else None
        ),
    }


class DeviceSessionSerializer(serializers.ModelSerializer):
    device = serializers.SerializerMethodField(
        help_text=(
            'The device described from its user agent: "Chrome on Android", "Safari on iOS", '
            '"App on iOS", an HTTP client\'s name ("okhttp"), or "Unknown device". '
            "For display; `user_agent` keeps the raw header."
        )
    )
    current = serializers.SerializerMethodField()

    class Meta:
        model = DeviceSession
        fields = [
            "id",
            "kind",
            "created_at",
            "last_used_at",
            "expires_at",
            "ip",
            "device",
            "user_agent",
            "current",
        ]

    def get_device(self, obj) -> str:
        return device_describe(user_agent=obj.user_agent)

    def get_current(self, obj) -> bool:
        current = self.context.get("current_session_id")
        return current is not None and str(obj.pk) == str(current)


class SecurityEventSerializer(serializers.ModelSerializer):
    description = serializers.CharField(source="get_kind_display")

    class Meta:
        model = SecurityEvent
        fields = ["id", "kind", "description", "identifier", "ip", "user_agent", "created_at"]


class ClaimsSerializer(serializers.Serializer):
    token_type = serializers.CharField()
    user_id = serializers.IntegerField()
    sid = serializers.CharField()
    jti = serializers.CharField()
    exp = serializers.IntegerField()
    iat = serializers.IntegerField()
    email = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    username = serializers.CharField(allow_null=True)


class ResetInputSerializer(CodeVerifyInputSerializer):
    new_password = password_field(new=True)


class PasswordChangeInputSerializer(serializers.Serializer):
    current_password = password_field()
    new_password = password_field(new=True)


class ContactChangeInputSerializer(AddressInputSerializer):
    password = password_field(
        required=False,
        help_text=(
            "The current password: re-authenticates on the spot. Without it, this "
            "session needs a recent authentication (/auth/reauthenticate)."
        ),
    )


class AccountDeleteInputSerializer(serializers.Serializer):
    """``password``; or, for an account without one, ``otp``; or neither, on a
    session with a recent authentication (SPEC §16.4)."""

    password = password_field(
        required=False,
        help_text=(
            "The password: re-authenticates on the spot. Without it, this session needs "
            "a recent authentication (/auth/reauthenticate), or, for an account without "
            "a password, `otp`."
        ),
    )
    otp = otp_field(
        required=False,
        help_text="For accounts without a password: a sign-in code from /auth/otp/request.",
    )


class ValidCodeSerializer(serializers.Serializer):
    valid = TrueField()


class RevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(min_value=0, help_text="How many sessions were ended.")


# --- the export document (accounts.services.account.account_export) -------------------


class ExportAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    username = serializers.CharField(allow_null=True)
    pending_email = serializers.EmailField(
        allow_null=True, help_text="An email address waiting for its code."
    )
    pending_phone = serializers.CharField(
        allow_null=True, help_text="A phone number waiting for its code."
    )
    email_verified_at = serializers.DateTimeField(allow_null=True)
    phone_verified_at = serializers.DateTimeField(allow_null=True)
    has_password = serializers.BooleanField(help_text="The password hash itself never goes out.")
    is_active = serializers.BooleanField()
    is_staff = serializers.BooleanField()
    is_superuser = serializers.BooleanField()
    groups = serializers.ListField(child=serializers.CharField())
    permissions = serializers.ListField(
        child=serializers.CharField(), help_text='Granted to the account itself: "app.codename".'
    )
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)
    language = serializers.CharField(
        allow_blank=True, help_text='"" follows the browser (SPEC §21).'
    )
    mfa_enabled = serializers.BooleanField()
    security_version = serializers.IntegerField(
        min_value=0, help_text="Bumped by every password and factor change."
    )
    password_reset_via = serializers.CharField(
        allow_null=True,
        help_text="The address whose reset code set the current password, if one did.",
    )
    password_failures = serializers.IntegerField(
        min_value=0, help_text="Wrong passwords since the last right one."
    )
    passkey_offer_dismissed_at = serializers.DateTimeField(allow_null=True)


class ExportProfileSerializer(serializers.Serializer):
    first_name = serializers.CharField(allow_blank=True)
    last_name = serializers.CharField(allow_blank=True)
    company = serializers.CharField(allow_blank=True)
    city = serializers.CharField(allow_blank=True)
    state = serializers.CharField(allow_blank=True)
    country = serializers.CharField(allow_blank=True)
    gender = serializers.ChoiceField(choices=Profile.GENDERS)
    date_of_birth = serializers.DateField(allow_null=True)
    bio = serializers.CharField(allow_blank=True)
    preferences = serializers.ListField(child=serializers.CharField())
    attributes = serializers.DictField()
    updated_at = serializers.DateTimeField(allow_null=True)


class ExportSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=DeviceSession.KINDS)
    created_at = serializers.DateTimeField()
    authenticated_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    rotated_at = serializers.DateTimeField(allow_null=True)
    refresh_grace_used = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.CharField(allow_blank=True)
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField(allow_blank=True)


class ExportEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=SecurityEvent.KINDS)
    identifier = serializers.CharField(allow_blank=True)
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ExportSecondFactorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Authenticator.Kind.choices)
    name = serializers.CharField(allow_blank=True)
    confirmed = serializers.BooleanField(help_text="An authenticator app counts once confirmed.")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    failures = serializers.IntegerField(
        min_value=0, help_text="Wrong tries since the last right one."
    )
    blocked = serializers.BooleanField(
        help_text="Stopped by its wrong tries until it is set up again (SPEC §18.3)."
    )


class ExportRecoveryCodesSerializer(serializers.Serializer):
    left = serializers.IntegerField(min_value=0)
    used_at = serializers.ListField(child=serializers.DateTimeField())


class ExportPasskeySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    aaguid = serializers.CharField(allow_null=True)
    authenticator_name = serializers.CharField(allow_null=True)
    transports = serializers.ListField(child=serializers.CharField())
    sign_count = serializers.IntegerField(min_value=0)
    backup_eligible = serializers.BooleanField()
    backed_up = serializers.BooleanField()
    credential_id = serializers.CharField(help_text="base64url; public by design.")
    public_key = serializers.CharField(
        help_text="The COSE public key, base64url; public by design (it only verifies)."
    )


class ExportKnownDeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()


class ExportCodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    purpose = serializers.ChoiceField(choices=OneTimeCode.Purpose.choices)
    channel = serializers.ChoiceField(choices=OneTimeCode.Channel.choices)
    destination = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    attempts = serializers.IntegerField(min_value=0, help_text="Wrong tries.")
    consumed_at = serializers.DateTimeField(allow_null=True)
    delivery_status = serializers.ChoiceField(choices=OneTimeCode.DeliveryStatus.choices)


class ExportMfaChallengeSerializer(serializers.Serializer):
    first_factor = serializers.CharField()
    identifier = serializers.CharField(allow_blank=True)
    account_created = serializers.BooleanField()
    tries = serializers.IntegerField(
        min_value=0, help_text="Second-factor tries taken, the right one included."
    )
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    used_at = serializers.DateTimeField(allow_null=True)


class ExportPasskeyChallengeSerializer(serializers.Serializer):
    ceremony = serializers.ChoiceField(choices=WebAuthnChallenge.Ceremony.choices)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    used_at = serializers.DateTimeField(allow_null=True)


class ExportSerializer(serializers.Serializer):
    """Everything stored about the account. Never a secret: no password hash,
    TOTP secret, recovery code, code, token, or any hash or jti
    (``accounts.services.account.account_export`` gives the rule per field)."""

    account = ExportAccountSerializer()
    profile = ExportProfileSerializer(allow_null=True)
    sessions = ExportSessionSerializer(many=True)
    security_events = ExportEventSerializer(many=True)
    second_factors = ExportSecondFactorSerializer(many=True)
    recovery_codes = ExportRecoveryCodesSerializer(
        allow_null=True, help_text="How many are left, never the codes; null without a set."
    )
    passkeys = ExportPasskeySerializer(many=True)
    known_devices = ExportKnownDeviceSerializer(many=True)
    codes = ExportCodeSerializer(
        many=True, help_text="One-time codes sent to the account's addresses; never the codes."
    )
    mfa_challenges = ExportMfaChallengeSerializer(many=True)
    passkey_challenges = ExportPasskeyChallengeSerializer(many=True)


# --- data of an error ----------------------------------------------------------------------

error_data_schema(
    AccountNotVerified,
    {
        "type": "object",
        "required": ["verification"],
        "properties": {
            "verification": {
                "type": "object",
                "required": ["channel", "destination"],
                "properties": {
                    "channel": {"type": "string", "enum": ["email", "sms"]},
                    "destination": {
                        "type": "string",
                        "description": "Masked address the sign-up's code goes to.",
                    },
                },
            },
            "signup_token": {
                "type": "string",
                "description": (
                    "For a sign-up never verified: a new token for it (the old one dies), "
                    "for /auth/signup/verify and /auth/otp/resend."
                ),
            },
        },
    },
)

error_data_schema(
    MfaRequired,
    {
        "type": "object",
        "required": ["mfa_token", "methods", "expires_in"],
        "properties": {
            "mfa_token": {
                "type": "string",
                "description": "Single use; send it with a second factor to /auth/mfa/verify.",
            },
            "methods": {
                "type": "array",
                "items": {"type": "string", "enum": ["totp", "recovery_code", "webauthn", "code"]},
                "description": "The second factors this account can use now.",
            },
            "expires_in": {"type": "integer", "description": "Seconds the mfa_token lives."},
        },
    },
)
error_data_schema(
    OtpInvalid,
    {
        "type": "object",
        "properties": {
            "attempts_left": {
                "type": "integer",
                "minimum": 0,
                "description": "Wrong tries this code (or second step) still takes.",
            }
        },
    },
)
