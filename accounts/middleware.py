"""Web sessions of the HTML front door (SPEC §14 rule 9).

A signed-in browser carries, in its Django session, the id of its
``DeviceSession`` row (kind ``web``) and the time it signed in.
``WebSessionMiddleware`` checks both on every request of a signed-in browser:

- the row must still be live (one query: the row by primary key, not revoked).
  Revoking it — "sign out" on the devices page, "sign out all", a password
  reset or change, "this wasn't me", a staff deactivation — signs the browser
  out at its next request, not when its cookie expires;
- the absolute lifetime ``SESSION_MAX_AGE`` must not be exceeded. The idle
  lifetime is the cookie's age (``SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT``,
  renewed on every request by ``SESSION_SAVE_EVERY_REQUEST``).

Signing a browser in and out is ``accounts.browser``'s.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as django_logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.browser import SIGNED_IN_AT_KEY, WEB_SESSION_KEY
from accounts.services import mfa, websessions
from authsite import clock
from authsite.api import is_api_request
from authsite.client import client_info


class WebSessionMiddleware:
    """Sign a browser out when its web session was revoked or has lived too long.

    Sits after ``AuthenticationMiddleware`` (it reads ``request.user``) and
    after ``MessageMiddleware`` (it leaves a message on the sign-in page).
    The JSON API authenticates with bearer tokens and is left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_request(request):
            response = self._check(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated:
            return None
        session_id = request.session.get(WEB_SESSION_KEY)
        if session_id is None:
            # A session made before web sessions had rows (or by hand): it has
            # nothing to check against, so it ends here.
            django_logout(request)
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        signed_in_at = request.session.get(SIGNED_IN_AT_KEY)
        now = clock.now().timestamp()
        if not isinstance(signed_in_at, int | float) or now - signed_in_at > float(
            settings.SESSION_MAX_AGE
        ):
            websessions.web_session_expire(session_id=session_id)
            message = _("Your session has expired. Sign in again.")
        elif websessions.web_session_touch(
            session_id=session_id, user_id=user.pk, client=client_info(request)
        ):
            return None
        else:
            message = _("You have been signed out. Sign in again.")
        django_logout(request)
        messages.info(request, message)
        if request.method in ("GET", "HEAD"):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return redirect(settings.LOGIN_URL)


class MfaPolicyMiddleware:
    """The pages' half of the second-factor policy (SPEC §16.5): a staff
    account without a second factor reaches no admin page
    (``MFA_REQUIRED_FOR_STAFF``), and with ``MFA_REQUIRED`` no signed-in page
    but those that add one. Either is sent to ``/accounts/mfa/`` with the page
    it wanted as ``next``. (The API answers ``mfa_setup_required`` itself:
    ``accounts.api.authentication``.)"""

    # Pages a browser that must add a factor may still reach.
    OPEN_PREFIXES = (
        "/accounts/mfa/",
        "/accounts/reauthenticate/",
        "/accounts/logout/",
        "/accounts/login/",
        "/accounts/passkeys/",
        "/static/",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not is_api_request(request):
            path = request.path
            admin_page = path.startswith("/admin/") and not path.startswith(
                ("/admin/login/", "/admin/logout/")
            )
            needs_factor = (admin_page and mfa.mfa_staff_setup_required(user)) or (
                mfa.mfa_setup_required(user) and not path.startswith(self.OPEN_PREFIXES)
            )
            if needs_factor:
                messages.info(request, _("Add a second factor to your account to continue."))
                return redirect(f"/accounts/mfa/?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
