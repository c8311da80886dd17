"""The page framework of the HTML front door: pages that show the 429 page
for a refusal with a wait and send the browser to re-authenticate when a
service asks for a recent authentication (``Page``), service errors put
beside form fields, the second step of sign-in every door leads to
(``second_step``), and the code-entry step every multi-page flow shares
(``CodePage``)."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views import View

from accounts import forms
from accounts.browser import current_web_session
from accounts.flows import flow_context, flow_end, flow_get, flow_identifier, mfa_flow_start
from accounts.identifiers import Identifier
from accounts.services import stepup
from authsite.errors import (
    AuthsiteError,
    MfaRequired,
    OtpAttemptsExceeded,
    OtpInvalid,
    ReauthenticationRequired,
    RetryLater,
    ServiceUnavailable,
)
from authsite.ratelimits import rate_limited

# Refusals a page never shows as a form error: ``Page.dispatch`` answers them
# (the 429 page; the re-authentication page), and ``ApiErrorMiddleware`` the
# 503 page (a full password-hashing queue, authsite/hashers.py). Views re-raise them.
PAGE_ERRORS = (RetryLater, ReauthenticationRequired, ServiceUnavailable)


def wait_message(exc: RetryLater) -> str:
    """The refusal with the wait in seconds, for a message on the page: the
    API's words and number (``Retry-After``)."""
    return exc.message_with_wait()


def retry_later_page(request: HttpRequest, exc: RetryLater) -> HttpResponse:
    """The HTML twin of the API's 429: the reason, the wait, ``Retry-After``."""
    wait = exc.wait_seconds  # the API's number (Retry-After)
    response = render(
        request,
        "429.html",
        {"message": exc.message, "wait": wait, "back": request.path},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


def reauthenticate_url(next_url: str) -> str:
    return f"{reverse('accounts:reauthenticate')}?{urlencode({'next': next_url})}"


class Page(View):
    """A page whose services may refuse with a wait (the 429 page) or ask for
    a recent authentication (SPEC §16.4: to ``/accounts/reauthenticate/``,
    which comes back here)."""

    # The page a re-authentication returns to, as a URL name, for a page that
    # only takes POSTs; else the page itself.
    reauth_return: str | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            self.require(request)
            return super().dispatch(request, *args, **kwargs)
        except RetryLater as exc:
            return retry_later_page(request, exc)
        except ReauthenticationRequired:
            messages.info(request, _("Confirm it is you to continue."))
            return redirect(reauthenticate_url(self.reauth_return_url(request)))

    def require(self, request: HttpRequest) -> None:
        """What the page needs before it does anything (nothing here)."""

    def reauth_return_url(self, request: HttpRequest) -> str:
        if self.reauth_return:
            return reverse(self.reauth_return)
        return request.get_full_path() if request.method in ("GET", "HEAD") else request.path


class SignedInPage(LoginRequiredMixin, Page):
    pass


class StepUpPage(SignedInPage):
    """A page that changes second factors: even its GET asks for a recent
    authentication of this browser's session first (its POSTs' services
    check again)."""

    def require(self, request: HttpRequest) -> None:
        if request.method in ("GET", "HEAD"):
            stepup.reauth_require(session=current_web_session(request))


def anonymous_only(view_get):
    """GET of a sign-in or sign-up page by a signed-in browser: go home."""

    @functools.wraps(view_get)
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect(settings.LOGIN_REDIRECT_URL)
        return view_get(self, request, *args, **kwargs)

    return get


ADDRESS_ALIASES = {"email": "identifier", "phone": "identifier"}
CODE_ERRORS = (OtpInvalid, OtpAttemptsExceeded)


def add_field_errors(
    form, errors: dict[str, list[str]], aliases: dict[str, str] | None = None
) -> None:
    """Put field errors beside the form's fields (those of no field on top)."""
    for field, field_messages in errors.items():
        name = (aliases or {}).get(field, field)
        target = name if name in form.fields else None
        for message in field_messages:
            form.add_error(target, message)


def add_service_errors(form, exc: AuthsiteError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's field errors beside the form's fields (the rest on top)."""
    errors = exc.errors or {}
    add_field_errors(form, errors, aliases)
    if not errors:
        # A wrong or dead code is said beside the code field.
        target = "otp" if isinstance(exc, CODE_ERRORS) and "otp" in form.fields else None
        form.add_error(target, exc.message)


def code_refused(form, exc: AuthsiteError) -> dict[str, Any]:
    """A refused code, on a page with a code field and a "send a new code"
    button: a dead code (too many wrong tries) takes the field away and says
    when a new code can be asked for, in the seconds the button counts down
    (``code_dead``, with the page's ``resend_in``); any other refusal goes
    beside the field (a wrong code with the tries it has left). Returns what
    the page's context gains."""
    if isinstance(exc, OtpAttemptsExceeded):
        return {"code_dead": True}
    add_service_errors(form, exc)
    return {}


def safe_next(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def second_step(
    request: HttpRequest, exc: MfaRequired, *, next_url: str | None, admin: bool = False
) -> HttpResponse:
    """A first factor was right and the account has a second one: keep the
    pipeline's ``mfa_token`` for ``/accounts/login/mfa/`` and go there."""
    data = exc.data or {}
    mfa_flow_start(
        request,
        mfa_token=str(data.get("mfa_token") or ""),
        methods=list(data.get("methods") or []),
        expires_in=int(data.get("expires_in") or 0),
        next_url=next_url or "",
        admin=admin,
    )
    return redirect("accounts:login_mfa")


class CodePage(Page):
    """The code-entry step of a flow that spans pages (sign-up, code sign-in,
    forgot-password, contact change). The flow's state is in the session;
    without it the page sends the browser back to the flow's first step.
    ``verify`` calls the flow's service with the code; ``done`` answers once
    it has accepted the code. A refused code shows as a form error, a refusal
    with a wait as the 429 page."""

    template_name: str
    flow: str
    start: str  # URL name of the flow's first step
    no_flow_message: str | None = None

    def verify(self, request: HttpRequest, identifier: Identifier, code: str) -> Any:
        raise NotImplementedError

    def done(self, request: HttpRequest, state: dict[str, Any], result: Any, code: str):
        raise NotImplementedError

    def _render(self, request, form, state, **extra: Any) -> HttpResponse:
        context = {"form": form, **flow_context(self.flow, state), **extra}
        return render(request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        state = flow_get(request, self.flow)
        if state is None:
            if self.no_flow_message:
                messages.info(request, self.no_flow_message)
            return redirect(self.start)
        return self._render(request, forms.CodeForm(), state)

    def post(self, request: HttpRequest) -> HttpResponse:
        state = flow_get(request, self.flow)
        if state is None:
            return redirect(self.start)
        form = forms.CodeForm(request.POST)
        extra: dict[str, Any] = {}
        if form.is_valid():
            code = form.cleaned_data["otp"]
            try:
                result = self.verify(request, flow_identifier(state), code)
            except PAGE_ERRORS:
                raise
            except MfaRequired as exc:
                # The code was the first factor; the second step finishes the sign-in.
                flow_end(request, self.flow)
                return second_step(request, exc, next_url=safe_next(request, state.get("next")))
            except AuthsiteError as exc:
                extra = code_refused(form, exc)
            else:
                return self.done(request, state, result, code)
        return self._render(request, form, state, **extra)


class AnonymousCodePage(CodePage):
    """A code page before sign-in: under the sign-in limits per client IP."""

    @method_decorator(rate_limited("anon_ip", "login_ip"))
    def post(self, request: HttpRequest) -> HttpResponse:
        return super().post(request)
