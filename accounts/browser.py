"""A browser's sign-in, as its Django session holds it (SPEC §14 rule 9).

A signed-in browser carries, in its Django session, the id of its
``DeviceSession`` row (kind ``web``, opened by the sign-in pipeline) and the
time it signed in; ``accounts.middleware.WebSessionMiddleware`` checks both on
every request. ``web_login`` and ``web_logout`` are the only places a browser
signs in or out, so the Django session and the row never drift apart.

The "don't ask again on this browser" cookie of the second step (SPEC §16.5)
is read and written here only (``trust_token_read``, ``trust_cookie_set``):
every door that calls a sign-in service passes what it holds as
``trust_token``; the value is ``mfa.trust_token_make``'s, signed and bound to
the user's security version, so a password change or a factor change ends it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.http import HttpRequest, HttpResponse

from accounts.models import DeviceSession, User
from accounts.services import mfa, passkeys, websessions
from accounts.services.signin import PASSWORD, SignedIn, signin_finalise_django_login
from authsite import clock
from authsite.client import client_info

WEB_SESSION_KEY = "_web_session_id"
SIGNED_IN_AT_KEY = "_web_signed_in_at"


# Set on a request whose sign-in the pipeline finalised, so that Django's
# ``user_logged_in`` signal does not finalise it a second time.
SIGNED_IN_BY_PIPELINE = "_authsite_signed_in"


def _bind(request: HttpRequest, row: DeviceSession) -> None:
    request.session[WEB_SESSION_KEY] = str(row.pk)
    request.session[SIGNED_IN_AT_KEY] = clock.now().timestamp()


def web_login(request: HttpRequest, signed_in: SignedIn) -> None:
    """Bind a finished sign-in (``accounts.services.signin``, kind ``web``) to
    this browser: a new session key (``django.contrib.auth.login``) holding
    the web session row the pipeline opened."""
    if request.user.is_authenticated:
        # Another account was signed in here: end its web session first.
        web_logout(request)
    setattr(request, SIGNED_IN_BY_PIPELINE, True)
    django_login(request, signed_in.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    _bind(request, signed_in.session)
    if signed_in.method == PASSWORD:
        # A password sign-in (with or without a second step): offer a passkey.
        passkey_offer_mark(request, signed_in.user)


def django_login_finalised(request: HttpRequest | None, user: User) -> None:
    """``user_logged_in`` of a sign-in made outside our doors (``authenticate()``
    then Django's ``login()``): the pipeline's last stage, once (SPEC §15;
    connected in ``accounts.receivers``)."""
    if request is None or getattr(request, SIGNED_IN_BY_PIPELINE, False):
        return
    setattr(request, SIGNED_IN_BY_PIPELINE, True)
    row = signin_finalise_django_login(user=user, client=client_info(request))
    if hasattr(request, "session"):
        _bind(request, row)


def web_logout(request: HttpRequest) -> None:
    """Sign the browser out on the server: revoke its row, flush its session."""
    user = request.user
    if user.is_authenticated:
        websessions.web_session_close(
            user=user,
            session_id=request.session.get(WEB_SESSION_KEY),
            client=client_info(request),
        )
    django_logout(request)


def current_web_session_id(request: HttpRequest) -> str | None:
    return request.session.get(WEB_SESSION_KEY)


def current_web_session(request: HttpRequest) -> DeviceSession | None:
    """This browser's web session row (live), for step-up checks."""
    return websessions.web_session_row(
        session_id=current_web_session_id(request), user_id=request.user.pk
    )


# --- trusted browser (SPEC §16.5) ---------------------------------------------------------

TRUST_COOKIE = "authsite_trusted_browser"
_TRUST_COOKIE_MAX_LENGTH = 1024


def trust_token_read(request: HttpRequest) -> str | None:
    """The trusted-browser token this browser holds, for ``trust_token=``."""
    value = request.COOKIES.get(TRUST_COOKIE)
    if not value or len(value) > _TRUST_COOKIE_MAX_LENGTH:
        return None
    return value


def trust_cookie_set(request: HttpRequest, response: HttpResponse, user: User) -> None:
    """Remember this browser for ``user`` for ``MFA_TRUST_DAYS`` days (nothing
    when that is 0). HttpOnly, SameSite=Lax, Secure on HTTPS."""
    token = mfa.trust_token_make(user=user)
    if token is None:
        return
    response.set_cookie(
        TRUST_COOKIE,
        token,
        max_age=settings.MFA_TRUST_DAYS * 24 * 60 * 60,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


# --- the offer of a passkey after a password sign-in (SPEC §17) -------------------------------

PASSKEY_OFFER_KEY = "_passkey_offer"


def passkey_offer_mark(request: HttpRequest, user: User) -> None:
    """After a password sign-in: offer a passkey on the next page, when due."""
    if passkeys.passkey_offer_due(user):
        request.session[PASSKEY_OFFER_KEY] = True


def passkey_offer_unmark(request: HttpRequest) -> None:
    request.session.pop(PASSKEY_OFFER_KEY, None)


def passkey_offer(request: HttpRequest) -> dict:
    """Context processor: ``passkey_offer`` is true on the one page after a
    password sign-in that asked for it (then the offer is gone, as a message
    is; "Not now" keeps it away for 30 days)."""
    session = getattr(request, "session", None)
    if session is None or PASSKEY_OFFER_KEY not in session:
        return {"passkey_offer": False}
    here = getattr(getattr(request, "resolver_match", None), "view_name", "")
    if here == "accounts:passkeys" or not request.user.is_authenticated:
        passkey_offer_unmark(request)
        return {"passkey_offer": False}
    passkey_offer_unmark(request)
    return {"passkey_offer": True}
