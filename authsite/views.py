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

logger = logging.getLogger("authsite.health")


@csrf_exempt
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up. Touches neither the database nor the cache.
    (Not cached: ``NoStoreMiddleware`` marks it, as every answer of ours.)"""
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


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error("not_found", _("Not found."), 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return json_error("server_error", _("Something went wrong on our side."), 500)
    return defaults.server_error(request)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error("permission_denied", _("You do not have permission to do this."), 403)
    return defaults.permission_denied(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error("validation_error", _("The request could not be processed."), 400)
    return defaults.bad_request(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api_request(request):
        return json_error("permission_denied", _("CSRF verification failed."), 403)
    return render(request, "403_csrf.html", status=403)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")
