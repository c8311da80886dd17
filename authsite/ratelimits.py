"""Per-IP rate limits (SPEC §11), shared by the API and the pages.

Actions are named and their rates live in ``settings.RATELIMITS``; counters
live in the default cache (Redis in production), so every worker and every app
server counts together. ``RATELIMIT_ENABLE=false`` switches these limits off
(load tests); the code rules of SPEC §4 and the per-identifier sign-in lockout
(``accounts.services.lockout``) stay on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from authsite import metrics
from authsite.client import client_ip
from authsite.errors import RateLimited


def ratelimit_hit(*, request: HttpRequest, action: str) -> None:
    """Count one request of ``action`` for the client IP; raise ``RateLimited``
    (with the seconds to wait) when the client is over the rate."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return
    rate = settings.RATELIMITS[action]
    ip = client_ip(request) or "unknown"
    usage = get_usage(
        request,
        group=f"authsite.{action}",
        key=lambda _group, _request: ip,
        rate=rate,
        increment=True,
    )
    if usage is not None and usage["should_limit"]:
        metrics.rate_limit_refused(action=action)
        raise RateLimited(retry_after=max(1, int(usage["time_left"])))


def rate_limited(*actions: str) -> Callable:
    """Decorate a view (or a DRF view method) with named per-IP limits."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            request = next(a for a in args if hasattr(a, "META"))
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                for action in actions:
                    ratelimit_hit(request=request, action=action)
            return view(*args, **kwargs)

        return wrapped

    return decorator
