from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from authsite.api import ApiView, success
from authsite.errors import ValidationFailed
from authsite.schema import api_doc
from profiles.api.serializers import ProfileInputSerializer, ProfileOutputSerializer
from profiles.models import Profile
from profiles.selectors import profile_get
from profiles.services import (
    ACCOUNT_FIELDS,
    EDITABLE_FIELDS,
    MAX_ATTRIBUTES_DEPTH,
    profile_clear,
    profile_update,
)

# Objects/arrays nested in one field, the field's own value included. MariaDB's
# JSON check constraint refuses more than 31 levels, and deeper JSON that still
# parses can exhaust the interpreter's recursion limit when Django's JSONField
# or the renderer encodes it; either is a 500.

PROFILE_EXAMPLE = {
    "email": "ada@example.com",
    "phone": None,
    "username": "ada",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "",
    "city": "London",
    "state": "",
    "country": "GB",
    "gender": "female",
    "date_of_birth": "1990-12-10",
    "bio": "",
    "preferences": ["maths", "poetry"],
    "attributes": {"profile_by": "self"},
    "updated_at": "2026-11-21T10:00:00Z",
}
REQUEST_EXAMPLE = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "city": "London",
    "gender": "female",
    "date_of_birth": "1990-12-10",
    "preferences": ["maths", "poetry"],
    "attributes": {"profile_by": "self"},
}
INPUT_NOTE = (
    "The body is a JSON object. The field rules are those of sign-up. `email`, "
    "`phone`, `username` and `updated_at` are read-only here and ignored if sent "
    "(change an address through `/auth/contact/change`); unknown fields are ignored. "
    f"`attributes` nests at most {MAX_ATTRIBUTES_DEPTH} levels."
)


def _editable_fields(request: Request) -> dict[str, Any]:
    # The project's JSON parser already refused what cannot be stored (lone
    # surrogates, numbers out of range, deep nesting); the field rules are
    # profile_clean's, applied by the service.
    data = request.data
    if not isinstance(data, dict):
        raise ValidationFailed.for_field("non_field_errors", _("Send a JSON object."))
    return {field: data[field] for field in (*EDITABLE_FIELDS, *ACCOUNT_FIELDS) if field in data}


# One ProfileOutputSerializer, bound once, writes every answer: DRF deep-copies
# a serializer's declared fields for each instance it makes (a fifth of a
# profile write's Python time in a `make soak` profile; README, "Benchmark"),
# and writing out (``to_representation``) keeps no state on the serializer or
# its fields, so threads share it.
_PROFILE_OUTPUT = ProfileOutputSerializer()


def _profile_data(profile: Profile, user: Any) -> dict[str, Any]:
    # The services load the profile by user id without the user; the request
    # already holds the account, so the read-only fields cost no query.
    profile.user = user
    return _PROFILE_OUTPUT.to_representation(profile)


class ProfileView(ApiView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="The signed-in user's profile",
        data=ProfileOutputSerializer,
        message_example="Your profile.",
        data_example=PROFILE_EXAMPLE,
    )
    def get(self, request: Request) -> Response:
        profile = profile_get(user=request.user)
        return success(_profile_data(profile, request.user), message=_("Your profile."))

    @api_doc(
        summary="Replace the profile",
        description="Same as PUT: sets every editable field; a field not sent is emptied. "
        "Answers 200, as the profile always exists. " + INPUT_NOTE,
        request=ProfileInputSerializer,
        data=ProfileOutputSerializer,
        request_example=REQUEST_EXAMPLE,
        message_example="Profile updated.",
        data_example=PROFILE_EXAMPLE,
    )
    def post(self, request: Request) -> Response:
        return self._replace(request)

    @api_doc(
        summary="Replace the profile",
        description="Sets every editable field; a field not sent is emptied. " + INPUT_NOTE,
        request=ProfileInputSerializer,
        data=ProfileOutputSerializer,
        request_example=REQUEST_EXAMPLE,
        message_example="Profile updated.",
        data_example=PROFILE_EXAMPLE,
    )
    def put(self, request: Request) -> Response:
        return self._replace(request)

    @api_doc(
        summary="Update some profile fields",
        description="Changes only the fields sent. " + INPUT_NOTE,
        request=ProfileInputSerializer,
        data=ProfileOutputSerializer,
        request_example=REQUEST_EXAMPLE,
        message_example="Profile updated.",
        data_example=PROFILE_EXAMPLE,
    )
    def patch(self, request: Request) -> Response:
        profile = profile_update(user=request.user, fields=_editable_fields(request))
        return success(_profile_data(profile, request.user), message=_("Profile updated."))

    @api_doc(
        summary="Empty the profile",
        description="Empties every editable field (texts blank, `gender` `unspecified`, "
        "`date_of_birth` null, `preferences` [], `attributes` {}). The profile itself "
        "stays: the answer is 200 with the emptied profile, not 204.",
        data=ProfileOutputSerializer,
        message_example="Profile emptied.",
        data_example={
            **PROFILE_EXAMPLE,
            **{field: "" for field in ("first_name", "last_name", "city", "country")},
            "gender": "unspecified",
            "date_of_birth": None,
            "preferences": [],
            "attributes": {},
        },
    )
    def delete(self, request: Request) -> Response:
        profile = profile_clear(user=request.user)
        return success(_profile_data(profile, request.user), message=_("Profile emptied."))

    def _replace(self, request: Request) -> Response:
        profile = profile_update(user=request.user, fields=_editable_fields(request), replace=True)
        return success(_profile_data(profile, request.user), message=_("Profile updated."))
