"""Normalisation of identifiers: the one place email, phone and username
inputs become their stored form (SPEC §3).

- email: trimmed and lower-cased.
- phone: E.164 (``+919876543210``) through ``phonenumbers``. Input may be
  E.164, national digits with ``dialing_code`` (``"91"`` or ``"+91"``), or
  national digits in ``DEFAULT_PHONE_REGION``.
- username: trimmed, lower-cased (unique without regard to case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

EMAIL = "email"
PHONE = "phone"
USERNAME = "username"

_email_validator = EmailValidator(message=_("Enter a valid email address."))
USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.]{2,29}$")
_PHONEISH_RE = re.compile(r"^[+(]?[0-9][0-9 ()./-]*$")
_DIALING_CODE_RE = re.compile(r"^\+?[0-9]{1,4}$")


@dataclass(frozen=True)
class Identifier:
    kind: str  # EMAIL, PHONE or USERNAME
    value: str  # normalised

    @property
    def is_address(self) -> bool:
        """Email and phone can receive codes; a username cannot."""
        return self.kind in (EMAIL, PHONE)


def normalize_email(value: str) -> str:
    email = (value or "").strip().lower()
    if not email:
        raise ValidationError(_("Enter an email address."), code="required")
    if len(email) > 254:
        raise ValidationError(_("Enter a valid email address."), code="invalid")
    _email_validator(email)
    return email


def normalize_phone(value: str, dialing_code: str | None = None) -> str:
    raw = (value or "").strip()
    if not raw:
        raise ValidationError(_("Enter a phone number."), code="required")
    if len(raw) > 32 or not _PHONEISH_RE.match(raw):
        raise ValidationError(_("Enter a valid phone number."), code="invalid")
    region = None
    if raw.startswith("+"):
        candidate = raw
    elif dialing_code not in (None, ""):
        code = str(dialing_code).strip()
        if not _DIALING_CODE_RE.match(code):
            raise ValidationError(
                _("Enter a valid dialing code, such as 91 or +91."), code="invalid"
            )
        region = phonenumbers.region_code_for_country_code(int(code.lstrip("+")))
        if region == phonenumbers.UNKNOWN_REGION:
            raise ValidationError(
                _("Enter a valid dialing code, such as 91 or +91."), code="invalid"
            )
        candidate = raw
    else:
        candidate = raw
        region = settings.DEFAULT_PHONE_REGION or None
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("Enter a valid phone number."), code="invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter a valid phone number."), code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_username(value: str) -> str:
    username = (value or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationError(
            _(
                "Usernames are 3 to 30 characters: letters, digits, '_' and '.', "
                "starting with a letter."
            ),
            code="invalid",
        )
    return username


def looks_like_phone(value: str) -> bool:
    raw = (value or "").strip()
    return bool(raw) and bool(_PHONEISH_RE.match(raw)) and sum(c.isdigit() for c in raw) >= 4


def parse_identifier(raw: str, *, dialing_code: str | None = None) -> Identifier:
    """Classify a free-form sign-in identifier: an email (has ``@``), a phone
    number (digits, optionally ``+`` and separators) or a username."""
    value = (raw or "").strip()
    if not value:
        raise ValidationError(_("Enter your email, phone number or username."), code="required")
    if "@" in value:
        return Identifier(EMAIL, normalize_email(value))
    if looks_like_phone(value):
        return Identifier(PHONE, normalize_phone(value, dialing_code))
    return Identifier(USERNAME, normalize_username(value))
