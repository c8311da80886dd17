"""``GET /api/v1/config``: what this deployment offers (SPEC §19.3)."""

from __future__ import annotations

from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.capabilities import (
    BREACH_CHECK_MODES,
    SECOND_FACTORS,
    SIGNIN_METHODS,
    SIGNUP_CHANNELS,
    capabilities_get,
)
from authsite.api import ApiView, success
from authsite.schema import api_doc

# Public and the same for everyone: shared caches may keep it this long.
CONFIG_MAX_AGE = 300


def _choices(values) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class CodeRulesSerializer(serializers.Serializer):
    length = serializers.IntegerField(min_value=6, help_text="Digits in a code.")
    lifetime = serializers.IntegerField(min_value=1, help_text="Seconds a code lives.")
    resend_cooldown = serializers.IntegerField(
        min_value=0, help_text="Seconds between two codes to one address."
    )
    max_attempts = serializers.IntegerField(help_text="Wrong tries a code takes.")
    max_sends_per_hour = serializers.IntegerField(help_text="Codes per address and hour.")


class PasswordRulesSerializer(serializers.Serializer):
    min_length = serializers.IntegerField(min_value=1)
    max_length = serializers.IntegerField(min_value=1)
    require_complexity = serializers.BooleanField(
        help_text="An upper- and a lower-case letter, a digit and a symbol."
    )
    breach_check = serializers.ChoiceField(
        choices=_choices(BREACH_CHECK_MODES),
        help_text="Breached passwords refused (Have I Been Pwned): off, fail_open, fail_closed.",
    )


class SignupRulesSerializer(serializers.Serializer):
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=_choices(SIGNUP_CHANNELS)),
        help_text="Addresses a sign-up may give (either or both).",
    )
    code_login_creates_account = serializers.BooleanField(
        help_text="A code sign-in to an address no account holds makes the account."
    )
    sms_countries = serializers.ListField(
        child=serializers.CharField(),
        help_text="ISO country codes SMS may go to; empty: every country.",
    )


class LanguageSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="For Accept-Language and the profile's `language`.")
    name = serializers.CharField(help_text="The language's name in itself.")


class ConfigSerializer(serializers.Serializer):
    signin_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=_choices(SIGNIN_METHODS)),
        help_text="First factors: a password, a one-time code, a passkey (while `passkeys`).",
    )
    second_factors = serializers.ListField(
        child=serializers.ChoiceField(choices=_choices(SECOND_FACTORS)),
        help_text="Second factors users can set up here.",
    )
    passkeys = serializers.BooleanField(help_text="Passkey (WebAuthn) sign-in.")
    code = CodeRulesSerializer()
    password = PasswordRulesSerializer()
    languages = LanguageSerializer(
        many=True,
        help_text="The languages of `message`, pages, emails and texts (SPEC §21): send "
        "Accept-Language, or set the profile's `language`.",
    )
    signup = SignupRulesSerializer()


class ConfigView(ApiView):
    authentication_classes: list = []
    permission_classes: list = []

    @api_doc(
        summary="What this deployment offers",
        description=(
            "Sign-in methods, second factors, passkeys, the codes' length, lifetime and "
            "cooldown, the password rules, the languages and the sign-up channels, so that "
            "a client adapts "
            f"without hard-coding them. Public; cacheable for {CONFIG_MAX_AGE} seconds."
        ),
        data=ConfigSerializer,
        message_example="This deployment's configuration.",
        data_example={
            "signin_methods": ["password", "code", "passkey"],
            "second_factors": ["totp", "recovery_codes", "webauthn", "code"],
            "passkeys": True,
            "code": {
                "length": 6,
                "lifetime": 600,
                "resend_cooldown": 30,
                "max_attempts": 5,
                "max_sends_per_hour": 4,
            },
            "password": {
                "min_length": 8,
                "max_length": 1024,
                "require_complexity": True,
                "breach_check": "fail_open",
            },
            "languages": [{"code": "en", "name": "English"}, {"code": "hi", "name": "हिन्दी"}],
            "signup": {
                "channels": ["email", "phone"],
                "code_login_creates_account": True,
                "sms_countries": [],
            },
        },
    )
    def get(self, request: Request) -> Response:
        response = success(
            ConfigSerializer(capabilities_get()).data,
            message=_("This deployment's configuration."),
        )
        # Its own Cache-Control, so NoStoreMiddleware leaves it cacheable; its
        # message is in the request's language (SPEC §21), so a shared cache
        # keeps one copy per language.
        patch_cache_control(response, public=True, max_age=CONFIG_MAX_AGE)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response
