import logging

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from authsite.api import OUTAGE_ERRORS, is_api_request, json_error

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
                return json_error("service_unavailable", message, 503, retry_after=5)
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = "5"
            return response
        return None
