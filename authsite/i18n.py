"""The language of a request (SPEC §21).

The account's (``User.language``, set on the profile), else the language
cookie (the pages' footer switcher), else ``Accept-Language``, else
``LANGUAGE_CODE``. Emails and texts go out in the recipient's language: the
account's, else the language of the request that sent them
(``message_language``).

Who sets it:

- every request, first thing (``request_language_activate``, called by the
  first middleware, so that a refused ``Host`` or an outage, answered above
  the pages' block, speaks it too): the cookie's or ``Accept-Language``'s,
  when the request sends either;
- the pages: Django's ``LocaleMiddleware`` (the same rule), then
  ``AccountLanguageMiddleware`` for a signed-in account;
- the API, which skips the pages' block: ``account_language_activate`` once
  DRF has authenticated the bearer token (``authsite.api.ApiViewMixin``).

Between requests no language is active, so a worker thread that served a
page in Hindi never answers the next call in it: whatever a request
activated is deactivated when it ends (``request_language_end``, by the
first middleware). This costs an API call that sends neither cookie nor
``Accept-Language`` — most of them — two dictionary look-ups: Django keeps
the active language in an ``asgiref`` ``Local``, whose every read or write
costs microseconds (issue 21, README "Benchmark").
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

# Set in a request's __dict__ when the request activated a language.
_ACTIVATED = "language_activated"


def language_code(value: object) -> str | None:
    """``value`` as one of ``LANGUAGES``' codes (trimmed, any case), or None.
    The one check of a language a client or a person names: the profile's
    ``language``, the footer's switcher, a stored ``User.language``."""
    if not isinstance(value, str) or not value:
        return None
    code = value.strip().lower()
    return code if any(code == known for known, _name in settings.LANGUAGES) else None


def _mark(request: Any) -> None:
    """Remember that this request activated a language (``request_language_end``)."""
    getattr(request, "_request", request).__dict__[_ACTIVATED] = True


def request_language_activate(request: HttpRequest) -> None:
    """At the start of every request: the cookie's language, else
    ``Accept-Language``'s; nothing when the request sends neither (the
    default, ``LANGUAGE_CODE``, is what is active between requests)."""
    meta = request.META
    if "HTTP_ACCEPT_LANGUAGE" not in meta:
        cookies = meta.get("HTTP_COOKIE")
        if not cookies:
            return
        name = settings.LANGUAGE_COOKIE_NAME
        if name not in cookies or name not in request.COOKIES:
            return
    translation.activate(translation.get_language_from_request(request))
    _mark(request)


def pages_language_mark(request: HttpRequest) -> None:
    """A page request: ``LocaleMiddleware`` will activate a language."""
    request.__dict__[_ACTIVATED] = True


def account_language_activate(request: Any, user: Any) -> None:
    """The account's language, when it has chosen one, over the browser's.
    ``request``: Django's, or DRF's wrapping it."""
    language = language_code(getattr(user, "language", ""))
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language
        _mark(request)


def request_language_end(request: HttpRequest) -> None:
    """When the request is answered: back to no active language, if it set one."""
    # A look-up in the instance's dict: getattr with a default would raise
    # and catch an AttributeError on every request that set nothing.
    if _ACTIVATED in request.__dict__:
        translation.deactivate()


def message_language(user: Any = None) -> str:
    """The language of an email or a text: the recipient account's, else the
    language of the request that sends it (the person asking)."""
    return language_code(getattr(user, "language", "")) or translation.get_language()


class AccountLanguageMiddleware:
    """Pages: after ``AuthenticationMiddleware``, a signed-in account's own
    language wins over the cookie and ``Accept-Language`` (which Django's
    ``LocaleMiddleware`` has applied)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            account_language_activate(request, user)
        return self.get_response(request)
