"""The language of a request (SPEC §21).

The account's (``User.language``, set on the profile), else the language
cookie (the pages' footer switcher), else ``Accept-Language``, else
``LANGUAGE_CODE``. The pages get the last two from Django's
``LocaleMiddleware`` and the account's from ``AccountLanguageMiddleware``;
every request gets the browser's first, from ``request_language_activate``
(called by the first middleware, before anything can answer: a refused
``Host`` or an outage answers above the pages' block), and API requests,
which skip the pages' middleware, the account's from
``account_language_activate`` once DRF has authenticated the bearer token. Emails and texts go out in the
recipient's language: the account's, else the language of the request that
sent them (``message_language``).

The language is activated on every request, never left over: a worker
thread that served a page in Hindi must not answer the next API call in it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def supported_language(code: object) -> str | None:
    """``code`` if it names one of ``LANGUAGES`` (its variants too: ``hi-IN``)."""
    if not isinstance(code, str) or not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def request_language_activate(request: HttpRequest) -> None:
    """At the start of every request: the cookie's language, else
    ``Accept-Language``'s, else the default (for the pages, LocaleMiddleware
    then decides the same way). Most API clients send neither: that costs two
    dictionary look-ups."""
    meta = request.META
    if "HTTP_ACCEPT_LANGUAGE" in meta or settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        language = translation.get_language_from_request(request)
    else:
        language = settings.LANGUAGE_CODE
    translation.activate(language)


def account_language_activate(request: Any, user: Any) -> None:
    """The account's language, when it has chosen one, over the browser's."""
    language = supported_language(getattr(user, "language", ""))
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language


def message_language(user: Any = None) -> str:
    """The language of an email or a text: the recipient account's, else the
    language of the request that sends it (the person asking)."""
    return supported_language(getattr(user, "language", "")) or translation.get_language()


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
