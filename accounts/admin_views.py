"""The admin's sign-in: the sign-in pipeline behind Django's admin login page.

``admin_login`` is routed at ``/admin/login/`` ahead of ``admin.site.urls``.
A GET shows Django's page. A POST goes through the same pipeline as every
other door (``accounts.services.signin``, SPEC §15) with ``staff_only``:

- per client IP (``authsite.ratelimits``, the ``anon_ip`` and ``login_ip``
  actions of the API's sign-in; ``TRUSTED_PROXY_COUNT`` decides the IP);
- per account, whatever the IP, and with the dummy hash for unknown
  identifiers (SPEC §14 rules 1 and 3, §22.5);
- the identifier is read as typed: Django's form would first apply NFKC,
  which turns fullwidth letters, the long s and the Kelvin sign into ASCII
  and so into someone else's address (SPEC §22.1).

An account with a second factor goes on to the second step
(``/accounts/login/mfa/``, SPEC §16.1), which returns to the admin's ``next``.

Unknown identifier, wrong password, inactive account and non-staff account
all get Django's one "enter the correct email and password for a staff
account" error, and each counts as a failure — not counting a right password
of a non-staff or inactive account would let the lockout tell that the
password was right.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.browser import trust_token_read, web_login
from accounts.identifiers import parse_identifier
from accounts.pages import second_step
from accounts.services import signin
from authsite.client import client_info
from authsite.errors import (
    AccountInactive,
    AccountNotVerified,
    InvalidCredentials,
    MfaRequired,
    RateLimited,
)
from authsite.ratelimits import ratelimit_hit

# The same per-IP actions as the API's password sign-in.
ADMIN_LOGIN_ACTIONS = ("anon_ip", "login_ip")


class StaffAuthenticationForm(AdminAuthenticationForm):
    """Django's admin sign-in form, for showing the page; the sign-in itself
    is the pipeline's."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Email, phone or username")


def _page(
    request: HttpRequest, message: str, *, status: int, extra_context: dict | None
) -> TemplateResponse:
    """The admin sign-in page with one error, the typed identifier kept."""
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
    return TemplateResponse(
        request, admin.site.login_template or "admin/login.html", context, status=status
    )


def _invalid_message() -> str:
    return AdminAuthenticationForm.error_messages["invalid_login"] % {"username": gettext("email")}


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index", current_app=admin.site.name)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    if request.method != "POST":
        return admin.site.login(request, extra_context)

    raw = request.POST.get("username", "") or ""
    password = request.POST.get("password", "") or ""
    if not raw.strip() or not password:
        # A missing field: the form says so; no credential was tried.
        return admin.site.login(request, extra_context)
    client = client_info(request)
    try:
        for action in ADMIN_LOGIN_ACTIONS:
            ratelimit_hit(request=request, action=action)
        try:
            identifier = parse_identifier(raw)
        except ValidationError:
            identifier = None
        if identifier is None:
            signin.signin_password_unreadable(raw=raw, password=password, client=client)
        signed_in = signin.signin_password(
            identifier=identifier,
            password=password,
            client=client,
            kind=signin.WEB,
            staff_only=True,
            trust_token=trust_token_read(request),
        )
    except MfaRequired as exc:
        return second_step(request, exc, next_url=_next_url(request), admin=True)
    except RateLimited as exc:
        seconds = max(1, exc.retry_after or 60)
        message = gettext("Too many sign-in attempts. Try again in %(seconds)d seconds.") % {
            "seconds": seconds
        }
        response = _page(request, message, status=429, extra_context=extra_context)
        response["Retry-After"] = str(seconds)
        return response
    except (InvalidCredentials, AccountInactive, AccountNotVerified):
        return _page(request, _invalid_message(), status=200, extra_context=extra_context)
    web_login(request, signed_in)
    return HttpResponseRedirect(_next_url(request))
