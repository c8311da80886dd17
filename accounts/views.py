"""The HTML front door of the accounts app (SPEC §6).

Views validate input with a form, call the same service functions as the
JSON API, turn an ``AuthsiteError`` into form errors or a message, and handle
the Django session: sign-in and sign-out go through ``accounts.middleware``
(``web_login`` / ``web_logout``), and a flow that spans pages (sign-up →
verify, forgot → verify → reset, …) keeps its state — the identifier, where
the code went, when a new one may be sent — in the session.

Refusals that carry a wait (per-IP limits, the sign-in lockout, a spent code
budget) get the 429 page with ``Retry-After``; a resend within the cooldown
stays on the code page, whose button shows the seconds left.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import forms, selectors
from accounts.browser import current_web_session, current_web_session_id, web_login, web_logout
from accounts.flows import (
    FLOW_PAGES,
    FLOW_PURPOSES,
    FLOW_STARTS,
    SIGNED_IN_FLOWS,
    flow_context,
    flow_end,
    flow_get,
    flow_identifier,
    flow_start,
    flow_update,
    now,
)
from accounts.identifiers import EMAIL, Identifier
from accounts.pages import (
    ADDRESS_ALIASES,
    CODE_ERRORS,
    AnonymousCodePage,
    CodePage,
    Page,
    SignedInPage,
    add_service_errors,
    anonymous_only,
    safe_next,
    wait_message,
)
from accounts.services import account, contact, password, resend, signin, signup, tokens
from authsite.client import client_info
from authsite.errors import (
    AccountInactive,
    AccountNotVerified,
    AuthsiteError,
    InvalidCredentials,
    NotFound,
    OtpCooldown,
    OtpLocked,
    OtpSendLimit,
    RetryLater,
)
from authsite.ratelimits import rate_limited
from otp.destinations import mask_destination


class CodeResendView(Page):
    """The "send a new code" button of every code page (cooldown honoured)."""

    http_method_names = ["post"]

    @method_decorator(rate_limited("anon_ip", "code_request_ip"))
    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.ResendForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest()
        name = form.cleaned_data["flow"]
        signed_in = request.user.is_authenticated
        if name in SIGNED_IN_FLOWS and not signed_in:
            return redirect(settings.LOGIN_URL)
        state = flow_get(request, name)
        if state is None:
            return redirect(FLOW_STARTS[name])
        try:
            sent = resend.code_resend(
                purpose=FLOW_PURPOSES[name],
                identifier=flow_identifier(state),
                signup_token=state.get("signup_token"),
                client=client_info(request),
                user=request.user if signed_in else None,
            )
        except (OtpCooldown, OtpSendLimit, OtpLocked) as exc:
            flow_update(request, name, resend_at=now() + (exc.retry_after or 0))
            messages.error(request, wait_message(exc))
        else:
            flow_update(request, name, resend_at=now() + sent.resend_in, verified=False)
            messages.success(
                request,
                _("A new code is on its way to %(destination)s.")
                % {"destination": state["destination"]},
            )
        return redirect(FLOW_PAGES[name])


# --- sign-up -------------------------------------------------------------------------------


class SignupView(Page):
    template_name = "accounts/signup.html"

    @anonymous_only
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": forms.SignupForm()})

    @method_decorator(rate_limited("anon_ip", "code_request_ip"))
    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.SignupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                started = signup.signup_start(
                    email=data["email"],
                    phone=data["phone"],
                    password=data["password"],
                    username=data["username"],
                    profile=form.profile(),
                    client=client_info(request),
                )
            except RetryLater:
                raise
            except AuthsiteError as exc:
                add_service_errors(form, exc)
            else:
                sent = started.sent
                flow_start(
                    request,
                    "signup",
                    identifier=started.primary,
                    channel=sent.channel,
                    destination=sent.destination,
                    resend_in=sent.resend_in,
                    signup_token=started.signup_token,
                )
                messages.success(request, _("Enter the code we sent to finish signing up."))
                return redirect("accounts:verify")
        return render(request, self.template_name, {"form": form})


class SignupVerifyView(AnonymousCodePage):
    template_name = "accounts/verify.html"
    flow = "signup"
    start = "accounts:signup"

    @property
    def no_flow_message(self) -> str:
        return _("Sign up, or sign in, to get a verification code.")

    def verify(self, request: HttpRequest, identifier: Identifier, code: str) -> signin.SignedIn:
        state = flow_get(request, self.flow) or {}
        return signin.signin_signup(
            signup_token=state.get("signup_token"),
            code=code,
            client=client_info(request),
            kind=signin.WEB,
        )

    def done(self, request, state, result, code) -> HttpResponse:
        flow_end(request, "signup")
        web_login(request, result)
        messages.success(request, _("Account verified. You are signed in."))
        pending_email = result.user.pending_email
        if not pending_email:
            return redirect("profiles:detail")
        flow_start(
            request,
            "contact",
            identifier=Identifier(EMAIL, pending_email),
            channel="email",
            destination=mask_destination(pending_email),
            resend_in=0,
        )
        messages.info(
            request,
            _(
                "We also sent a code to %(destination)s. Enter it to add "
                "this email address to your account."
            )
            % {"destination": mask_destination(pending_email)},
        )
        return redirect("accounts:contact_verify")


# --- sign-in -------------------------------------------------------------------------------


class LoginView(Page):
    template_name = "accounts/login.html"

    def _render(self, request: HttpRequest, form) -> HttpResponse:
        next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
        return render(request, self.template_name, {"form": form, "next": next_url or ""})

    @anonymous_only
    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, forms.LoginForm())

    @method_decorator(rate_limited("anon_ip", "login_ip"))
    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.LoginForm(request.POST)
        if form.is_valid():
            identifier = form.cleaned_data["identifier"]
            try:
                signed_in = signin.signin_password(
                    identifier=identifier,
                    password=form.cleaned_data["password"],
                    client=client_info(request),
                    kind=signin.WEB,
                )
            except AccountNotVerified as exc:
                unverified = self._unverified(request, identifier, exc)
                if unverified is not None:
                    return unverified
                destination = ((exc.data or {}).get("verification") or {}).get("destination", "")
                form.add_error(
                    None,
                    _(
                        "This account is not verified yet. Sign in with a code sent to "
                        "%(destination)s to verify it."
                    )
                    % {"destination": destination},
                )
            except (InvalidCredentials, AccountInactive) as exc:
                form.add_error(None, exc.message)
            else:
                web_login(request, signed_in)
                next_url = safe_next(request, request.POST.get("next"))
                return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        return self._render(request, form)

    def _unverified(
        self, request: HttpRequest, identifier: Identifier, exc: AccountNotVerified
    ) -> HttpResponse | None:
        """Right password of a sign-up never verified: go to its verify page,
        whose button sends a new code (the pipeline sends none by itself; the
        API says the same with a 403 and the attempt's ``signup_token``)."""
        data = exc.data or {}
        token = data.get("signup_token")
        verification = data.get("verification")
        if not token or not verification:
            return None  # an unverified account, not a sign-up: the message says what to do
        flow_start(
            request,
            "signup",
            identifier=identifier,
            channel=verification["channel"],
            destination=verification["destination"],
            resend_in=0,
            signup_token=token,
        )
        messages.info(
            request,
            _(
                "You have not finished signing up. Enter the code we sent to "
                "%(destination)s, or ask for a new one."
            )
            % {"destination": verification["destination"]},
        )
        return redirect("accounts:verify")


class LoginCodeView(Page):
    template_name = "accounts/login_code.html"

    @anonymous_only
    def get(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next(request, request.GET.get("next")) or ""
        return render(request, self.template_name, {"form": forms.AddressForm(), "next": next_url})

    @method_decorator(rate_limited("anon_ip", "code_request_ip"))
    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.AddressForm(request.POST)
        next_url = safe_next(request, request.POST.get("next")) or ""
        if form.is_valid():
            identifier = form.cleaned_data["identifier"]
            try:
                sent = signin.login_code_request(identifier=identifier, client=client_info(request))
            except RetryLater:
                raise
            except AuthsiteError as exc:
                add_service_errors(form, exc, ADDRESS_ALIASES)
            else:
                flow_start(
                    request,
                    "login",
                    identifier=identifier,
                    channel=sent.channel,
                    destination=sent.destination,
                    resend_in=sent.resend_in,
                    next=next_url,
                )
                messages.success(request, _("If this address can sign in, a code is on its way."))
                return redirect("accounts:login_code_verify")
        return render(request, self.template_name, {"form": form, "next": next_url})


class LoginCodeVerifyView(AnonymousCodePage):
    template_name = "accounts/login_code_verify.html"
    flow = "login"
    start = "accounts:login_code"

    def verify(self, request: HttpRequest, identifier: Identifier, code: str):
        return signin.signin_code(
            identifier=identifier, code=code, client=client_info(request), kind=signin.WEB
        )

    def done(self, request, state, result, code) -> HttpResponse:
        flow_end(request, "login")
        web_login(request, result)
        if result.created:
            messages.success(
                request, _("Welcome! Your account has been created and you are signed in.")
            )
        else:
            messages.success(request, _("Signed in."))
        next_url = safe_next(request, state.get("next"))
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)


class LogoutView(Page):
    """POST signs out; GET only asks (a link or a prefetch must not sign anyone out)."""

    template_name = "accounts/logout.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("home")
        return render(request, self.template_name)

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            web_logout(request)
            messages.success(request, _("You have been signed out."))
        return redirect(settings.LOGOUT_REDIRECT_URL)


# --- forgot → verify → reset -----------------------------------------------------------------

RESET_CODE_COOKIE = "authsite_reset_code"
RESET_CODE_SALT = "accounts.password_reset.code"


class PasswordForgotView(Page):
    template_name = "accounts/password_forgot.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": forms.AddressForm()})

    @method_decorator(rate_limited("anon_ip", "code_request_ip"))
    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.AddressForm(request.POST)
        if form.is_valid():
            identifier = form.cleaned_data["identifier"]
            try:
                sent = password.password_forgot(identifier=identifier, client=client_info(request))
            except RetryLater:
                raise
            except AuthsiteError as exc:
                add_service_errors(form, exc, ADDRESS_ALIASES)
            else:
                flow_start(
                    request,
                    "reset",
                    identifier=identifier,
                    channel=sent.channel,
                    destination=sent.destination,
                    resend_in=sent.resend_in,
                    verified=False,
                )
                messages.success(
                    request, _("If an account uses this address, a reset code is on its way.")
                )
                return redirect("accounts:password_forgot_verify")
        return render(request, self.template_name, {"form": form})


class PasswordForgotVerifyView(AnonymousCodePage):
    template_name = "accounts/password_forgot_verify.html"
    flow = "reset"
    start = "accounts:password_forgot"

    def verify(self, request: HttpRequest, identifier: Identifier, code: str) -> None:
        password.password_forgot_verify(
            identifier=identifier, code=code, client=client_info(request)
        )

    def done(self, request, state, result, code) -> HttpResponse:
        flow_update(request, "reset", verified=True)
        response = redirect("accounts:password_reset")
        # The code the reset step spends rides in the browser, never
        # in server-side storage (SPEC §4: the plain code is not stored).
        response.set_signed_cookie(
            RESET_CODE_COOKIE,
            code,
            salt=RESET_CODE_SALT,
            max_age=settings.OTP_TTL,
            path=reverse("accounts:password_reset"),
            secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
            httponly=True,
            samesite="Strict",
        )
        return response


class PasswordResetView(Page):
    template_name = "accounts/password_reset.html"

    def _state(self, request: HttpRequest) -> dict[str, Any] | None:
        state = flow_get(request, "reset")
        if not state or not state.get("verified"):
            return None
        code = request.get_signed_cookie(
            RESET_CODE_COOKIE, default=None, salt=RESET_CODE_SALT, max_age=settings.OTP_TTL
        )
        return {**state, "verified_code": code} if code else None

    @staticmethod
    def _forget_code(response: HttpResponse) -> HttpResponse:
        response.delete_cookie(RESET_CODE_COOKIE, path=reverse("accounts:password_reset"))
        return response

    def get(self, request: HttpRequest) -> HttpResponse:
        if self._state(request) is None:
            return redirect("accounts:password_forgot_verify")
        return render(request, self.template_name, {"form": forms.NewPasswordForm()})

    @method_decorator(rate_limited("anon_ip", "login_ip"))
    def post(self, request: HttpRequest) -> HttpResponse:
        state = self._state(request)
        if state is None:
            return redirect("accounts:password_forgot_verify")
        form = forms.NewPasswordForm(request.POST)
        if form.is_valid():
            try:
                password.password_reset(
                    identifier=flow_identifier(state),
                    code=state["verified_code"],
                    new_password=form.cleaned_data["new_password"],
                    client=client_info(request),
                )
            except RetryLater:
                raise
            except CODE_ERRORS as exc:
                flow_update(request, "reset", verified=False)
                messages.error(request, exc.message)
                return self._forget_code(redirect("accounts:password_forgot_verify"))
            except AuthsiteError as exc:
                add_service_errors(form, exc)
            else:
                flow_end(request, "reset")
                if request.user.is_authenticated:
                    web_logout(request)  # every session was revoked; end this one now
                messages.success(request, _("Your password has been reset. Sign in with it."))
                return self._forget_code(redirect("accounts:login"))
        return render(request, self.template_name, {"form": form})


# --- signed-in pages -----------------------------------------------------------------------


class PasswordChangeView(SignedInPage):
    template_name = "accounts/password_change.html"

    def _render(self, request, form) -> HttpResponse:
        has_password = request.user.has_usable_password()
        return render(request, self.template_name, {"form": form, "has_password": has_password})

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, forms.PasswordChangeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.PasswordChangeForm(request.POST)
        if form.is_valid():
            try:
                password.password_change(
                    user=request.user,
                    current_password=form.cleaned_data["current_password"],
                    new_password=form.cleaned_data["new_password"],
                    client=client_info(request),
                    keep_session_id=current_web_session_id(request),
                )
            except RetryLater:
                raise
            except AuthsiteError as exc:
                add_service_errors(form, exc)
            else:
                # A new session key, bound to the new password hash; this browser
                # stays signed in, every other session was revoked.
                update_session_auth_hash(request, request.user)
                messages.success(
                    request,
                    _("Your password has been changed. Your other devices have been signed out."),
                )
                return redirect("profiles:detail")
        return self._render(request, form)


class ContactView(SignedInPage):
    template_name = "accounts/contact.html"

    def _render(self, request, form) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {"form": form, "pending": flow_get(request, "contact")},
        )

    def _form(self, request: HttpRequest, data=None) -> forms.ContactForm:
        return forms.ContactForm(data, has_password=request.user.has_usable_password())

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, self._form(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request, request.POST)
        if form.is_valid():
            identifier = form.cleaned_data["identifier"]
            try:
                sent = contact.contact_change_start(
                    user=request.user,
                    identifier=identifier,
                    password=form.cleaned_data.get("password"),
                    client=client_info(request),
                    session=current_web_session(request),
                )
            except RetryLater:
                raise
            except AuthsiteError as exc:
                add_service_errors(form, exc, ADDRESS_ALIASES)
            else:
                flow_start(
                    request,
                    "contact",
                    identifier=identifier,
                    channel=sent.channel,
                    destination=sent.destination,
                    resend_in=sent.resend_in,
                )
                messages.success(request, _("Enter the code we sent to the new address."))
                return redirect("accounts:contact_verify")
        return self._render(request, form)


class ContactVerifyView(LoginRequiredMixin, CodePage):
    template_name = "accounts/contact_verify.html"
    flow = "contact"
    start = "accounts:contact"

    def verify(self, request: HttpRequest, identifier: Identifier, code: str) -> None:
        contact.contact_change_verify(
            user=request.user, identifier=identifier, code=code, client=client_info(request)
        )

    def done(self, request, state, result, code) -> HttpResponse:
        flow_end(request, "contact")
        messages.success(request, _("Your address has been updated."))
        return redirect("profiles:detail")


class SessionsView(SignedInPage):
    template_name = "accounts/sessions.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        current = current_web_session_id(request)
        sessions = [
            (session, str(session.pk) == str(current))
            for session in tokens.sessions_live(user=request.user)
        ]
        return render(request, self.template_name, {"sessions": sessions})


class SessionRevokeView(SignedInPage):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, session_id) -> HttpResponse:
        if str(session_id) == str(current_web_session_id(request)):
            web_logout(request)
            messages.success(request, _("You have been signed out."))
            return redirect("accounts:login")
        if tokens.session_revoke(
            user=request.user, session_id=session_id, client=client_info(request)
        ):
            messages.success(request, _("That device has been signed out."))
        else:
            messages.info(request, _("That device was already signed out."))
        return redirect("accounts:sessions")


class SessionsRevokeOthersView(SignedInPage):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        count = tokens.sessions_revoke_all(
            user=request.user,
            client=client_info(request),
            except_session_id=current_web_session_id(request),
        )
        messages.success(
            request,
            ngettext(
                "%(count)d other device has been signed out.",
                "%(count)d other devices have been signed out.",
                count,
            )
            % {"count": count},
        )
        return redirect("accounts:sessions")


class ActivityView(SignedInPage):
    template_name = "accounts/activity.html"
    paginate_by = 20

    def get(self, request: HttpRequest) -> HttpResponse:
        events = selectors.events_for_user(user=request.user)
        page = Paginator(events, self.paginate_by).get_page(request.GET.get("page"))
        return render(request, self.template_name, {"page": page, "events": page.object_list})


class EventNotMeView(SignedInPage):
    """ "This wasn't me": every session ends (this browser's too) and a
    password-reset code goes out; the browser lands on the reset flow."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, event_id: int) -> HttpResponse:
        try:
            reset = account.event_not_me(
                user=request.user, event_id=event_id, client=client_info(request)
            )
        except NotFound:
            raise Http404 from None
        web_logout(request)
        flow_start(
            request,
            "reset",
            identifier=reset.identifier,
            channel=reset.channel,
            destination=reset.destination,
            resend_in=reset.resend_in,
            verified=False,
        )
        messages.warning(
            request,
            _(
                "Every session of your account has been signed out. We sent a "
                "password-reset code to %(destination)s: enter it to choose a new password."
            )
            % {"destination": reset.destination},
        )
        return redirect("accounts:password_forgot_verify")


class AccountDeleteView(SignedInPage):
    """Delete the account: confirmed with the password, or for an account
    without one, with a sign-in code sent to its address."""

    template_name = "accounts/delete.html"

    def _render(self, request, form=None) -> HttpResponse:
        user = request.user
        context: dict[str, Any] = {"has_password": user.has_usable_password()}
        if context["has_password"]:
            context["form"] = form or forms.DeletePasswordForm()
        else:
            state = flow_get(request, "delete")
            if state is not None:
                context.update(flow_context("delete", state))
                context["form"] = form or forms.CodeForm()
        return render(request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        has_password = user.has_usable_password()
        if not has_password and request.POST.get("action") == "send":
            address = user.primary_identifier
            try:
                sent = signin.login_code_request(identifier=address, client=client_info(request))
            except (OtpCooldown, OtpSendLimit, OtpLocked) as exc:
                messages.error(request, wait_message(exc))
                return redirect("accounts:delete")
            flow_start(
                request,
                "delete",
                identifier=address,
                channel=sent.channel,
                destination=sent.destination,
                resend_in=sent.resend_in,
            )
            messages.success(
                request,
                _("We sent a code to %(destination)s.") % {"destination": sent.destination},
            )
            return redirect("accounts:delete")
        if has_password:
            form = forms.DeletePasswordForm(request.POST)
        else:
            if flow_get(request, "delete") is None:
                return redirect("accounts:delete")
            form = forms.CodeForm(request.POST)
        if form.is_valid():
            try:
                account.account_delete(
                    user=user,
                    password=form.cleaned_data.get("password"),
                    code=form.cleaned_data.get("otp"),
                    client=client_info(request),
                    session=current_web_session(request),
                )
            except RetryLater:
                raise
            except AuthsiteError as exc:
                add_service_errors(form, exc)
            else:
                # The user, their profile and every session row are gone: only the
                # Django session is left to flush.
                auth_logout(request)
                messages.success(request, _("Your account has been deleted."))
                return redirect("home")
        return self._render(request, form)


class NewDeviceNotMeView(Page):
    """The "this wasn't me" link of a new-device notice (SPEC §18.4): a page
    that asks (a link alone must change nothing), then ends every session and
    starts a password reset, as the activity page's "this wasn't me" does."""

    template_name = "accounts/new_device_not_me.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        valid = account.new_device_link_valid(token=token)
        return render(request, self.template_name, {"valid": valid}, status=200 if valid else 400)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        reset = account.new_device_not_me(token=token, client=client_info(request))
        if reset is None:
            return render(request, self.template_name, {"valid": False}, status=400)
        if request.user.is_authenticated:
            web_logout(request)
        flow_start(
            request,
            "reset",
            identifier=reset.identifier,
            channel=reset.channel,
            destination=reset.destination,
            resend_in=reset.resend_in,
            verified=False,
        )
        messages.warning(
            request,
            _(
                "Every session of your account has been signed out. We sent a "
                "password-reset code to %(destination)s: enter it to choose a new password."
            )
            % {"destination": reset.destination},
        )
        return redirect("accounts:password_forgot_verify")
