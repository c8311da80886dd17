"""The JSON envelope of SPEC §5.1, for every response under ``/api/``.

Success::

    {"success": true, "message": "Signed in.", "data": {...}}

Error::

    {"success": false, "code": "otp_invalid", "message": "...", "errors": {...},
     "request_id": "..."}

``exception_handler`` is DRF's ``EXCEPTION_HANDLER``: it renders our
``AuthsiteError`` subclasses, DRF's own exceptions (authentication,
validation, parse, throttling, 404, 405), Django's ``Http404`` and
``PermissionDenied``, database/cache outages (503) and anything unexpected
(500, logged with its traceback; the body holds no traceback, SQL or
settings). ``ApiErrorMiddleware`` and the project's ``handler404`` /
``handler500`` cover what happens outside DRF views.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponseBase, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework import status as http
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from authsite.errors import (
    AuthsiteError,
    MethodNotAllowed,
    NotAcceptable,
    NotAuthenticated,
    NotFound,
    OtpAttemptsExceeded,
    OtpInvalid,
    PermissionDenied,
    RateLimited,
    RetryLater,
    ServerError,
    ServiceUnavailable,
    TokenInvalid,
    TokenReused,
    UnsupportedMediaType,
    ValidationFailed,
)
from authsite.i18n import account_language_activate
from authsite.logging import request_id_current

logger = logging.getLogger("authsite.api")

try:  # Redis being down is an outage, not a bug.
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    CACHE_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
        RedisConnectionError,
        RedisTimeoutError,
    )
except ImportError:  # pragma: no cover - redis is a requirement
    CACHE_OUTAGE_ERRORS = ()

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    *CACHE_OUTAGE_ERRORS,
)


class WithoutOptions:
    """OPTIONS is not served under ``/api/``, and not offered either.

    DRF answers OPTIONS with its own description of a view, not the SPEC §5.1
    envelope, so ``DEFAULT_METADATA_CLASS`` is off and OPTIONS answers 405
    ``method_not_allowed``. DRF would still name OPTIONS in every ``Allow``
    header (``APIView.allowed_methods`` lists each handler the class has);
    leaving it out of ``http_method_names`` makes ``Allow`` true. CORS
    preflights never reach a view: django-cors-headers answers them."""

    http_method_names = [name for name in APIView.http_method_names if name != "options"]


class AllowOnlyOn405:
    """DRF's response headers without ``Allow``, except on a 405: DRF names a
    view's methods on every answer, which RFC 9110 (§10.2.1) asks of a 405
    alone; working the list out and writing one more header cost every API
    call (README, "Benchmark")."""

    @property
    def default_response_headers(self) -> dict[str, str]:
        return {"Vary": "Accept"} if len(self.renderer_classes) > 1 else {}

    def finalize_response(self, request, response, *args, **kwargs) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == http.HTTP_405_METHOD_NOT_ALLOWED:
            response["Allow"] = ", ".join(self.allowed_methods)
        return response


class ApiViewMixin(WithoutOptions, AllowOnlyOn405):
    """What every API view shares (``ApiView``, and the generic views')."""

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # Authenticated now: a signed-in account's own language (SPEC §21).
        if request.user.is_authenticated:
            account_language_activate(request, request.user)


class ApiView(ApiViewMixin, APIView):
    """The base of the API's views.

    ``code_field``: the body field a one-time code comes in. A refused code
    (``otp_invalid``, ``otp_attempts_exceeded``) names it in ``errors`` (SPEC
    §5.1's example: ``"errors": {"otp": [...]}``), so a client shows the
    message under the box the code was typed into. The services raise these
    errors without a field: what the front door calls it is the front door's."""

    code_field: str | None = None


def success(
    data: Any = None,
    *,
    message: str = "",
    status: int = http.HTTP_200_OK,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        {"success": True, "message": str(message), "data": data},
        status=status,
        headers=headers,
    )


def error_body(
    code: str,
    message: str,
    errors: dict[str, list[str]] | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "code": code, "message": str(message)}
    if errors:
        body["errors"] = errors
    if data:
        body["data"] = data
    # The id in the X-Request-ID header and on the request's log lines, so a
    # client's bug report leads to them (authsite.middleware.RequestIdMiddleware).
    request_id = request_id_current()
    if request_id:
        body["request_id"] = request_id
    return body


def _flatten(detail: Any) -> dict[str, list[str]]:
    """DRF's nested ``ValidationError.detail`` as ``{field: [messages]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for field, value in detail.items():
            if isinstance(value, dict):
                for sub, messages in _flatten(value).items():
                    out[f"{field}.{sub}"] = messages
            elif isinstance(value, list):
                messages: list[str] = []
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        for sub, sub_messages in _flatten(item).items():
                            out[f"{field}.{index}.{sub}"] = sub_messages
                    elif isinstance(item, list):
                        messages.extend(str(m) for m in item)
                    else:
                        messages.append(str(item))
                if messages:
                    out[str(field)] = messages
            else:
                out[str(field)] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


def _response(
    code: str,
    message: str,
    status: int,
    *,
    errors: dict[str, list[str]] | None = None,
    data: dict[str, Any] | None = None,
    retry_after: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    headers = dict(headers or {})
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return Response(error_body(code, message, errors, data), status=status, headers=headers)


def render_error(exc: AuthsiteError, *, errors: dict[str, list[str]] | None = None) -> Response:
    retry_after = exc.retry_after
    message = exc.message
    if isinstance(exc, RetryLater):
        # The text says the same number of seconds as Retry-After (SPEC §19.5).
        retry_after = exc.wait_seconds
        message = exc.message_with_wait()
    headers = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return _response(
        exc.code,
        message,
        exc.status,
        errors=errors if errors is not None else exc.errors,
        data=exc.data,
        retry_after=retry_after,
        headers=headers,
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Every exception a view can raise, as one of the ``authsite.errors``
    classes: the codes the API answers are exactly those of that table."""
    error = api_error(exc)
    errors = error.errors
    field = getattr(context.get("view"), "code_field", None)
    if errors is None and field and isinstance(error, (OtpInvalid, OtpAttemptsExceeded)):
        errors = {field: [error.message]}
    return render_error(error, errors=errors)


def api_error(exc: Exception) -> AuthsiteError:
    if isinstance(exc, AuthsiteError):
        return exc
    if isinstance(exc, drf_exceptions.NotAuthenticated):
        return NotAuthenticated()
    if isinstance(exc, drf_exceptions.AuthenticationFailed):
        codes = exc.get_codes()
        if codes == TokenReused.code:
            return TokenReused(str(exc.detail))
        if codes == NotAuthenticated.code:
            return NotAuthenticated(str(exc.detail))
        return TokenInvalid(str(exc.detail))
    if isinstance(exc, drf_exceptions.ValidationError):
        return ValidationFailed(errors=_flatten(exc.detail))
    if isinstance(exc, drf_exceptions.ParseError):
        return ValidationFailed(
            _("The request body is not valid JSON."),
            errors={"non_field_errors": [str(exc.detail)]},
        )
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return UnsupportedMediaType()
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return MethodNotAllowed()
    if isinstance(exc, drf_exceptions.NotAcceptable):
        return NotAcceptable()
    if isinstance(exc, drf_exceptions.Throttled):
        return RateLimited(retry_after=exc.wait or 1)
    if isinstance(exc, (drf_exceptions.NotFound, Http404)):
        return NotFound()
    if isinstance(exc, (drf_exceptions.PermissionDenied, DjangoPermissionDenied)):
        return PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        message = _("The request body is too large.")
        return ValidationFailed(message, errors={"non_field_errors": [message]})
    if isinstance(exc, SuspiciousOperation):
        return ValidationFailed(_("The request could not be processed."))
    if isinstance(exc, OUTAGE_ERRORS):
        logger.error("Service unavailable: %s", exc.__class__.__name__, exc_info=exc)
        return ServiceUnavailable(retry_after=5)
    if isinstance(exc, DatabaseError):
        logger.exception("Database error", exc_info=exc)
        return ServerError()
    # Any other APIException, or a bug: logged, and no details in the body.
    logger.error("Unexpected error in API view", exc_info=exc)
    return ServerError()


def json_error(error: AuthsiteError) -> JsonResponse:
    """The envelope of ``error`` for a plain Django view or middleware (outside DRF)."""
    message = error.message_with_wait() if isinstance(error, RetryLater) else error.message
    response = JsonResponse(
        error_body(error.code, message, error.errors, error.data), status=error.status
    )
    if isinstance(error, RetryLater) or error.retry_after is not None:
        response["Retry-After"] = str(max(1, math.ceil(error.retry_after or 1)))
    return response


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class EnvelopePagination(PageNumberPagination):
    """Page-number pagination whose page lives in ``data``:
    ``{"count", "next", "previous", "results"}``.

    ``page`` and ``page_size`` are what the schema says, positive integers
    (``page_size`` at most 100), or a 400: DRF's own pagination would quietly
    serve the default page for ``page_size=abc`` or read ``page=last``.
    """

    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()
    message = ""

    def paginate_queryset(self, queryset, request, view=None) -> list | None:
        # The view's ``page_message`` is the answer's message.
        self.message = str(getattr(view, "page_message", ""))
        return super().paginate_queryset(queryset, request, view)

    def _query_int(self, request, name: str, maximum: int | None = None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
        if value < 1 or (maximum is not None and value > maximum):
            if maximum is None:
                message = _("Enter a whole number of 1 or more.")
            else:
                message = _("Enter a whole number from 1 to %(maximum)d.") % {"maximum": maximum}
            raise ValidationFailed.for_field(name, message)
        return value

    def get_page_size(self, request) -> int:
        size = self._query_int(request, self.page_size_query_param, self.max_page_size)
        return size or self.page_size

    def get_page_number(self, request, paginator) -> int:
        return self._query_int(request, self.page_query_param) or 1

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            # _query_int reads at most 9 digits.
            parameter["schema"]["maximum"] = 10**9 - 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters

    def get_paginated_response(self, data: Any) -> Response:
        return success(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            },
            message=self.message,
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        # Each field has an example, so drf-spectacular can wrap an example item.
        page = {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "example": 1},
                "next": {"type": "string", "nullable": True, "format": "uri", "example": None},
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "example": None,
                },
                "results": schema,
            },
        }
        return {
            "type": "object",
            "required": ["success", "message", "data"],
            "properties": {
                # enum [true], set after drf-spectacular's enum hook (authsite.schema.TRUE_KEY)
                "success": {"type": "boolean", "x-authsite-true": True, "example": True},
                "message": {"type": "string", "example": ""},
                "data": page,
            },
        }
