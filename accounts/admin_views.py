"""The admin's sign-in, under the same limits as every other sign-in.

``admin_login`` is routed at ``/admin/login/`` ahead of ``admin.site.urls``
and wraps Django's own admin login:

- per client IP (``authsite.ratelimits``, the ``anon_ip`` and ``login_ip``
  actions of the API's sign-in; ``TRUSTED_PROXY_COUNT`` decides the IP);
- per identifier, whatever the IP (``accounts.services.lockout``, SPEC §14
  rule 3): the posted username is normalised as the API normalises it, so
  the API and the admin count failures for one identifier together.

Unknown identifier, wrong password, inactive account and non-staff account
all get Django's one "enter the correct email and password for a staff
account" error (SPEC §14 rule 1): ``IdentifierBackend`` runs the hasher once
for an unknown identifier and returns nothing for an inactive one. Every one
of them counts as a failure — not counting a right password of a non-staff or
inactive account would let the lockout tell that the password was right.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts import selectors
from accounts.identifiers import Identifier, parse_identifier
from accounts.models import SecurityEvent
from accounts.services.events import event_record
from accounts.services.lockout import signin_check_lock, signin_clear, signin_record_failure
from authsite.client import client_info
from authsite.errors import RateLimited
from authsite.ratelimits import ratelimit_hit

# The same per-IP actions as the API's password sign-in.
ADMIN_LOGIN_ACTIONS = ("anon_ip", "login_ip")


class StaffAuthenticationForm(AdminAuthenticationForm):
    """Django's admin sign-in form; the backend takes any identifier."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Email, phone or username")


def _identifier(raw: str) -> Identifier | None:
    try:
        return parse_identifier(raw)
    except ValidationError:
        return None


def _lockout_key(raw: str, identifier: Identifier | None) -> str:
    # Input that is no valid identifier can never sign in, but it is counted
    # all the same, so its answers follow the sequence of any unknown one.
    return identifier.value if identifier is not None else raw.strip().lower()[:254]


def _too_many(request: HttpRequest, exc: RateLimited, extra_context: dict | None) -> HttpResponse:
    """The admin sign-in page with the error, status 429 and ``Retry-After``."""
    seconds = max(1, exc.retry_after or 60)
    message = gettext("Too many sign-in attempts. Try again in %(seconds)d seconds.") % {
        "seconds": seconds
    }
    form = StaffAuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    # Unbound, so nothing is authenticated; only the error is shown.
    form._errors = ErrorDict(
        {NON_FIELD_ERRORS: form.error_class([message], error_class="nonfield")}
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        "form": form,
        REDIRECT_FIELD_NAME: request.POST.get(REDIRECT_FIELD_NAME)
        or request.GET.get(REDIRECT_FIELD_NAME, ""),
        **(extra_context or {}),
    }
    request.current_app = admin.site.name
    response = TemplateResponse(
        request, admin.site.login_template or "admin/login.html", context, status=429
    )
    response["Retry-After"] = str(seconds)
    return response


@sensitive_post_parameters("password")
@never_cache
def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    if request.method != "POST":
        return admin.site.login(request, extra_context)

    raw = request.POST.get("username", "") or ""
    password = request.POST.get("password", "") or ""
    identifier = _identifier(raw) if raw.strip() else None
    key = _lockout_key(raw, identifier) if raw.strip() else None
    try:
        for action in ADMIN_LOGIN_ACTIONS:
            ratelimit_hit(request=request, action=action)
        if key:
            signin_check_lock(identifier=key)
    except RateLimited as exc:
        return _too_many(request, exc, extra_context)

    response = admin.site.login(request, extra_context)
    if not key or not password:
        return response  # a missing field: the form says so; no credential was tried

    client = client_info(request)
    # Only a valid identifier is named in the event: junk in the username
    # field may be a password typed in the wrong box.
    named = identifier.value if identifier is not None else ""
    # Django's LoginView answers a valid form, and only a valid form, with a redirect.
    if isinstance(response, HttpResponseRedirect) and request.user.is_authenticated:
        user = request.user
        signin_clear(identifiers=[key, user.email, user.phone, user.username])
        event_record(kind=SecurityEvent.LOGIN_SUCCESS, user=user, identifier=named, client=client)
    else:
        signin_record_failure(identifier=key)
        user = selectors.user_by_identifier(identifier) if identifier is not None else None
        event_record(kind=SecurityEvent.LOGIN_FAILURE, user=user, identifier=named, client=client)
    return response
