"""Project-level views: health probes, error handlers, the home page."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.renderers import JSONRenderer

from authsite.api import (
    OUTAGE_ERRORS,
    AllowOnlyOn405,
    WithoutOptions,
    error_body,
    is_api_request,
    json_error,
)
from authsite.errors import NotFound, PermissionDenied, ServerError, ValidationFailed
from authsite.i18n import language_code
from profiles.services import profile_update

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


_PLAIN_500 = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Server error</title>'
    "</head><body><main><h1>Server error</h1><p>%(message)s</p></main></body></html>"
)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return json_error(ServerError())
    # The site's layout, rendered as Django's own handler does: without the
    # request's context processors (no session or database read here, which
    # may be what failed). The page then shows the signed-out menu.
    try:
        template = loader.get_template("500.html")
        return HttpResponseServerError(template.render({"SITE_NAME": settings.SITE_NAME}))
    except Exception:  # the error page must not fail in turn: plain words then
        logger.exception("The 500 page could not be rendered")
        return HttpResponseServerError(
            _PLAIN_500 % {"message": escape(_("Something went wrong on our side. Try again."))},
            content_type="text/html; charset=utf-8",
        )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error(PermissionDenied())
    return defaults.permission_denied(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error(ValidationFailed(_("The request could not be processed.")))
    return defaults.bad_request(request, exception)


# Pages of signed-out people: a signed-in browser's stale tab of one of them
# (its CSRF token rotated by the sign-in in another tab) is sent on.
SIGNED_OUT_FORMS = frozenset({"accounts:login", "accounts:login_code", "accounts:signup"})
LOGOUT = "accounts:logout"


def _safe(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def _form_page(request: HttpRequest, match) -> str:
    """The page whose form was refused: the page that showed it (Referer,
    same site only), else the URL posted to when it shows a page, else home."""
    referer = _safe(request, request.headers.get("Referer"))
    if referer:
        return referer
    view_class = getattr(match.func, "view_class", None) if match else None
    if match and (view_class is None or "get" in view_class.http_method_names):
        return request.get_full_path()
    return "/"


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form whose CSRF token no longer holds, most often from a tab left
    open while the person signed in or out in another (a sign-in rotates the
    token). Nothing the form asked for is done; the page says so and leads
    back to the form, except where the answer is plain: a signed-in browser's
    sign-in or sign-up form goes on as signed in, and a stale "sign out"
    shows a fresh sign-out form (or says that the browser is signed out)."""
    if is_api_request(request):
        return json_error(PermissionDenied(_("CSRF verification failed.")))
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    view_name = match.view_name if match else ""
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    if view_name in SIGNED_OUT_FORMS and signed_in:
        messages.info(request, _("You are already signed in."))
        return redirect(_safe(request, request.POST.get("next")) or settings.LOGIN_REDIRECT_URL)
    if view_name == LOGOUT:
        if not signed_in:
            messages.info(request, _("You are already signed out."))
            return redirect(settings.LOGOUT_REDIRECT_URL)
        return render(request, "accounts/logout.html", {"stale": True}, status=403)
    return render(request, "403_csrf.html", {"back": _form_page(request, match)}, status=403)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


class ErrorsAsEnvelope:
    """For the views that answer a document, not JSON (the OpenAPI schema in
    YAML or JSON, the Swagger page): their errors — a method they do not
    serve, a ``format`` or an ``Accept`` they cannot answer — are the JSON
    envelope like every other answer under ``/api/`` (SPEC §5.1, §19.1),
    not YAML or Django's HTML."""

    def finalize_response(self, request, response, *args, **kwargs) -> HttpResponse:
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


class SchemaView(WithoutOptions, AllowOnlyOn405, ErrorsAsEnvelope, SpectacularAPIView):
    pass


class DocsView(WithoutOptions, AllowOnlyOn405, ErrorsAsEnvelope, SpectacularSwaggerView):
    pass


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The footer's language switcher (SPEC §21): the language cookie, and for
    a signed-in account its own language too (which would otherwise win over
    the cookie). Back to the page it was on (same site only)."""
    language = language_code(request.POST.get("language"))
    back = _safe(request, request.POST.get("next")) or "/"
    response = redirect(back)
    if language is None:
        return response
    if request.user.is_authenticated:
        profile_update(user=request.user, fields={"language": language})
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
