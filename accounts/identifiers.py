"""Normalisation of identifiers: the one place email, phone and username
inputs become their stored form (SPEC §3, §22.1).

- email: trimmed; the local part ASCII and lower-cased; the domain in its
  IDNA ASCII form (``exámple.com`` is stored as ``xn--exmple-qta.com``).
- phone: E.164 (``+919876543210``) through ``phonenumbers``. Input may be
  E.164, national digits with ``dialing_code`` (``"91"`` or ``"+91"``), or
  national digits in ``DEFAULT_PHONE_REGION``; digits are ASCII.
- username: trimmed, ASCII, lower-cased (unique without regard to case).

The stored form is compared byte for byte (a binary collation on MySQL), so
this normalisation is the *only* folding there is. It is deliberately
strict: it folds ASCII case and nothing else. A character that a looser
comparison would take for another — an accent, the dotless i (U+0131), the
long s (U+017F), the Kelvin sign (U+212A), fullwidth letters, zero-width or combining
characters — either makes another address (an accented domain is a distinct
IDN) or is refused; it never becomes the victim's address. Python's
``str.lower`` folds the Kelvin sign to ``k``, and Unicode compatibility
mapping (NFKC, UTS 46) folds fullwidth letters and removes zero-width
characters, so neither is applied to input before these checks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import idna
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


def _invalid_email() -> ValidationError:
    return ValidationError(_("Enter a valid email address."), code="invalid")


def _ascii_domain(domain: str) -> str:
    """The IDNA ASCII form of a domain typed in ASCII or Unicode.

    ASCII labels are only lower-cased. A Unicode domain is put in NFC (a
    letter with a combining accent is the same IDN as the precomposed letter)
    and must be valid IDNA 2008 as typed, lower case apart: no UTS 46 mapping,
    which would turn fullwidth letters, the long s or the Kelvin sign into
    ASCII and drop zero-width characters.
    """
    if domain.isascii():
        ascii_form = domain.lower()
        if ascii_form.startswith("xn--") or ".xn--" in ascii_form:
            # Punycode labels must decode to a valid IDN; its ASCII form is kept.
            try:
                idna.decode(ascii_form)
            except (idna.IDNAError, UnicodeError):
                raise _invalid_email() from None
        return ascii_form
    composed = unicodedata.normalize("NFC", domain)
    if any(not c.isascii() and c.lower().isascii() for c in composed):
        raise _invalid_email()  # e.g. the Kelvin sign, which lower() makes a "k"
    if any(dot in composed for dot in _IDEOGRAPHIC_DOTS):
        raise _invalid_email()  # the idna package would read them as "."
    try:
        return idna.encode(composed.lower(), uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise _invalid_email() from None


# Surrounding white space that is trimmed: ASCII only (Unicode spaces are
# refused with the rest of what is not part of an address).
_ASCII_SPACE = " \t\r\n\x0b\x0c"
# Label separators the idna package accepts besides "." (UTS 46's full stops).
_IDEOGRAPHIC_DOTS = ("\u3002", "\uff0e", "\uff61")


def normalize_email(value: str) -> str:
    email = (value or "").strip(_ASCII_SPACE)
    if not email:
        raise ValidationError(_("Enter an email address."), code="required")
    if len(email) > 254 or email.count("@") != 1:
        raise _invalid_email()
    local, domain = email.split("@")
    # Non-ASCII local parts (RFC 6531) are refused: mailboxes compare them in
    # ways we cannot know, and lower() would fold some of them into ASCII.
    if not local or not domain or not local.isascii():
        raise _invalid_email()
    email = f"{local.lower()}@{_ascii_domain(domain)}"
    if len(email) > 254:
        raise _invalid_email()
    _email_validator(email)
    return email


# "+" and at most 15 digits (ITU-T E.164): what every phone column holds.
MAX_E164_LENGTH = 16


def normalize_phone(value: str, dialing_code: str | None = None) -> str:
    raw = _clean(value)
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
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # libphonenumber takes some numbers of 16 and 17 digits as valid (German,
    # Nigerian); E.164 allows 15, and the phone columns hold "+" and 15.
    if len(e164) > MAX_E164_LENGTH:
        raise ValidationError(_("Enter a valid phone number."), code="invalid")
    return e164


def normalize_username(value: str) -> str:
    username = (value or "").strip(_ASCII_SPACE)
    # ASCII before lower-casing: lower() turns the Kelvin sign into "k".
    username = username.lower() if username.isascii() else ""
    if not USERNAME_RE.match(username):
        raise ValidationError(
            _(
                "Usernames are 3 to 30 characters: letters, digits, '_' and '.', "
                "starting with a letter."
            ),
            code="invalid",
        )
    return username


def _clean(value: object) -> str:
    return value.strip(_ASCII_SPACE) if isinstance(value, str) else ""


def _field_error(field: str, exc: ValidationError) -> ValidationError:
    return ValidationError({field: exc.messages})


def looks_like_phone(value: str) -> bool:
    raw = _clean(value)
    return bool(raw) and bool(_PHONEISH_RE.match(raw)) and sum(c.isdigit() for c in raw) >= 4


def parse_identifier(raw: str, *, dialing_code: str | None = None) -> Identifier:
    """Classify a free-form sign-in identifier: an email (has ``@``), a phone
    number (digits, optionally ``+`` and separators) or a username."""
    value = _clean(raw)
    if not value:
        raise ValidationError(_("Enter your email, phone number or username."), code="required")
    if "@" in value:
        return Identifier(EMAIL, normalize_email(value))
    if looks_like_phone(value):
        return Identifier(PHONE, normalize_phone(value, dialing_code))
    return Identifier(USERNAME, normalize_username(value))


def parse_address(raw: str, *, dialing_code: str | None = None) -> Identifier:
    """A free-form address that can receive codes: an email (has ``@``) or a
    phone number; never a username."""
    value = _clean(raw)
    if "@" in value:
        return Identifier(EMAIL, normalize_email(value))
    if looks_like_phone(value):
        return Identifier(PHONE, normalize_phone(value, dialing_code))
    raise ValidationError(_("Enter an email address or a phone number."), code="invalid")


# --- the rules of the request bodies, for forms, serializers and the admin alike --------------
#
# Each raises a ``ValidationError`` whose ``message_dict`` maps the offending
# field(s) to messages, so a serializer and a form can put them beside the
# right field.

ONE_ADDRESS = _("Give an email address or a phone number.")
NOT_BOTH = _("Give either an email address or a phone number, not both.")
EXACTLY_ONE_IDENTIFIER = _("Give exactly one of identifier, email, phone or username.")


def address_from_fields(
    *, email: object = None, phone: object = None, dialing_code: object = None
) -> Identifier:
    """Exactly one of ``email`` / ``phone`` (+ optional ``dialing_code``)."""
    email_raw, phone_raw = _clean(email), _clean(phone)
    if email_raw and phone_raw:
        raise ValidationError({"email": [NOT_BOTH]})
    if not email_raw and not phone_raw:
        raise ValidationError({"email": [ONE_ADDRESS], "phone": [ONE_ADDRESS]})
    if phone_raw:
        try:
            return Identifier(PHONE, normalize_phone(phone_raw, _clean(dialing_code) or None))
        except ValidationError as exc:
            raise _field_error("phone", exc) from None
    try:
        return Identifier(EMAIL, normalize_email(email_raw))
    except ValidationError as exc:
        raise _field_error("email", exc) from None


def signup_addresses(
    *, email: object = None, phone: object = None, dialing_code: object = None
) -> tuple[str | None, str | None]:
    """Sign-up's addresses: either or both (seed 004 sends both); normalised
    (email, phone)."""
    email_raw, phone_raw = _clean(email), _clean(phone)
    errors: dict[str, list[str]] = {}
    email_value = phone_value = None
    if email_raw:
        try:
            email_value = normalize_email(email_raw)
        except ValidationError as exc:
            errors["email"] = exc.messages
    if phone_raw:
        try:
            phone_value = normalize_phone(phone_raw, _clean(dialing_code) or None)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if not email_value and not phone_value:
        raise ValidationError({"email": [ONE_ADDRESS], "phone": [ONE_ADDRESS]})
    return email_value, phone_value


def signin_identifier_from_fields(
    *,
    identifier: object = None,
    email: object = None,
    phone: object = None,
    username: object = None,
    dialing_code: object = None,
) -> Identifier:
    """Exactly one of ``identifier`` (free-form), ``email``, ``phone`` or
    ``username``."""
    given = [
        (key, _clean(value))
        for key, value in (
            ("identifier", identifier),
            ("email", email),
            ("phone", phone),
            ("username", username),
        )
        if _clean(value)
    ]
    if len(given) != 1:
        raise ValidationError({"identifier": [EXACTLY_ONE_IDENTIFIER]})
    ((key, raw),) = given
    code = _clean(dialing_code) or None
    try:
        if key == "email":
            return Identifier(EMAIL, normalize_email(raw))
        if key == "phone":
            return Identifier(PHONE, normalize_phone(raw, code))
        if key == "username":
            return Identifier(USERNAME, normalize_username(raw))
        return parse_identifier(raw, dialing_code=code)
    except ValidationError as exc:
        raise _field_error(key, exc) from None
