"""The OpenAPI document (drf-spectacular): the envelope, typed success data,
error codes as enums, one-of rules of request bodies, examples, servers.

How an endpoint documents itself::

    @api_doc(
        summary="Sign in with a code",
        request=s.CodeVerifyInputSerializer,
        data=s.CodeLoginSessionSerializer,          # the success ``data``
        errors=[OtpInvalid, OtpAttemptsExceeded],   # classes of authsite.errors
        request_example={"email": "ada@example.com", "otp": "123456"},
        data_example={...},
    )

- ``errors`` names the ``authsite.errors`` classes the endpoint can raise;
  their ``status`` and ``code`` come from the classes, the one table of error
  codes, which ``authsite.api`` also renders every error from. Errors common
  to a kind of operation are added by ``add_error_responses``: 400
  ``validation_error`` where there is input, 401 ``not_authenticated`` /
  ``token_invalid`` where a token is read, 404 ``not_found`` where a path has
  parameters, 415 where there is a body, 429 ``rate_limited`` on the public
  (rate-limited) operations, and 406, 500, 503 everywhere. For each status the
  response is a component ``Error<status><Codes…>`` whose ``code`` is an
  ``enum`` of exactly those codes; an error that carries ``data`` registers its
  shape with ``error_data_schema`` (``account_not_verified``).
- A request serializer whose fields must be given in one of several
  combinations sets ``schema_variants`` (``exactly_one("email", "phone")``,
  ``at_least_one(...)``): the document then offers one component per
  combination (``AddressWithEmailRequest`` …) under ``oneOf`` / ``anyOf``, and
  marks the body required.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

from authsite.errors import (
    AuthsiteError,
    MfaSetupRequired,
    NotAcceptable,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TokenInvalid,
    UnsupportedMediaType,
    ValidationFailed,
)

ERRORS_KEY = "x-authsite-errors"
VARIANTS_KEY = "x-authsite-variants"


def _class_body(chars: list[str]) -> str:
    """The inside of a regex character class for ``chars``, as \\uXXXX ranges:
    read the same by Python's ``re`` and by ECMA-262 (JSON Schema's dialect)."""
    codes = sorted(ord(c) for c in chars)
    parts, start = [], None
    for i, code in enumerate(codes):
        if start is None:
            start = code
        if i + 1 == len(codes) or codes[i + 1] != code + 1:
            parts.append(f"\\u{start:04x}" + (f"-\\u{code:04x}" if code != start else ""))
            start = None
    return "".join(parts)


# White space as str.strip() sees it (str.isspace). Spelled out: ECMA's \s
# leaves out U+001C-U+001F and U+0085, which Python trims.
_SPACES = [chr(c) for c in range(0x3001) if chr(c).isspace()]
WS_CHARS = _class_body(_SPACES)
# White space that is not a control character (U+0000-U+001F, U+007F).
WS_CHARS_PRINTABLE = _class_body([c for c in _SPACES if ord(c) > 0x1F and c != "\x7f"])
WS = f"[{WS_CHARS}]"
# "Given": a string holding something other than white space (the API trims
# every text field and takes an empty one for a field left out), and no NUL
# (DRF refuses it in any text field). "Blank": the opposite, what a field of
# another combination may hold. "Text": any string without a NUL.
GIVEN = f"^[^\\u0000]*[^\\u0000{WS_CHARS}][^\\u0000]*$"
BLANK = f"^{WS}*$"
TEXT = "^[^\\u0000]*$"
_STATED = frozenset({"pattern", "format", "enum", "oneOf", "$ref"})


# --- one-of rules of request bodies -----------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One combination of fields a body may take: ``given`` fields are required
    and not blank, ``blank`` ones left out or blank, ``only`` narrows a field to
    some of its values (``purpose``)."""

    name: str
    given: tuple[str, ...]
    blank: tuple[str, ...] = ()
    only: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Variants:
    keyword: str  # "oneOf" (exactly one matches) or "anyOf"
    variants: tuple[Variant, ...]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def exactly_one(*fields: str, also: tuple[str, ...] = ()) -> Variants:
    """Exactly one of ``fields`` given, the others left out or blank
    (``also``: fields every combination requires)."""
    return Variants(
        "oneOf",
        tuple(Variant(_camel(f), (f, *also), tuple(g for g in fields if g != f)) for f in fields),
    )


def at_least_one(*fields: str) -> Variants:
    """One or several of ``fields`` given (each combination its own component)."""
    variants = []
    for mask in range(1, 2 ** len(fields)):
        given = tuple(f for i, f in enumerate(fields) if mask & (1 << i))
        blank = tuple(f for f in fields if f not in given)
        variants.append(Variant("And".join(_camel(f) for f in given), given, blank))
    return Variants("oneOf", tuple(variants))


def any_of(*fields: str) -> Variants:
    """At least one of ``fields``, each named alone (a body may match several)."""
    return Variants("anyOf", tuple(Variant(_camel(f), (f,)) for f in fields))


# --- fields ------------------------------------------------------------------------------


TRUE_KEY = "x-authsite-true"
NULL_KEY = "x-authsite-null"


@extend_schema_field({"type": "boolean", TRUE_KEY: True})
class TrueField(serializers.BooleanField):
    """Always ``true`` (``enum: [true]``, set by ``add_constants`` after
    drf-spectacular's enum hook, which would make a component of it)."""


# --- the auto schema ---------------------------------------------------------------------

_NAME_SUFFIXES = ("Serializer", "Input", "Request", "Output")


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus:

    - the body of a DELETE that declares one (``DELETE /auth/account`` reads
      the password, or a code, from its body);
    - component names without doubled suffixes: a request component is
      ``<Name>Request`` (``LoginRequest``, not ``LoginInputRequest``), a response
      one ``<Name>`` (``Profile``, not ``ProfileOutput``);
    - ``schema_variants`` of a request serializer, for ``add_variants``;
    - a PATCH whose view validates the whole body (``partial_patch = False``,
      as renaming a passkey: the name is required) documented as such, not as
      drf-spectacular's all-optional ``Patched…`` component.
    """

    def _get_request_body(self, direction: str = "request"):
        whole_patch = self.method == "PATCH" and not getattr(self.view, "partial_patch", True)
        delete_body = self.method == "DELETE" and self.get_request_serializer() is not None
        if not (whole_patch or delete_body):
            return super()._get_request_body(direction)
        method, self.method = self.method, "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = method

    def get_serializer_name(self, serializer, direction) -> str:
        name = super().get_serializer_name(serializer, direction)
        changed = True
        while changed:
            changed = False
            for suffix in _NAME_SUFFIXES:
                if name.endswith(suffix) and len(name) > len(suffix):
                    name = name[: -len(suffix)]
                    changed = True
        return name

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # A field built with a schema of its own (``style={"openapi": {...}}``):
        # the rules the service applies, stated where DRF's own fields cannot.
        documented = (getattr(field, "style", None) or {}).get("openapi")
        if documented is None:
            return super()._map_serializer_field(field, direction, bypass_extensions)
        schema = copy.deepcopy(documented() if callable(documented) else documented)
        if field.help_text and "description" not in schema:
            schema["description"] = str(field.help_text)
        if getattr(field, "allow_null", False):
            schema["nullable"] = True
        return schema

    def _insert_field_validators(self, field, schema):
        # A field with a schema of its own states its limits itself; DRF's
        # validators would add a maxLength the API counts after trimming, and
        # drf-spectacular a second way to send "" where the pattern has one.
        if (getattr(field, "style", None) or {}).get("openapi") is not None:
            return
        super()._insert_field_validators(field, schema)

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request":
            # A plain text field (no schema of its own, no pattern or format)
            # says what DRF refuses in it: a NUL anywhere, and, unless it may
            # be blank, white space alone (trimmed to "", "may not be blank").
            properties = schema.get("properties", {})
            for name, field in getattr(serializer, "fields", {}).items():
                prop = properties.get(name)
                plain = (
                    isinstance(field, serializers.CharField)
                    and (getattr(field, "style", None) or {}).get("openapi") is None
                    and isinstance(prop, dict)
                    and prop.get("type") == "string"
                    and not (_STATED & prop.keys())
                )
                if plain:
                    prop["pattern"] = TEXT if field.allow_blank else GIVEN
        variants = getattr(serializer, "schema_variants", None)
        if variants is not None and direction == "request":
            schema[VARIANTS_KEY] = {
                "keyword": variants.keyword,
                "variants": [
                    {"name": v.name, "given": v.given, "blank": v.blank, "only": v.only}
                    for v in variants.variants
                ],
            }
        return schema


# --- envelopes and api_doc --------------------------------------------------------------

_envelopes: dict[str, type[serializers.Serializer]] = {}
_error_data: dict[str, dict[str, Any]] = {}


class NoDataSerializer(serializers.Serializer):
    """Documents a ``data`` that is always null."""


@extend_schema_field({"type": "object", "nullable": True, NULL_KEY: True})
class NullField(serializers.JSONField):
    """Always ``null``."""


def envelope(data: Any = None, *, name: str | None = None) -> type[serializers.Serializer]:
    """A serializer documenting ``{"success": true, "message": str, "data": <data>}``
    (``data`` null when ``data`` is None)."""
    if data is None:
        data_field: serializers.Field = NullField(allow_null=True)
        key = name or "EmptyEnvelope"
    elif isinstance(data, serializers.BaseSerializer):
        data_field = data
        inner = data.child if isinstance(data, serializers.ListSerializer) else data
        key = (
            name
            or f"{_stem(inner.__class__.__name__)}{'List' if inner is not data else ''}Envelope"
        )
    else:
        data_field = data()
        key = name or f"{_stem(data.__name__)}Envelope"
    if key not in _envelopes:
        _envelopes[key] = inline_serializer(
            name=key,
            fields={
                "success": TrueField(),
                "message": serializers.CharField(help_text="Human-readable, translated."),
                "data": data_field,
            },
        )
    return _envelopes[key]


def _stem(name: str) -> str:
    for suffix in ("Serializer", "Output"):
        name = name.removesuffix(suffix)
    return name


def documented_errors(errors: Any = ()) -> dict[str, Any]:
    """The ``extensions`` of ``extend_schema`` listing an operation's own error classes."""
    by_status: dict[str, list[str]] = {}
    for error in errors:
        if not (isinstance(error, type) and issubclass(error, AuthsiteError)):
            raise TypeError(f"errors= takes authsite.errors classes, not {error!r}")
        codes = by_status.setdefault(str(error.status), [])
        if error.code not in codes:
            codes.append(error.code)
    return {ERRORS_KEY: by_status}


def error_data_schema(error: type[AuthsiteError], schema: dict[str, Any]) -> None:
    """Register the JSON schema of the ``data`` an error carries."""
    _error_data[error.code] = schema


def api_doc(
    *,
    summary: str,
    request: Any = None,
    data: Any = None,
    status: int = 200,
    errors: Any = (),
    description: str = "",
    request_example: Any = None,
    data_example: Any = None,
    message_example: str = "",
    envelope_name: str | None = None,
    **kwargs: Any,
):
    """``extend_schema`` for an endpoint answering in the envelope.

    ``errors`` lists the ``authsite.errors`` classes the endpoint raises (the
    common ones are added for it). ``request_example`` and ``data_example``
    become the examples of the body and of the success answer.
    ``envelope_name`` names the success envelope's component where ``data``'s
    own name would not do (a ``PolymorphicProxySerializer``).
    """
    responses: dict[int, Any] = {}
    if status == 204:
        responses[204] = OpenApiResponse(description="No content.")
    else:
        responses[status] = envelope(data, name=envelope_name)
    examples = list(kwargs.pop("examples", []))
    if request_example is not None:
        examples.append(OpenApiExample("Request", value=request_example, request_only=True))
    if status != 204:
        examples.append(
            OpenApiExample(
                "Success",
                value={"success": True, "message": message_example, "data": data_example},
                response_only=True,
                status_codes=[status],
            )
        )
    extensions = {**kwargs.pop("extensions", {}), **documented_errors(errors)}
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses=responses,
        examples=examples,
        extensions=extensions,
        **kwargs,
    )


# --- postprocessing hooks -----------------------------------------------------------------


def _given_schema(schema: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    # drf-spectacular writes a blank-allowed field as oneOf [the field, an
    # empty string]: given, it is the field alone.
    branches = out.get("oneOf")
    if branches and any(b.get("maxLength") == 0 for b in branches):
        rest = [b for b in branches if b.get("maxLength") != 0]
        out.pop("oneOf")
        if len(rest) == 1:
            out.update(rest[0])
        else:
            out["oneOf"] = rest
    if out.get("type") == "string" and "enum" not in out:
        if out.get("pattern") == TEXT:
            out["pattern"] = GIVEN
        out.setdefault("pattern", GIVEN)
    out.pop("nullable", None)
    return out


def add_variants(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """Split each request component with ``schema_variants`` into one
    component per combination, under ``oneOf`` / ``anyOf``; its bodies become
    required."""
    schemas = result.get("components", {}).get("schemas", {})
    split: set[str] = set()
    for name, schema in list(schemas.items()):
        rule = schema.pop(VARIANTS_KEY, None)
        if rule is None:
            continue
        base = name.removesuffix("Request")
        refs = []
        for variant in rule["variants"]:
            properties = copy.deepcopy(schema.get("properties", {}))
            for key in variant["given"]:
                properties[key] = _given_schema(properties[key])
            for key in variant["blank"]:
                properties[key] = {
                    "type": "string",
                    "pattern": BLANK,
                    "description": "Left out or empty in this combination.",
                }
            for key, values in variant["only"].items():
                # Not beside a $ref, where OpenAPI 3.0 ignores it.
                properties[key] = {"type": "string", "enum": values}
            required = list(dict.fromkeys([*schema.get("required", []), *variant["given"]]))
            variant_name = f"{base}With{variant['name']}Request"
            variant_schema = {
                "type": "object",
                "properties": properties,
                "required": required,
            }
            if schema.get("description"):
                variant_schema["description"] = schema["description"]
            schemas[variant_name] = variant_schema
            refs.append({"$ref": f"#/components/schemas/{variant_name}"})
        schemas[name] = {rule["keyword"]: refs}
        if schema.get("description"):
            schemas[name]["description"] = schema["description"]
        split.add(name)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if not body:
                continue
            for content in body.get("content", {}).values():
                ref = content.get("schema", {}).get("$ref", "")
                if ref.rsplit("/", 1)[-1] in split:
                    body["required"] = True
    return result


_RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 1},
        "required": True,
        "description": "Seconds to wait; the message says the same number.",
    }
}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "schema": {"type": "string"},
        "required": True,
        "description": 'Bearer realm="api"',
    }
}


def _error_component_name(status: str, codes: list[str]) -> str:
    return f"Error{status}" + "".join(_camel(code) for code in codes)


def _error_component(codes: list[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "success": {"type": "boolean", "enum": [False]},
        "code": {
            "type": "string",
            "enum": codes,
            "description": "Stable machine-readable error code (SPEC §5.1).",
        },
        "message": {"type": "string", "description": "Human-readable, translated."},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": (
                "Field name → messages: the fields a validation error refuses; for "
                "otp_invalid and otp_attempts_exceeded, the field the code came in "
                "(`otp`, or `code` on the second-step endpoints)."
            ),
        },
        "request_id": {
            "type": "string",
            "description": "The id of this request (X-Request-ID), for a bug report.",
        },
    }
    data = [_error_data[code] for code in codes if code in _error_data]
    if len(data) == 1:
        properties["data"] = data[0]
    elif data:
        properties["data"] = {"oneOf": data}
    return {"type": "object", "required": ["success", "code", "message"], "properties": properties}


def _description(codes: list[str]) -> str:
    return ", ".join(f"`{code}`" for code in codes)


def add_error_responses(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """The error responses of every operation, from the ``errors`` each view
    names plus the common ones, one ``enum`` of codes per status."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            declared: dict[str, list[str]] = operation.pop(ERRORS_KEY, {})
            has_body = "requestBody" in operation
            has_params = bool(operation.get("parameters"))
            secured = any(requirement for requirement in operation.get("security", [{}]))
            public_op = not operation.get("security") or {} in operation["security"]
            common: list[type[AuthsiteError]] = [NotAcceptable, ServerError, ServiceUnavailable]
            if has_body or has_params:
                common.append(ValidationFailed)
            if secured:
                # MFA_REQUIRED: an account without a second factor reaches only
                # the endpoints that add one (SPEC §16.5).
                common += [NotAuthenticated, TokenInvalid, MfaSetupRequired]
            if "{" in path:
                common.append(NotFound)
            if has_body:
                common.append(UnsupportedMediaType)
            if public_op:
                common.append(RateLimited)
            by_status: dict[str, list[str]] = {
                status: list(codes) for status, codes in declared.items()
            }
            for error in common:
                codes = by_status.setdefault(str(error.status), [])
                if error.code not in codes:
                    codes.append(error.code)
            responses = operation.setdefault("responses", {})
            for status in sorted(by_status):
                codes = sorted(by_status[status])
                name = _error_component_name(status, codes)
                schemas.setdefault(name, _error_component(codes))
                response: dict[str, Any] = {
                    "description": _description(codes),
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    },
                }
                if status == "429":
                    response["headers"] = copy.deepcopy(_RETRY_AFTER)
                elif status == "401":
                    response["headers"] = copy.deepcopy(_WWW_AUTHENTICATE)
                responses[status] = response
            operation["responses"] = dict(sorted(responses.items()))
    return result


def add_constants(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """``enum: [true]`` / ``enum: [null]`` where ``TrueField`` / ``NullField`` stand."""
    stack: list[Any] = [result.get("components", {})]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.pop(TRUE_KEY, False):
                item["enum"] = [True]
            if item.pop(NULL_KEY, False):
                item["enum"] = [None]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return result


def add_servers(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """``servers`` from ``API_SERVERS`` (the deployment's public base URLs);
    without it, the origin the document was asked from."""
    servers = list(getattr(settings, "API_SERVERS", []) or [])
    if not servers and request is not None:
        try:
            servers = [request.build_absolute_uri("/")]
        except Exception:  # a host Django refuses: leave servers out
            servers = []
    if servers:
        result["servers"] = [{"url": re.sub(r"/+$", "", url) or "/"} for url in servers]
    return result
