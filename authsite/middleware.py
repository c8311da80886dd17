import logging
import secrets
import threading
import time

from corsheaders.middleware import CorsMiddleware as BaseCorsMiddleware
from django.conf import settings
from django.core.exceptions import DisallowedHost, ImproperlyConfigured
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import gettext as _

from authsite import metrics
from authsite.api import OUTAGE_ERRORS, is_api_request, json_error
from authsite.client import CLIENT_IP_KEY, DEVICE_COOKIE, client_ip_compute, device_id_shape_ok
from authsite.errors import ServiceUnavailable, ValidationFailed
from authsite.i18n import (
    pages_language_mark,
    request_language_activate,
    request_language_end,
)
from authsite.logging import (
    log_context_begin,
    log_context_end,
    path_redacted,
    printable,
    request_id_new,
    request_id_valid,
    request_user_id,
)

logger = logging.getLogger("authsite.api")
request_logger = logging.getLogger("authsite.request")

# Probes and scrapes: their request lines are DEBUG, so a load balancer that
# checks every few seconds does not drown the log.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# Left in the environ for gunicorn's access log (gunicorn.conf.py): the URL
# name of the view that answered, and the signed-in user's id.
VIEW_KEY = "authsite.view"
USER_ID_KEY = "authsite.user_id"


class RequestIdMiddleware:
    """First in ``MIDDLEWARE``: gives the request its id, sets the log context
    (``authsite.logging``) for everything the request logs and the browser's
    language (``authsite.i18n``) for everything it answers, and when the
    response is ready returns the id in ``X-Request-ID``, observes the latency
    metric by view name and writes the request line (method, path, status,
    duration, view; never the query string or body).

    The request line is off with ``REQUEST_LOG=false``, which gunicorn.conf.py
    sets when gunicorn writes its access log: that line carries the same
    fields (this middleware leaves the view and the user id in the environ
    for it), and two lines for every request cost CPU and say nothing more.
    A 5xx answer is always written, at ERROR.

    An ``X-Request-ID`` header is honoured only behind a trusted proxy
    (``TRUSTED_PROXY_COUNT`` > 0, as for the client IP in ``authsite.client``)
    and only when it is shaped like an id; otherwise the request gets a new one.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.request_lines = settings.REQUEST_LOG

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = self.request_id(request)
        request.request_id = request_id
        # Before anything can answer; ended with the request, so that no
        # language is left on this thread for the next one (authsite.i18n).
        request_language_activate(request)
        ip = client_ip_compute(request)
        meta = request.META
        # For gunicorn's access log (gunicorn.conf.py), which gets the same environ,
        # and for every later client_ip() of this request.
        meta[CLIENT_IP_KEY] = ip
        path = path_redacted(printable(request.path))
        # Ended by request_finished (below), once Django has logged the response too.
        log_context_begin(request_id=request_id, client_ip=ip, path=path, request=request)
        try:
            response = self.get_response(request)
        finally:
            request_language_end(request)
        response["X-Request-ID"] = request_id
        seconds = time.perf_counter() - started
        status = response.status_code
        view = metrics.view_label(request)
        metrics.request_observed(view=view, method=request.method, status=status, seconds=seconds)
        meta[VIEW_KEY] = view
        user_id = request_user_id(request)
        if user_id is not None:
            meta[USER_ID_KEY] = user_id
        if status >= 500:
            level = logging.ERROR
        elif not self.request_lines:
            return response
        elif request.path in QUIET_PATHS:
            level = logging.DEBUG
        else:
            level = logging.INFO
        if request_logger.isEnabledFor(level):
            request_logger.log(
                level,
                "%s %s %s %.1fms",
                request.method,
                path,
                status,
                seconds * 1000,
                extra={
                    "method": request.method,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    "view": view,
                },
            )
        return response

    @staticmethod
    def request_id(request: HttpRequest) -> str:
        if getattr(settings, "TRUSTED_PROXY_COUNT", 0) > 0:
            incoming = request.META.get("HTTP_X_REQUEST_ID", "")
            if request_id_valid(incoming):
                return incoming
        return request_id_new()


request_finished.connect(log_context_end, dispatch_uid="authsite.logging.log_context_end")


class CorsMiddleware(BaseCorsMiddleware):
    """django-cors-headers' middleware, without parsing every request header
    to learn that a request has no ``Origin``.

    django-cors-headers reads ``request.headers.get("origin")`` on every
    response under ``CORS_URLS_REGEX``: the first read of
    ``request.headers`` builds a dict of every header of the request (a
    call per ``HTTP_*`` key of the environ) — for a mobile client, which
    never sends ``Origin``, on every API call (README, "Benchmark"). A
    request without one gets what django-cors-headers gives it, ``Vary:
    origin`` where CORS applies and nothing else; a request with one is
    django-cors-headers' own, unchanged."""

    def add_response_headers(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.META.get("HTTP_ORIGIN"):
            return super().add_response_headers(request, response)
        enabled = getattr(request, "_cors_enabled", None)
        if enabled is None:
            enabled = self.is_enabled(request)
        if enabled:
            patch_vary_headers(response, ("origin",))
        return response


class ApiErrorMiddleware:
    """Envelope for exceptions raised under ``/api/`` outside DRF's handler
    (middleware, URL resolution, a plain Django view), and a 503 page for
    database or cache outages everywhere — and for a ``ServiceUnavailable``
    a page's service raised (the password-hashing bulkhead's
    ``PasswordHashingBusy``: ``authsite/hashers.py``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OUTAGE_ERRORS):
            logger.error(
                "Service unavailable: %s", exception.__class__.__name__, exc_info=exception
            )
            message = _("The service is temporarily unavailable. Try again shortly.")
            if is_api_request(request):
                return json_error(ServiceUnavailable(message, retry_after=5))
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = "5"
            return response
        if isinstance(exception, ServiceUnavailable):
            retry_after = max(1, int(exception.retry_after or 5))
            if is_api_request(request):
                return json_error(
                    exception.code, exception.message, exception.status, retry_after=retry_after
                )
            response = HttpResponse(
                exception.message, status=503, content_type="text/plain; charset=utf-8"
            )
            response["Retry-After"] = str(retry_after)
            return response
        return None


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (with Django's never-cache set) on every
    response our views make that does not say otherwise (SPEC §22.8): the
    API's answers carry tokens, codes and personal data, and a signed-in
    page is personal. A view that may be cached (a public document) sets its
    own ``Cache-Control``. Static files are served before this (whitenoise)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            if response.has_header("Expires"):
                add_never_cache_headers(response)
            else:
                # What add_never_cache_headers writes, without parsing and
                # rebuilding the header twice (README, "Benchmark").
                response.headers["Expires"] = _http_date_now()
                response.headers["Cache-Control"] = NEVER_CACHE
        return response


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's (the ``Host`` check against ``ALLOWED_HOSTS``, ``APPEND_SLASH``
    …), except that a ``Host`` it refuses under ``/api/`` answers the 400
    envelope in development too (SPEC §19.1). Django turns that refusal into
    its HTML debug page when ``DEBUG`` is on (with the settings in it) — what
    a phone or an emulator on the network of a ``make run`` met — and into
    ``handler400`` (the envelope) only when it is off. Logged as Django logs
    it (``django.security.DisallowedHost``)."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            return super().process_request(request)
        except DisallowedHost as exc:
            if not is_api_request(request):
                raise
            logging.getLogger("django.security.DisallowedHost").error(
                str(exc), extra={"status_code": 400, "request": request}
            )
            return json_error(
                ValidationFailed(_("This server does not answer for the host the request names."))
            )


# add_never_cache_headers' Cache-Control, and its Expires: now.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
_http_date: tuple[int, str] = (0, "")


def _http_date_now() -> str:
    """``http_date(time.time())``, made once a second."""
    global _http_date
    now = int(time.time())
    second, text = _http_date
    if second != now:
        text = http_date(now)
        _http_date = (now, text)
    return text


class DeviceCookieMiddleware:
    """Give every browser a long-lived random device id (a cookie), so a
    sign-in from a browser the account has not used before can be told apart
    (SPEC §18.4). The id is made when the request arrives, so the very sign-in
    that sets the cookie already counts it. Not on the API (its clients send
    ``X-Device-Id``)."""

    MAX_AGE = 2 * 365 * 24 * 60 * 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_request(request):
            return self.get_response(request)
        current = request.COOKIES.get(DEVICE_COOKIE, "")
        fresh = not current or not device_id_shape_ok(current)
        request.device_id = secrets.token_urlsafe(24) if fresh else current
        response = self.get_response(request)
        if fresh:
            response.set_cookie(
                DEVICE_COOKIE,
                request.device_id,
                max_age=self.MAX_AGE,
                secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
        return response


# --- the pages-only block of MIDDLEWARE --------------------------------------------------

# Paths of the machine door: the JSON API and the probes. They skip the
# pages-only block (below): no session, CSRF cookie, messages, user, web
# session, second-factor policy, device cookie or locale.
MACHINE_PATHS = QUIET_PATHS


def is_machine_request(request: HttpRequest) -> bool:
    """The JSON API (bearer tokens; DRF authenticates) and the probes."""
    return is_api_request(request) or request.path in MACHINE_PATHS


# How PagesOnlyMiddleware finds the end of its block: Django builds the chain
# from the last entry of MIDDLEWARE to the first, in one thread, so the end of
# the block is built just before its start.
_block = threading.local()


class PagesOnlyMiddleware:
    """The start of the pages-only block of ``MIDDLEWARE``; ``PagesOnlyEndMiddleware``
    is its end. A page request goes through every middleware between them; an
    API request or a probe (``is_machine_request``) goes straight to the end,
    so those middleware do no work for it (README, "Benchmark").

    The block's middleware stay in ``MIDDLEWARE`` as Django loads them, so
    Django's own checks see them (CSRF, and the admin's session, auth and
    messages middleware) and their hooks are registered as usual. The one
    hook among them, ``CsrfViewMiddleware.process_view``, still runs for
    every request: it returns at once for the API's views and the probes,
    which are all exempt (DRF's ``APIView`` and the probes are
    ``csrf_exempt``; API clients authenticate with bearer tokens, never with
    a cookie).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        end = getattr(_block, "end", None)
        _block.end = None
        if end is None:
            raise ImproperlyConfigured(
                "authsite.middleware.PagesOnlyMiddleware needs "
                "authsite.middleware.PagesOnlyEndMiddleware after it in MIDDLEWARE."
            )
        # The rest of the chain after the block's end (Django's wrapped handler).
        self.skip_to = end.get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_machine_request(request):
            return self.skip_to(request)
        pages_language_mark(request)
        return self.get_response(request)


class PagesOnlyEndMiddleware:
    """The end of the pages-only block (see ``PagesOnlyMiddleware``)."""

    def __init__(self, get_response):
        self.get_response = get_response
        _block.end = self

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
