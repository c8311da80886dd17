import logging

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from authsite.api import OUTAGE_ERRORS, is_api_request, json_error
from authsite.errors import ServiceUnavailable

logger = logging.getLogger("authsite.api")


class ApiErrorMiddleware:
    """Envelope for exceptions raised under ``/api/`` outside DRF's handler
    (middleware, URL resolution, a plain Django view), and a 503 page for
    database or cache outages everywhere."""

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
            add_never_cache_headers(response)
        return response
