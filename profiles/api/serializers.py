"""Shapes of the profile API.

``ProfileInputSerializer`` only documents the request body in the OpenAPI
schema: the view validates through ``profiles.services.profile_clean`` so the
field rules are written once, for the API, sign-up and the pages alike.
"""

import datetime

from django.conf import settings
from rest_framework import serializers

from authsite import clock
from authsite.schema import WS, WS_CHARS, WS_CHARS_PRINTABLE
from profiles.models import Profile
from profiles.services import (
    EARLIEST_BIRTH_DATE,
    MAX_ATTRIBUTES_BYTES,
    MAX_ATTRIBUTES_DEPTH,
    MAX_PREFERENCE_LENGTH,
    MAX_PREFERENCES,
    TEXT_FIELDS,
)

# profile_clean trims a text and refuses control characters in what is left
# (the bio keeps line breaks and tabs), then counts its length: the patterns
# below say exactly that, so a text the schema allows is one the API takes.
_CONTROLS = r"\x00-\x1f\x7f"
_BIO_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"


def trimmed_text_pattern(limit: int, *, controls: str = _CONTROLS, outer: str = WS) -> str:
    """A text of at most ``limit`` characters once trimmed, with no ``controls``
    in it; ``outer`` is what may surround it (trimmed away)."""
    inner = f"[^{controls}]"
    edge = f"[^{WS_CHARS}{controls}]"
    return rf"^{outer}*(?:{edge}(?:{inner}{{0,{limit - 2}}}{edge})?)?{outer}*$"


def _text(field: str, **kwargs) -> serializers.CharField:
    controls = _BIO_CONTROLS if field == "bio" else _CONTROLS
    schema = {
        "type": "string",
        "nullable": True,
        "pattern": trimmed_text_pattern(TEXT_FIELDS[field], controls=controls),
        "description": f"At most {TEXT_FIELDS[field]} characters once trimmed; "
        "no control characters"
        + (" but line breaks and tabs." if field == "bio" else ".")
        + " Empty or null empties it.",
    }
    return serializers.CharField(style={"openapi": schema}, **kwargs)


def past_dates_pattern(today: datetime.date) -> str:
    """ISO dates from EARLIEST_BIRTH_DATE (a 1 January) to the day before ``today``."""
    day = r"(0[1-9]|[12][0-9]|3[01])"
    years = "|".join(str(year) for year in range(EARLIEST_BIRTH_DATE.year, today.year))
    parts = [rf"({years})-(0[1-9]|1[0-2])-{day}"] if years else []
    months = "|".join(f"{m:02d}" for m in range(1, today.month))
    if months:
        parts.append(rf"{today.year}-({months})-{day}")
    days = "|".join(f"{d:02d}" for d in range(1, today.day))
    if days:
        parts.append(rf"{today.year}-{today.month:02d}-({days})")
    return "^(" + "|".join(parts) + ")$"


def _date_of_birth_schema() -> dict:
    return {
        "nullable": True,
        "oneOf": [
            {
                "type": "string",
                "format": "date",
                "pattern": past_dates_pattern(clock.now().date()),
            },
            {"type": "string", "enum": [""]},
        ],
    }


class DateOfBirthField(serializers.DateField):
    """An ISO date in the past (from 1900-01-01), or empty / null for none; the
    schema's pattern is that of the day it is asked for."""

    def __init__(self, **kwargs):
        kwargs.setdefault("style", {"openapi": _date_of_birth_schema})
        super().__init__(**kwargs)


class ProfileInputSerializer(serializers.Serializer):
    first_name = _text("first_name", required=False, allow_blank=True, allow_null=True)
    last_name = _text("last_name", required=False, allow_blank=True, allow_null=True)
    company = _text("company", required=False, allow_blank=True, allow_null=True)
    city = _text("city", required=False, allow_blank=True, allow_null=True)
    state = _text("state", required=False, allow_blank=True, allow_null=True)
    country = _text("country", required=False, allow_blank=True, allow_null=True)
    gender = serializers.ChoiceField(
        choices=[*Profile.GENDERS, ("", "")],
        required=False,
        allow_null=True,
        help_text="Empty or null means `unspecified`.",
    )
    date_of_birth = DateOfBirthField(
        required=False,
        allow_null=True,
        help_text="ISO date (YYYY-MM-DD), in the past and from 1900-01-01; empty or null "
        "means no date.",
    )
    bio = _text("bio", required=False, allow_blank=True, allow_null=True)
    preferences = serializers.ListField(
        child=serializers.CharField(
            style={
                "openapi": {
                    "type": "string",
                    "pattern": trimmed_text_pattern(
                        MAX_PREFERENCE_LENGTH, outer=f"[{WS_CHARS_PRINTABLE}]"
                    ),
                }
            }
        ),
        max_length=MAX_PREFERENCES,
        required=False,
        allow_null=True,
        help_text=f"At most {MAX_PREFERENCES} short texts of {MAX_PREFERENCE_LENGTH} characters "
        "once trimmed, no control characters; blanks and duplicates are dropped.",
    )
    language = serializers.ChoiceField(
        choices=[*((code, code) for code, _name in settings.LANGUAGES), ("", "")],
        required=False,
        allow_null=True,
        help_text="The account's language for pages, API messages, emails and texts "
        "(SPEC §21); empty or null follows the browser (language cookie, then "
        "Accept-Language).",
    )
    attributes = serializers.DictField(
        required=False,
        allow_null=True,
        help_text=(
            "A JSON object of app-specific fields (for example `profile_by`, "
            f"`mat_status`), at most {MAX_ATTRIBUTES_BYTES} bytes as JSON, nested at most "
            f"{MAX_ATTRIBUTES_DEPTH} levels."
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
    language = serializers.ChoiceField(
        choices=[*((code, code) for code, _name in settings.LANGUAGES), ("", "")],
        source="user.language",
        help_text="`en`, `hi`, or empty: the browser's (cookie, then Accept-Language).",
    )
    attributes = serializers.DictField()
    updated_at = serializers.DateTimeField(
        allow_null=True, help_text="Null only before the profile is first saved."
    )
