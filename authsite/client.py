"""Who is on the other end of a request: client IP and user agent.

``TRUSTED_PROXY_COUNT`` says how many reverse proxies sit in front of the app
and append to ``X-Forwarded-For``: with N trusted proxies the client is the
N-th address from the right; with 0 it is ``REMOTE_ADDR``. A header the client
wrote itself can therefore never pick the IP that rate limits count.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

# The cookie that tells a browser apart from others over time (SPEC §18.4,
# new-device notices); set by ``authsite.middleware.DeviceCookieMiddleware``.
DEVICE_COOKIE = "authsite_device"
_DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9._:+/=-]{8,128}$")


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str = ""
    # A stable id of the device: the browser's device cookie, or an API
    # client's ``X-Device-Id``; None when it sent none (the user agent serves).
    device_id: str | None = None


@functools.lru_cache(maxsize=1024)
def _valid_ip(value: str) -> str | None:
    """``value`` as a normalised IP address, or None. Remembered: a server sees
    the same few proxy or client addresses over and over, and parsing one
    with ``ipaddress`` costs more than the rest of finding the client."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


# Where RequestContextMiddleware keeps the request's client IP (gunicorn's
# access log reads it from the same environ); computed once per request.
CLIENT_IP_KEY = "authsite.client_ip"


def client_ip(request: HttpRequest) -> str | None:
    if CLIENT_IP_KEY in request.META:
        return request.META[CLIENT_IP_KEY]
    return client_ip_compute(request)


def client_ip_compute(request: HttpRequest) -> str | None:
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops <= 0:
        return remote
    forwarded = [p for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if len(forwarded) < hops:
        return remote
    return _valid_ip(forwarded[-hops]) or remote


def device_id_shape_ok(value: str) -> bool:
    return bool(_DEVICE_ID_RE.match(value))


def device_id(request: HttpRequest) -> str | None:
    """The device's id: the browser's device cookie (read or just made by the
    middleware), else a well-formed ``X-Device-Id`` header."""
    found = getattr(request, "device_id", None) or request.META.get("HTTP_X_DEVICE_ID", "")
    return found if found and device_id_shape_ok(found) else None


def client_info(request: HttpRequest) -> ClientInfo:
    return ClientInfo(
        ip=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") or "")[:512],
        device_id=device_id(request),
    )


def ratelimit_ip_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key function: the client IP as above."""
    return client_ip(request) or "unknown"
