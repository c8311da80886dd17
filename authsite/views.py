"""Project-level views: health probes, error handlers, the home page."""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from authsite.api import OUTAGE_ERRORS, error_body, is_api_request, json_error
from authsite.errors import NotFound, PermissionDenied, ServerError, ValidationFailed

logger = logging.getLogger("authsite.health")


@never_cache
@csrf_exempt
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up. Touches neither the database nor the cache."""
    return JsonResponse({"success": True, "message": "ok", "data": {"status": "ok"}})


@never_cache
@csrf_exempt
def readyz(request: HttpRequest) -> JsonResponse:
    """The database and the cache both answer; otherwise 503 in the envelope."""
    checks = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except OUTAGE_ERRORS as exc:
        logger.warning("readyz: database unreachable: %s", exc.__class__.__name__)
        checks["database"] = "unavailable"
        # A broken connection must not be reused by the next request.
        connection.close_if_unusable_or_obsolete()
    try:
        cache.set("readyz", "1", 5)
        if cache.get("readyz") != "1":
            checks["cache"] = "unavailable"
    except Exception as exc:  # any cache backend failure means "not ready"
        logger.warning("readyz: cache unreachable: %s", exc.__class__.__name__)
        checks["cache"] = "unavailable"
    if all(value == "ok" for value in checks.values()):
        return JsonResponse({"success": True, "message": "ready", "data": checks})
    body = error_body(
        "service_unavailable",
        _("The service is temporarily unavailable. Try again shortly."),
        data=checks,
    )
    response = JsonResponse(body, status=503)
    response["Retry-After"] = "5"
    return response


@csrf_exempt
def api_not_found(request: HttpRequest, *args: object) -> JsonResponse:
    """Every path under ``/api/`` that no route matches — unknown paths, a
    trailing slash, a malformed path parameter (``sessions/not-a-uuid``) — in
    any method: the ``not_found`` envelope, with ``DEBUG`` on too (Django's
    debug 404 page would be HTML)."""
    return json_error(NotFound())


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error(NotFound())
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return json_error(ServerError())
    return defaults.server_error(request)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error(PermissionDenied())
    return defaults.permission_denied(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error(ValidationFailed(_("The request could not be processed.")))
    return defaults.bad_request(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api_request(request):
        return json_error(PermissionDenied(_("CSRF verification failed.")))
    return render(request, "403_csrf.html", status=403)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")
