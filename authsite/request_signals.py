"""Two of Django's receivers of ``request_started`` / ``request_finished``
that do nothing here, disconnected (issue 21: what every request pays).

Django sends both signals for every request, and three of its receivers look
up this thread's database connections or caches. Each look-up goes through
asgiref's ``Local``, which asks asyncio for a running event loop — an
exception raised and caught on every access: about 2.5 µs to list one
database's connections, and as much for the caches. Two of the three have
nothing to do in production:

- ``reset_queries`` (request_started) empties each connection's log of
  queries, which only ``DEBUG`` fills (and Django's query-counting test
  helpers, which disconnect it themselves while they count): disconnected
  when ``DEBUG`` is off.
- ``close_caches`` (request_finished) calls ``close()`` on each cache in
  use: disconnected when no configured cache's ``close()`` does anything —
  the local-memory, dummy, database and file caches, Django's Redis cache,
  django-redis without ``CLOSE_CONNECTION`` — and kept otherwise (memcached
  closes its sockets).

``close_old_connections`` (both signals) stays: it is what ends a database
connection past ``CONN_MAX_AGE`` or broken.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.cache.backends.base import BaseCache
from django.db import reset_queries
from django.utils.module_loading import import_string


def cache_close_does_nothing(config: dict[str, Any]) -> bool:
    """Whether ``close()`` of the cache ``config`` (an entry of ``CACHES``) is
    a no-op. A backend not known to be one, or that cannot be imported, is
    taken to need it."""
    try:
        backend = import_string(config["BACKEND"])
    except (ImportError, KeyError):
        return False
    if getattr(backend, "close", None) is BaseCache.close:
        return True
    if config["BACKEND"] == "django_redis.cache.RedisCache":
        # django-redis closes its pool only when asked to (DefaultClient.close).
        options = config.get("OPTIONS") or {}
        return not options.get(
            "CLOSE_CONNECTION", getattr(settings, "DJANGO_REDIS_CLOSE_CONNECTION", False)
        )
    return False


def install() -> None:
    """Disconnect what does nothing (``AuthsiteConfig.ready``)."""
    if not settings.DEBUG:
        signals.request_started.disconnect(reset_queries)
    if all(cache_close_does_nothing(config) for config in settings.CACHES.values()):
        signals.request_finished.disconnect(close_caches)
