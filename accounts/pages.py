"""The page framework of the HTML front door: pages that show the 429 page
for a refusal with a wait, service errors put beside form fields, and the
code-entry step every multi-page flow shares (``CodePage``)."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views import View

from accounts import forms
from accounts.flows import flow_context, flow_get, flow_identifier
from accounts.identifiers import Identifier
from authsite.errors import AuthsiteError, OtpAttemptsExceeded, OtpInvalid, RetryLater
from authsite.ratelimits import rate_limited


def wait_message(exc: RetryLater) -> str:
    """The refusal with the wait in seconds, for a message on the page."""
    seconds = max(1, int(exc.retry_after or 0))
    wait = ngettext(
        "Try again in %(seconds)d second.", "Try again in %(seconds)d seconds.", seconds
    ) % {"seconds": seconds}
    return f"{exc.message} {wait}"


def retry_later_page(request: HttpRequest, exc: RetryLater) -> HttpResponse:
    """The HTML twin of the API's 429: the reason, the wait, ``Retry-After``."""
    wait = max(1, int(exc.retry_after or 60))
    response = render(
        request,
        "429.html",
        {"message": exc.message, "wait": wait, "back": request.path},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


class Page(View):
    """A page whose services may refuse with a wait: show the 429 page."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().dispatch(request, *args, **kwargs)
        except RetryLater as exc:
            return retry_later_page(request, exc)


class SignedInPage(LoginRequiredMixin, Page):
    pass


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


def add_service_errors(form, exc: AuthsiteError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's field errors beside the form's fields (the rest on top)."""
    errors = exc.errors or {}
    for field, field_messages in errors.items():
        name = (aliases or {}).get(field, field)
        target = name if name in form.fields else None
        for message in field_messages:
            form.add_error(target, message)
    if not errors:
        # A wrong or dead code is said beside the code field.
        target = "otp" if isinstance(exc, CODE_ERRORS) and "otp" in form.fields else None
        form.add_error(target, exc.message)


def safe_next(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


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

    def _render(self, request, form, state) -> HttpResponse:
        return render(request, self.template_name, {"form": form, **flow_context(self.flow, state)})

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
        if form.is_valid():
            code = form.cleaned_data["otp"]
            try:
                result = self.verify(request, flow_identifier(state), code)
            except RetryLater:
                raise
            except AuthsiteError as exc:
                add_service_errors(form, exc)
            else:
                return self.done(request, state, result, code)
        return self._render(request, form, state)


class AnonymousCodePage(CodePage):
    """A code page before sign-in: under the sign-in limits per client IP."""

    @method_decorator(rate_limited("anon_ip", "login_ip"))
    def post(self, request: HttpRequest) -> HttpResponse:
        return super().post(request)
