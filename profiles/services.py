"""Profile flows. ``profile_clean`` holds every rule about profile fields, so
sign-up, the API and the pages validate them the same way."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from authsite import clock
from authsite.compiled import CompiledLookup
from authsite.errors import ValidationFailed
from authsite.i18n import language_code
from authsite.parsers import check_json_value
from profiles.models import Profile

TEXT_FIELDS = {
    "first_name": 150,
    "last_name": 150,
    "company": 200,
    "city": 100,
    "state": 100,
    "country": 100,
    "bio": 2000,
}
EDITABLE_FIELDS = (*TEXT_FIELDS, "gender", "date_of_birth", "preferences", "attributes")
# Shown and edited with the profile, kept on the account (``User.language``:
# the query that authenticates a request reads it along; SPEC §21).
ACCOUNT_FIELDS = ("language",)
GENDERS = {value for value, _label in Profile.GENDERS}
MAX_PREFERENCES = 50
MAX_PREFERENCE_LENGTH = 50
MAX_ATTRIBUTES_BYTES = 4096
MAX_ATTRIBUTES_DEPTH = 20
# Control characters have no place in a name or a city (NUL is even stored by
# MariaDB); the bio may hold line breaks and tabs.
_CONTROL = {chr(c) for c in range(32)} | {chr(127)}
_BIO_ALLOWED = {"\n", "\r", "\t"}
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)


def _empty_value(field: str) -> Any:
    if field == "gender":
        return Profile.UNSPECIFIED
    if field == "date_of_birth":
        return None
    if field == "preferences":
        return []
    if field == "attributes":
        return {}
    return ""


def profile_clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the profile fields present in ``fields``.

    Unknown keys are ignored (sign-up bodies carry other fields too). Raises
    ``ValidationFailed`` with one message list per offending field.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for field, limit in TEXT_FIELDS.items():
        if field not in fields:
            continue
        value = fields[field]
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[field] = [_("Enter text.")]
            continue
        value = value.strip()
        allowed = _BIO_ALLOWED if field == "bio" else set()
        if any(c in _CONTROL and c not in allowed for c in value) or check_json_value(value):
            errors[field] = [_("Remove the control or invalid characters from this text.")]
            continue
        if len(value) > limit:
            errors[field] = [
                _("Ensure this field has no more than %(limit)d characters.") % {"limit": limit}
            ]
            continue
        clean[field] = value
    if "gender" in fields:
        value = fields["gender"]
        if value in (None, ""):
            clean["gender"] = Profile.UNSPECIFIED
        elif isinstance(value, str) and value.strip().lower() in GENDERS:
            clean["gender"] = value.strip().lower()
        else:
            errors["gender"] = [
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(sorted(GENDERS))}
            ]
    if "date_of_birth" in fields:
        value = fields["date_of_birth"]
        if value in (None, ""):
            clean["date_of_birth"] = None
        else:
            parsed = None
            if isinstance(value, datetime.date):
                parsed = value
            elif isinstance(value, str):
                try:
                    parsed = parse_date(value.strip())
                except ValueError:
                    parsed = None
            if parsed is None:
                errors["date_of_birth"] = [_("Enter a valid date in the form YYYY-MM-DD.")]
            elif parsed >= clock.now().date():
                errors["date_of_birth"] = [_("The date of birth must be in the past.")]
            elif parsed < EARLIEST_BIRTH_DATE:
                errors["date_of_birth"] = [_("Enter a date of birth after 1900-01-01.")]
            else:
                clean["date_of_birth"] = parsed
    if "preferences" in fields:
        value = fields["preferences"]
        if value is None:
            clean["preferences"] = []
        elif not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            errors["preferences"] = [_("Enter a list of short texts.")]
        elif len(value) > MAX_PREFERENCES:
            errors["preferences"] = [
                _("Enter at most %(limit)d preferences.") % {"limit": MAX_PREFERENCES}
            ]
        elif any(check_json_value(item) or set(item) & _CONTROL for item in value):
            errors["preferences"] = [_("Remove the control or invalid characters from this text.")]
        elif any(len(item.strip()) > MAX_PREFERENCE_LENGTH for item in value):
            errors["preferences"] = [
                _("Each preference has at most %(limit)d characters.")
                % {"limit": MAX_PREFERENCE_LENGTH}
            ]
        else:
            seen: list[str] = []
            for item in value:
                item = item.strip()
                if item and item not in seen:
                    seen.append(item)
            clean["preferences"] = seen
    if "attributes" in fields:
        value = fields["attributes"]
        if value is None:
            clean["attributes"] = {}
        elif not isinstance(value, dict):
            errors["attributes"] = [_("Enter a JSON object.")]
        elif problem := check_json_value(value, max_depth=MAX_ATTRIBUTES_DEPTH):
            errors["attributes"] = [problem]
        else:
            size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
            if size > MAX_ATTRIBUTES_BYTES:
                errors["attributes"] = [
                    _("Attributes are limited to %(limit)d bytes of JSON.")
                    % {"limit": MAX_ATTRIBUTES_BYTES}
                ]
            else:
                clean["attributes"] = value
    if "language" in fields:
        value = fields["language"]
        code = language_code(value)
        if value in (None, ""):
            clean["language"] = ""
        elif code is not None:
            clean["language"] = code
        else:
            codes = ", ".join(known for known, _name in settings.LANGUAGES)
            errors["language"] = [_("Choose one of: %(choices)s.") % {"choices": codes}]
    if errors:
        raise ValidationFailed(errors=errors)
    return clean


def _account_fields_save(user: Any, clean: dict[str, Any]) -> None:
    """Write the account's share of a profile change (``ACCOUNT_FIELDS``)."""
    changed = {
        field: clean[field]
        for field in ACCOUNT_FIELDS
        if field in clean and getattr(user, field) != clean[field]
    }
    if changed:
        get_user_model().objects.filter(pk=user.pk).update(**changed)
        for field, value in changed.items():
            setattr(user, field, value)


def _account_changes(user: Any, clean: dict[str, Any]) -> bool:
    return any(field in clean and getattr(user, field) != clean[field] for field in ACCOUNT_FIELDS)


def _user_locked(user: Any) -> None:
    """Hold the user's row until the transaction ends."""
    User = get_user_model()
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def profile_create(*, user: Any, fields: dict[str, Any] | None = None) -> Profile:
    """Create the profile of a new user; called by the user-creation service."""
    clean = profile_clean(fields or {})
    _account_fields_save(user, clean)
    return Profile.objects.create(
        user=user, **{field: value for field, value in clean.items() if field in EDITABLE_FIELDS}
    )


# The profile row of a user, locked for the write that follows: one
# statement compiled once per connection (authsite.compiled), as the token
# calls' session lookup; ``get_or_create`` built the same query through the
# ORM on every write (a third of a profile write's Python time in `make soak`).
_profile_for_update: CompiledLookup[Profile] = CompiledLookup(
    Profile,
    Profile._meta.get_field("user"),
    lambda user_id: Profile.objects.select_for_update().filter(user_id=user_id),
    stand_in=(1 << 62) + 1,
)


def _profile_locked(user: Any) -> Profile:
    """The user's profile, its row locked until the transaction ends; made
    (and locked) if the user has none yet.

    A user without a row (made some other way than ``user_create``): the
    user's own row is locked first, so that concurrent first writes make the
    row one after another. Left to ``get_or_create`` alone they deadlock on
    MariaDB: each INSERT after the first meets the duplicate key and takes a
    shared lock on it, and the locking read that follows needs the exclusive
    lock the others' shared locks keep from it."""
    profile = _profile_for_update.get(user.pk)
    if profile is None:
        _user_locked(user)
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
    return profile


def _account_row_first(user: Any, clean: dict[str, Any]) -> None:
    """A write that will change the user's row (``ACCOUNT_FIELDS``) locks it
    before the profile's: the user's row, then the profile's, the order an
    account's deletion takes them in (it deletes the profile with the
    user). Locked the other way round the two deadlocked on MariaDB (1213,
    a 503): tests/attacks/test_profile_write_while_account_deleted.py."""
    if _account_changes(user, clean):
        _user_locked(user)


@transaction.atomic
def profile_update(*, user: Any, fields: dict[str, Any], replace: bool = False) -> Profile:
    """Update the given fields (PATCH), or every editable field with the ones
    missing from ``fields`` emptied (``replace=True``: POST and PUT)."""
    clean = profile_clean(fields)
    if replace:
        clean = {field: "" for field in ACCOUNT_FIELDS} | clean
    _account_row_first(user, clean)
    profile = _profile_locked(user)
    if replace:
        for field in EDITABLE_FIELDS:
            setattr(profile, field, clean.get(field, _empty_value(field)))
    else:
        for field, value in clean.items():
            if field in EDITABLE_FIELDS:
                setattr(profile, field, value)
    profile.save()
    _account_fields_save(user, clean)
    return profile


@transaction.atomic
def profile_clear(*, user: Any) -> Profile:
    """Empty every editable field (DELETE); the profile itself stays."""
    account = {field: "" for field in ACCOUNT_FIELDS}
    _account_row_first(user, account)
    profile = _profile_locked(user)
    for field in EDITABLE_FIELDS:
        setattr(profile, field, _empty_value(field))
    profile.save()
    _account_fields_save(user, account)
    return profile
