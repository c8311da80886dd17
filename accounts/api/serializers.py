"""Input and output shapes of the accounts API. Inputs only parse and
normalise; every rule of a flow lives in ``accounts.services``."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.devices import device_describe
from accounts.identifiers import address_from_fields, signin_identifier_from_fields
from accounts.models import DeviceSession, SecurityEvent
from accounts.services.codes import CodeSent
from accounts.services.signup import SignupStarted
from accounts.services.tokens import TokenPair
from authsite.schema import BlankableDateField
from otp.services import RESENDABLE
from profiles.models import Profile

PASSWORD_MAX = settings.PASSWORD_MAX_LENGTH


def password_field(**kwargs) -> serializers.CharField:
    # No trimming: passwords are compared exactly, spaces included.
    return serializers.CharField(
        max_length=PASSWORD_MAX, trim_whitespace=False, style={"input_type": "password"}, **kwargs
    )


def otp_field() -> serializers.CharField:
    return serializers.CharField(max_length=12, help_text="The one-time code (digits).")


# --- identifiers --------------------------------------------------------------------


class AddressInputSerializer(serializers.Serializer):
    """Exactly one of ``email`` / ``phone`` (+ optional ``dialing_code``)."""

    email = serializers.CharField(required=False, allow_blank=True, max_length=320)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    dialing_code = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=5,
        help_text='Country calling code for a national phone number: "91" or "+91".',
    )

    def validate(self, attrs):
        try:
            attrs["identifier"] = address_from_fields(
                email=attrs.get("email"),
                phone=attrs.get("phone"),
                dialing_code=attrs.get("dialing_code"),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class ProfileFieldsSerializer(serializers.Serializer):
    """Profile fields accepted at sign-up and its verification (documentation;
    the rules are applied by ``profiles.services.profile_clean``)."""

    first_name = serializers.CharField(required=False, allow_blank=True)
    last_name = serializers.CharField(required=False, allow_blank=True)
    company = serializers.CharField(required=False, allow_blank=True)
    city = serializers.CharField(required=False, allow_blank=True)
    state = serializers.CharField(required=False, allow_blank=True)
    country = serializers.CharField(required=False, allow_blank=True)
    gender = serializers.ChoiceField(
        choices=Profile.GENDERS, required=False, allow_blank=True, allow_null=True
    )
    date_of_birth = BlankableDateField(required=False, allow_null=True)
    bio = serializers.CharField(required=False, allow_blank=True)
    preferences = serializers.ListField(child=serializers.CharField(), required=False)
    attributes = serializers.DictField(required=False)


PROFILE_KEYS = tuple(ProfileFieldsSerializer().fields)


def profile_input(data) -> dict:
    """The profile fields present in a request body, as sent (unvalidated)."""
    if not isinstance(data, dict):
        return {}
    return {key: data[key] for key in PROFILE_KEYS if key in data}


class SignupInputSerializer(serializers.Serializer):
    email = serializers.CharField(required=False, allow_blank=True, max_length=320)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    dialing_code = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=5
    )
    password = password_field()
    username = serializers.CharField(required=False, allow_blank=True, max_length=64)


class SignupRequestSerializer(ProfileFieldsSerializer, SignupInputSerializer):
    """The documented sign-up body: identity fields plus profile fields."""


def signup_token_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=128,
        help_text="The `signup_token` of the sign-up's answer (or of a 403 account_not_verified).",
        **kwargs,
    )


class SignupVerifyInputSerializer(serializers.Serializer):
    signup_token = signup_token_field()
    otp = otp_field()
    username = serializers.CharField(required=False, allow_blank=True, max_length=64)


class SignupVerifyRequestSerializer(ProfileFieldsSerializer, SignupVerifyInputSerializer):
    """The documented sign-up verification body."""


class LoginInputSerializer(serializers.Serializer):
    identifier = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=320,
        help_text="Email, phone number or username. Or send `email` / `phone` / `username`.",
    )
    email = serializers.CharField(required=False, allow_blank=True, max_length=320)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    username = serializers.CharField(required=False, allow_blank=True, max_length=64)
    dialing_code = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=5
    )
    password = password_field()

    def validate(self, attrs):
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

    purpose = serializers.ChoiceField(choices=[(p, p) for p in RESENDABLE])
    signup_token = signup_token_field(required=False)
    email = serializers.CharField(required=False, allow_blank=True, max_length=320)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    dialing_code = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=5
    )

    def validate(self, attrs):
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
    refresh = serializers.CharField(max_length=4096)


class TokenVerifyInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=4096)


class LogoutInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(required=False, max_length=4096)
    all = serializers.BooleanField(required=False, default=False)


# --- outputs -----------------------------------------------------------------------------


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
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
    expires_in = serializers.IntegerField(help_text="Seconds the code lives.")
    resend_in = serializers.IntegerField(help_text="Seconds before another code can be sent.")
    otp = serializers.CharField(
        required=False, help_text="The code itself: development only (OTP_EXPOSE_IN_RESPONSE)."
    )


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
    new_password = password_field()


class PasswordChangeInputSerializer(serializers.Serializer):
    current_password = password_field()
    new_password = password_field()


class ContactChangeInputSerializer(AddressInputSerializer):
    password = password_field(
        required=False,
        allow_blank=True,
        help_text=(
            "The current password: re-authenticates on the spot. Without it (or blank), "
            "this session needs a recent authentication (/auth/reauthenticate)."
        ),
    )


class AccountDeleteInputSerializer(serializers.Serializer):
    password = password_field(
        required=False,
        allow_blank=True,
        help_text=(
            "The password: re-authenticates on the spot. Without it (or blank), this "
            "session needs a recent authentication (/auth/reauthenticate), or, for an "
            "account without a password, `otp`."
        ),
    )
    otp = serializers.CharField(
        required=False,
        max_length=12,
        help_text="For accounts without a password: a sign-in code from /auth/otp/request.",
    )


class ValidCodeSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
