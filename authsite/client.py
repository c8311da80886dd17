"""Who is on the other end of a request: client IP and user agent.

``TRUSTED_PROXY_COUNT`` says how many reverse proxies sit in front of the app
and append to ``X-Forwarded-For``: with N trusted proxies the client is the
N-th address from the right; with 0 it is ``REMOTE_ADDR``. A header the client
wrote itself can therefore never pick the IP that rate limits count.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str = ""


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops <= 0:
        return remote
    forwarded = [p for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if len(forwarded) < hops:
        return remote
    return _valid_ip(forwarded[-hops]) or remote


def client_info(request: HttpRequest) -> ClientInfo:
    return ClientInfo(
        ip=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") or "")[:512],
    )


def ratelimit_ip_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key function: the client IP as above."""
    return client_ip(request) or "unknown"
