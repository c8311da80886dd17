"""The site's WSGI handler keeps where each static path goes
(``authsite/handlers.py``): the same views as Django's resolution, fewer
resolutions, nothing kept that a client could make up."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import LocalePrefixPattern

from authsite import handlers
from authsite.handlers import SiteWSGIHandler
from authsite.tests.urls import BoomView

pytestmark = pytest.mark.django_db


def environ(path: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }


def call(handler: SiteWSGIHandler, path: str) -> str:
    statuses: list[str] = []
    body = handler(environ(path), lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    body.close()
    return statuses[0]


@pytest.fixture
def counted(monkeypatch):
    """The root resolver's resolutions, counted; a fresh table."""
    monkeypatch.setattr(handlers, "_matches", {})
    resolver = get_resolver()
    paths: list[str] = []
    real = resolver.resolve

    def counting(path):
        paths.append(path)
        return real(path)

    monkeypatch.setattr(resolver, "resolve", counting)
    return paths


SESSION = f"/api/v1/auth/sessions/{uuid.uuid4()}"


def test_a_static_path_is_resolved_once(counted):
    handler = SiteWSGIHandler()
    for path in ("/healthz", "/api/v1/auth/me", "/healthz", "/api/v1/auth/me", "/"):
        call(handler, path)
    assert counted == ["/healthz", "/api/v1/auth/me", "/"]
    kept = handlers._matches[get_resolver()]
    assert sorted(kept) == ["/", "/api/v1/auth/me", "/healthz"]
    assert kept["/api/v1/auth/me"].view_name == "accounts_api:me"


@pytest.mark.parametrize(
    "path",
    [
        SESSION,  # a converter: resolved each time, never kept
        "/api/v1/no-such-thing",  # the ^api/ catch-all (a regular expression)
        "/no-such-page",  # a miss (404)
        "/admin/accounts/",  # the admin's regular expressions
    ],
)
def test_a_path_with_parameters_a_catch_all_or_a_miss_is_never_kept(counted, path):
    handler = SiteWSGIHandler()
    first, second = call(handler, path), call(handler, path)
    assert first == second
    # Resolved by each request (a miss is resolved again by CommonMiddleware,
    # looking for the path with a slash).
    assert counted.count(path) >= 2
    assert path not in handlers._matches.get(get_resolver(), {})


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/api/v1/auth/me", "/api/v1/auth/token/refresh", "/api/v1/profile", "/", SESSION],
)
def test_the_view_is_the_one_django_resolves(counted, path):
    handler = SiteWSGIHandler()
    call(handler, path)
    request = WSGIRequest(environ(path))
    match = handler.resolve_request(request)
    expected = resolve(path)
    assert request.resolver_match is match
    assert (match.func, match.args, match.kwargs, match.view_name, match.route) == (
        expected.func,
        expected.args,
        expected.kwargs,
        expected.view_name,
        expected.route,
    )


def test_another_urlconf_gets_a_table_of_its_own(counted, settings):
    handler = SiteWSGIHandler()
    call(handler, "/healthz")
    settings.ROOT_URLCONF = "authsite.tests.urls"  # Django clears its URL caches
    assert call(handler, "/api/v1/test/boom").startswith("500")
    assert sorted(handlers._matches[get_resolver()]) == ["/api/v1/test/boom"]


def test_a_request_with_its_own_urlconf_is_resolved_by_django(counted):
    handler = SiteWSGIHandler()
    request = WSGIRequest(environ("/api/v1/test/boom"))
    request.urlconf = "authsite.tests.urls"
    try:
        assert handler.resolve_request(request).func.view_class is BoomView
    finally:
        from django.urls import set_urlconf

        set_urlconf(None)
    assert handlers._matches == {}


def test_the_table_is_capped(counted, monkeypatch):
    monkeypatch.setattr(handlers, "LIMIT", 1)
    handler = SiteWSGIHandler()
    for path in ("/healthz", "/readyz", "/readyz"):
        call(handler, path)
    assert counted == ["/healthz", "/readyz", "/readyz"]


def test_the_urlconf_has_no_language_prefixed_patterns():
    """i18n_patterns resolve by the active language: their matches could not
    be kept by path alone."""

    def walk(patterns):
        for pattern in patterns:
            assert not isinstance(pattern.pattern, LocalePrefixPattern), pattern
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            else:
                assert isinstance(pattern, URLPattern)
                yield pattern

    assert len(list(walk(get_resolver().url_patterns))) > 50


def test_the_site_serves_through_it():
    from authsite.wsgi import application

    assert type(application) is SiteWSGIHandler
