"""authsite/request_signals.py: Django's reset_queries and close_caches are
disconnected where they would do nothing, and only there."""

from __future__ import annotations

import pytest
from django.core import signals
from django.core.cache import close_caches
from django.db import close_old_connections, reset_queries

from authsite import request_signals
from authsite.request_signals import cache_close_does_nothing

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEMCACHED = {
    "default": LOCMEM["default"],
    "sessions": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "127.0.0.1:11211",
    },
}


def connected(signal, receiver) -> bool:
    return any(ref() is receiver for _key, ref, *_ in signal.receivers if callable(ref))


@pytest.fixture
def rewired():
    """Django's receivers connected as Django connects them; put back after."""
    before = (
        connected(signals.request_started, reset_queries),
        connected(signals.request_finished, close_caches),
    )
    signals.request_started.connect(reset_queries)
    signals.request_finished.connect(close_caches)
    yield
    for signal, receiver, was in (
        (signals.request_started, reset_queries, before[0]),
        (signals.request_finished, close_caches, before[1]),
    ):
        if not was:
            signal.disconnect(receiver)


def install_with(settings, *, debug: bool, caches: dict) -> None:
    settings.DEBUG = debug
    settings.CACHES = caches
    request_signals.install()


@pytest.mark.parametrize(("debug", "kept"), [(False, False), (True, True)])
def test_reset_queries_only_with_debug(rewired, settings, debug, kept):
    install_with(settings, debug=debug, caches=LOCMEM)
    assert connected(signals.request_started, reset_queries) is kept
    # What ends broken or old database connections is never touched.
    assert connected(signals.request_started, close_old_connections)
    assert connected(signals.request_finished, close_old_connections)


@pytest.mark.parametrize(("caches", "kept"), [(LOCMEM, False), (MEMCACHED, True)])
def test_close_caches_only_where_a_cache_closes_something(rewired, settings, caches, kept):
    install_with(settings, debug=False, caches=caches)
    assert connected(signals.request_finished, close_caches) is kept


def test_the_site_starts_with_them_disconnected():
    """The test settings (DEBUG off, a local-memory cache) as production with
    Redis: install() ran at start-up. (Django's query-counting helpers
    reconnect reset_queries when they end; no test of this module uses them.)"""
    assert not connected(signals.request_finished, close_caches)


@pytest.mark.parametrize(
    ("config", "does_nothing"),
    [
        ({"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, True),
        ({"BACKEND": "django.core.cache.backends.dummy.DummyCache"}, True),
        ({"BACKEND": "django.core.cache.backends.redis.RedisCache"}, True),
        ({"BACKEND": "django.core.cache.backends.db.DatabaseCache"}, True),
        ({"BACKEND": "django_redis.cache.RedisCache"}, True),
        (
            {"BACKEND": "django_redis.cache.RedisCache", "OPTIONS": {"CLOSE_CONNECTION": True}},
            False,
        ),
        ({"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"}, False),
        ({"BACKEND": "django.core.cache.backends.memcached.PyLibMCCache"}, False),
        ({"BACKEND": "no.such.Backend"}, False),
        ({}, False),
    ],
)
def test_which_caches_close_nothing(config, does_nothing):
    assert cache_close_does_nothing(config) is does_nothing


def test_django_redis_told_to_close_by_its_setting(settings):
    settings.DJANGO_REDIS_CLOSE_CONNECTION = True
    assert not cache_close_does_nothing({"BACKEND": "django_redis.cache.RedisCache"})
