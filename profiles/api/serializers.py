"""Shapes of the profile API.

``ProfileInputSerializer`` only documents the request body in the OpenAPI
schema: the view validates through ``profiles.services.profile_clean`` so the
field rules are written once, for the API, sign-up and the pages alike.
"""

from rest_framework import serializers

from authsite.schema import BlankableDateField
from profiles.models import Profile
from profiles.services import (
    MAX_ATTRIBUTES_BYTES,
    MAX_PREFERENCE_LENGTH,
    MAX_PREFERENCES,
    TEXT_FIELDS,
)


def _text(field: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=TEXT_FIELDS[field], **kwargs)


class ProfileInputSerializer(serializers.Serializer):
    first_name = _text("first_name", required=False, allow_blank=True, allow_null=True)
    last_name = _text("last_name", required=False, allow_blank=True, allow_null=True)
    company = _text("company", required=False, allow_blank=True, allow_null=True)
    city = _text("city", required=False, allow_blank=True, allow_null=True)
    state = _text("state", required=False, allow_blank=True, allow_null=True)
    country = _text("country", required=False, allow_blank=True, allow_null=True)
    gender = serializers.ChoiceField(
        choices=Profile.GENDERS,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Empty or null means `unspecified`.",
    )
    date_of_birth = BlankableDateField(
        required=False,
        allow_null=True,
        help_text="ISO date (YYYY-MM-DD), in the past and after 1900-01-01; empty or null "
        "means no date.",
    )
    bio = _text("bio", required=False, allow_blank=True, allow_null=True)
    preferences = serializers.ListField(
        child=serializers.CharField(max_length=MAX_PREFERENCE_LENGTH, allow_blank=True),
        max_length=MAX_PREFERENCES,
        required=False,
        allow_null=True,
        help_text="Short texts; blanks and duplicates are dropped.",
    )
    attributes = serializers.DictField(
        required=False,
        allow_null=True,
        help_text=(
            "A JSON object of app-specific fields (for example `profile_by`, "
            f"`mat_status`), at most {MAX_ATTRIBUTES_BYTES} bytes as JSON."
        ),
    )


class ProfileOutputSerializer(serializers.Serializer):
    email = serializers.EmailField(
        source="user.email", allow_null=True, read_only=True, help_text="The account's; read-only."
    )
    phone = serializers.CharField(
        source="user.phone", allow_null=True, read_only=True, help_text="The account's; read-only."
    )
    username = serializers.CharField(
        source="user.username",
        allow_null=True,
        read_only=True,
        help_text="The account's; read-only.",
    )
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    company = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    country = serializers.CharField()
    gender = serializers.ChoiceField(choices=Profile.GENDERS)
    date_of_birth = serializers.DateField(allow_null=True)
    bio = serializers.CharField()
    preferences = serializers.ListField(child=serializers.CharField())
    attributes = serializers.DictField()
    updated_at = serializers.DateTimeField(
        allow_null=True, help_text="Null only before the profile is first saved."
    )
