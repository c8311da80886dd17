"""The site's WSGI handler: Django's, remembering where each static path goes.

Django resolves the URL of every request from the top of the URLconf: for
``GET /api/v1/auth/me`` it tries the API's include, then the account API's,
and builds a ``ResolverMatch`` at each level (README, "What else came off the
hot paths": about 3 % of a token call's instructions). Where a path goes
depends only on the path and the URLconf, so the handler keeps the answer
for a path that matched a route with no parameters — the route *is* the
path — and looks it up on the next request for the same path:

- only such routes: a route with a converter (``sessions/<uuid:…>``) or a
  regular expression (the ``^api/`` catch-all) is resolved each time, so
  the table holds at most one entry per static route of the URLconf, and
  nothing a client can make up (it is capped at ``LIMIT`` all the same);
- a miss (404) is never kept;
- per resolver: a changed ``ROOT_URLCONF`` (tests) gets a resolver of its
  own and so a table of its own; a request with its own ``urlconf`` goes
  through Django's ``resolve_request`` unchanged;
- the URLconf must not use ``i18n_patterns``, whose matches depend on the
  active language (``authsite/tests/test_handlers.py`` checks that it does
  not).

A kept ``ResolverMatch`` is shared by the requests to its path. Nothing in
the site writes to one (its ``kwargs`` are empty for a static route, and
Django passes a view a copy of them).
"""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest
from django.urls import ResolverMatch, URLResolver, get_resolver

# More than the URLconf's static routes (the admin's included).
LIMIT = 2000

_matches: dict[URLResolver, dict[str, ResolverMatch]] = {}


class SiteWSGIHandler(WSGIHandler):
    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        if hasattr(request, "urlconf"):
            return super().resolve_request(request)
        resolver = get_resolver()
        known = _matches.get(resolver)
        if known is None:
            known = _matches.setdefault(resolver, {})
        path = request.path_info
        match = known.get(path)
        if match is None:
            match = resolver.resolve(path)
            if (
                match.route == path[1:]
                and not match.args
                and not match.kwargs
                and len(known) < LIMIT
            ):
                known[path] = match
        request.resolver_match = match
        return match


def get_wsgi_application() -> SiteWSGIHandler:
    """``django.core.wsgi.get_wsgi_application``, with the site's handler."""
    import django

    django.setup(set_prefix=False)
    return SiteWSGIHandler()
