"""OpenAPI documentation of the envelope (drf-spectacular).

``envelope(DataSerializer)`` documents a success body whose ``data`` is the
given serializer; ``api_doc(...)`` is ``extend_schema`` with the envelope
applied and the error codes an endpoint can answer listed in its description.
``add_error_responses`` (a postprocessing hook) adds the error envelope for
the statuses every endpoint can return (400, 401, 404, 405, 429, 500, 503),
so a client generated from the schema knows the error shape everywhere.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

_envelopes: dict[str, type[serializers.Serializer]] = {}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the body of a DELETE that declares one.

    drf-spectacular documents bodies for POST, PUT and PATCH only; but
    ``DELETE /auth/account`` reads the password (or a code) from its body, and
    a client generated from a schema without it could never delete an account.
    """

    def _get_request_body(self, direction: str = "request"):
        if self.method != "DELETE" or self.get_request_serializer() is None:
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


class ErrorEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    code = serializers.CharField(help_text="Stable machine-readable error code (SPEC §5.1).")
    message = serializers.CharField(help_text="Human-readable, translated message.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field name → messages, for validation errors.",
    )
    data = serializers.DictField(required=False, help_text="Extra data for some errors.")


@extend_schema_field(
    {
        "nullable": True,
        "oneOf": [{"type": "string", "format": "date"}, {"type": "string", "enum": [""]}],
    }
)
class BlankableDateField(serializers.DateField):
    """An ISO date where an empty string, like null, means "no date" (what a
    cleared form field sends). Documents ``profiles.services.profile_clean``."""


def envelope(data: Any = None, *, name: str | None = None) -> type[serializers.Serializer]:
    """A serializer documenting ``{"success": true, "message": str, "data": <data>}``."""
    if data is None:
        data_field: serializers.Field = serializers.JSONField(allow_null=True, required=False)
        key = name or "EmptyEnvelope"
    elif isinstance(data, serializers.BaseSerializer):
        data_field = data
        key = name or f"{data.__class__.__name__.removesuffix('Serializer')}Envelope"
    else:
        data_field = data()
        key = name or f"{data.__name__.removesuffix('Serializer')}Envelope"
    if key not in _envelopes:
        _envelopes[key] = inline_serializer(
            name=key,
            fields={
                "success": serializers.BooleanField(default=True),
                "message": serializers.CharField(),
                "data": data_field,
            },
        )
    return _envelopes[key]


def api_doc(
    *,
    summary: str,
    request: Any = None,
    data: Any = None,
    status: int = 200,
    errors: dict[int, str] | None = None,
    description: str = "",
    **kwargs: Any,
):
    """``extend_schema`` for an endpoint answering in the envelope.

    ``errors`` maps a status to the error codes it carries, e.g.
    ``{401: "invalid_credentials", 403: "account_not_verified, account_inactive"}``.
    """
    responses: dict[int, Any] = {}
    if status == 204:
        responses[204] = OpenApiResponse(description="No content.")
    else:
        responses[status] = envelope(data)
    for code, text in (errors or {}).items():
        responses[code] = OpenApiResponse(ErrorEnvelopeSerializer, description=text)
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses=responses,
        **kwargs,
    )


_COMMON_ERRORS = {
    "400": "validation_error: bad or missing fields (`errors` maps fields to messages).",
    "401": "not_authenticated / token_invalid / token_reused.",
    "404": "not_found.",
    "405": "method_not_allowed.",
    "406": "not_acceptable: only application/json is produced.",
    "415": "unsupported_media_type: send application/json.",
    "429": "rate_limited (or an otp_* limit); `Retry-After` says how long to wait.",
    "500": "server_error: never expected; the body holds no details.",
    "503": "service_unavailable: database or cache unreachable.",
}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}


def add_error_responses(result: dict, generator: Any, request: Any, public: bool) -> dict:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorEnvelope" not in schemas:
        schemas["ErrorEnvelope"] = {
            "type": "object",
            "required": ["success", "code", "message"],
            "properties": {
                "success": {"type": "boolean", "enum": [False]},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "data": {"type": "object", "additionalProperties": True},
                "request_id": {"type": "string", "description": "As in X-Request-ID."},
            },
        }
    retry_after = {
        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
    }
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _COMMON_ERRORS.items():
                if status == "401" and not operation.get("security"):
                    # Public endpoints may still answer 401 (invalid_credentials …)
                    # when they document it themselves.
                    continue
                existing = responses.get(status)
                if existing is None:
                    responses[status] = {
                        "description": description,
                        "content": {"application/json": {"schema": _ERROR_REF}},
                    }
                if status == "429":
                    responses[status].setdefault("headers", retry_after)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    for content in response.get("content", {}).values():
                        if content.get("schema", {}).get("$ref", "").endswith(
                            "/ErrorEnvelopeSerializer"
                        ) or content.get("schema", {}).get("$ref", "").endswith("/ErrorEnvelope"):
                            content["schema"] = _ERROR_REF
    schemas.pop("ErrorEnvelopeSerializer", None)
    return result
