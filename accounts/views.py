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

import math
import secrets
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from accounts import forms, selectors
from accounts.browser import (
    current_web_session,
    current_web_session_id,
    passkey_offer_unmark,
    trust_cookie_set,
    trust_token_read,
    web_login,
    web_logout,
)
from accounts.flows import (
    FLOW_PAGES,
    FLOW_PURPOSES,
    FLOW_STARTS,
    MFA_FLOW,
    MFA_SETUP_FLOW,
    RECOVERY_CODES,
    SIGNED_IN_FLOWS,
    TOTP_SETUP,
    flow_context,
    flow_end,
    flow_get,
    flow_identifier,
    flow_open,
    flow_start,
    flow_update,
    login_prefill_keep,
    login_prefill_take,
    mfa_flow_get,
    now,
    secret_drop,
    secret_keep,
    secret_peek,
    secret_take,
)
from accounts.identifiers import EMAIL, Identifier
from accounts.models import SecurityEvent
from accounts.pages import (
    ADDRESS_ALIASES,
    CODE_ERRORS,
    PAGE_ERRORS,
    AnonymousCodePage,
    CodePage,
    Page,
    SignedInPage,
    StepUpPage,
    add_field_errors,
    add_service_errors,
    anonymous_only,
    code_refused,
    reauthenticate_url,
    safe_next,
    second_step,
    wait_message,
)
from accounts.services import (
    account,
    contact,
    mfa,
    passkeys,
    password,
    reauth,
    resend,
    signin,
    signup,
    stepup,
    tokens,
)
from authsite import clock
from authsite.client import client_info
from authsite.errors import (
    AccountInactive,
    AccountNotVerified,
    AuthsiteError,
    InvalidCredentials,
    MfaRequired,
    NotFound,
    OtpCooldown,
    OtpLocked,
    OtpSendLimit,
    ReauthenticationRequired,
    RetryLater,
    TokenInvalid,
)
from authsite.ratelimits import rate_limited, ratelimit_hit
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
            shown = state["value"] if state.get("typed") else state["destination"]
            messages.success(
                request, _("A new code is on its way to %(destination)s.") % {"destination": shown}
            )
        return redirect(FLOW_PAGES[name])


# --- sign-up -------------------------------------------------------------------------------


# What the sign-up page gets back when "wrong address? change it" leads to it
# (never a password).
SIGNUP_KEPT_FIELDS = ("email", "phone", "first_name", "last_name", "username")


class SignupView(Page):
    template_name = "accounts/signup.html"

    @anonymous_only
    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {}
        state = flow_get(request, "signup") if request.GET.get("change") else None
        if state is not None:
            initial = dict(state.get("typed_fields") or {})
        return render(request, self.template_name, {"form": forms.SignupForm(initial=initial)})

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
            except PAGE_ERRORS:
                raise
            except AuthsiteError as exc:
                if exc.errors:
                    add_field_errors(form, form.address_errors(exc.errors))
                else:
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
                    typed=True,
                    typed_fields={key: data[key] for key in SIGNUP_KEPT_FIELDS if data.get(key)},
                    # The second address's code left with the first one: the
                    # same cooldown holds it (SignupVerifyView.done).
                    pending_resend_at=now() + sent.resend_in if started.pending else None,
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
        messages.success(request, _("Account verified. Signed in."))
        pending_email = result.user.pending_email
        if not pending_email:
            return redirect("profiles:detail")
        # Its code went out with the sign-up's: the resend button waits out
        # what is left of that code's cooldown.
        pending_resend_at = state.get("pending_resend_at") or 0
        flow_start(
            request,
            "contact",
            identifier=Identifier(EMAIL, pending_email),
            channel="email",
            destination=mask_destination(pending_email),
            resend_in=math.ceil(float(pending_resend_at) - now()),
            typed=True,
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


def login_page(request: HttpRequest, form, passkey_error: str = "") -> HttpResponse:
    """The sign-in page: the password form, and the passkey button and
    autofill when passkeys are on."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    context = {
        "form": form,
        "next": next_url or "",
        "passkeys": settings.WEBAUTHN_ENABLED,
        "passkey_form": forms.PasskeyForm(),
        "passkey_error": passkey_error,
    }
    return render(request, "accounts/login.html", context)


class LoginView(Page):
    template_name = "accounts/login.html"

    def _render(self, request: HttpRequest, form) -> HttpResponse:
        return login_page(request, form)

    @anonymous_only
    def get(self, request: HttpRequest) -> HttpResponse:
        form = forms.LoginForm()
        prefill = login_prefill_take(request)
        if prefill:
            # Back from a password reset: the address is known, the new password is next.
            form = forms.LoginForm(initial={"identifier": prefill})
            forms.focus(form, "password")
        return self._render(request, form)

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
                    trust_token=trust_token_read(request),
                )
            except MfaRequired as exc:
                return second_step(
                    request, exc, next_url=safe_next(request, request.POST.get("next"))
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
            except InvalidCredentials as exc:
                form.wrong_password(exc.message)
            except AccountInactive as exc:
                form.add_error(None, exc.message)
            else:
                web_login(request, signed_in)
                messages.success(request, _("Signed in."))
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

    def _render(self, request: HttpRequest, form, next_url: str) -> HttpResponse:
        context = {
            "form": form,
            "next": next_url,
            "creates_account": settings.OTP_LOGIN_CREATES_ACCOUNT,
        }
        return render(request, self.template_name, context)

    @anonymous_only
    def get(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next(request, request.GET.get("next")) or ""
        return self._render(request, forms.AddressForm(), next_url)

    @method_decorator(rate_limited("anon_ip", "code_request_ip"))
    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.AddressForm(request.POST)
        next_url = safe_next(request, request.POST.get("next")) or ""
        if form.is_valid():
            identifier = form.cleaned_data["identifier"]
            try:
                sent = signin.login_code_request(identifier=identifier, client=client_info(request))
            except PAGE_ERRORS:
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
        return self._render(request, form, next_url)


class LoginCodeVerifyView(AnonymousCodePage):
    template_name = "accounts/login_code_verify.html"
    flow = "login"
    start = "accounts:login_code"

    def _render(self, request, form, state, **extra: Any) -> HttpResponse:
        extra.setdefault("creates_account", settings.OTP_LOGIN_CREATES_ACCOUNT)
        return super()._render(request, form, state, **extra)

    def verify(self, request: HttpRequest, identifier: Identifier, code: str):
        return signin.signin_code(
            identifier=identifier,
            code=code,
            client=client_info(request),
            kind=signin.WEB,
            trust_token=trust_token_read(request),
        )

    def done(self, request, state, result, code) -> HttpResponse:
        flow_end(request, "login")
        web_login(request, result)
        if result.created:
            messages.success(request, _("Welcome! Your account has been created. Signed in."))
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
            except PAGE_ERRORS:
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

    def _render(self, request: HttpRequest, state: dict[str, Any], form) -> HttpResponse:
        # The address the reset is for, in a hidden "username" field: a
        # password manager then updates the right login.
        context = {"form": form, "username": state["value"]}
        return render(request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        state = self._state(request)
        if state is None:
            return redirect("accounts:password_forgot_verify")
        return self._render(request, state, forms.NewPasswordForm())

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
            except PAGE_ERRORS:
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
                login_prefill_keep(request, flow_identifier(state))
                messages.success(request, _("Your password has been reset. Sign in with it."))
                return self._forget_code(redirect("accounts:login"))
        return self._render(request, state, form)


# --- signed-in pages -----------------------------------------------------------------------


class PasswordChangeView(SignedInPage):
    template_name = "accounts/password_change.html"

    def _render(self, request, form) -> HttpResponse:
        user = request.user
        context = {
            "form": form,
            "has_password": user.has_usable_password(),
            # For password managers: which of their logins this password is.
            "username": user.email or user.phone or user.username or "",
        }
        return render(request, self.template_name, context)

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
            except PAGE_ERRORS:
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
            except PAGE_ERRORS:
                raise
            except AuthsiteError as exc:
                add_service_errors(form, exc, ADDRESS_ALIASES)
            else:
                _session_follows_password(request)
                flow_start(
                    request,
                    "contact",
                    identifier=identifier,
                    channel=sent.channel,
                    destination=sent.destination,
                    resend_in=sent.resend_in,
                    typed=True,
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
            (session, str(session.pk) == str(current), just_now(session.last_used_at))
            for session in tokens.sessions_live(user=request.user)
        ]
        return render(request, self.template_name, {"sessions": sessions})


def just_now(moment) -> bool:
    """Within the last minute: "active now", not "active 0 minutes ago"."""
    return moment is not None and (clock.now() - moment).total_seconds() < 60


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


# The events "this wasn't me" is offered on: what a stranger with the
# password or the codes would leave (sign-ins, failed ones too, changes to the
# password, the addresses and the factors), where ending every session and
# choosing a new password helps. Not on what only follows from them (a code
# sent, a sign-out, a session revoked) or on the report itself.
NOT_ME_KINDS = frozenset(
    {
        SecurityEvent.LOGIN_SUCCESS,
        SecurityEvent.LOGIN_FAILURE,
        SecurityEvent.NEW_DEVICE_LOGIN,
        SecurityEvent.PASSKEY_LOGIN,
        SecurityEvent.MFA_FAILED,
        SecurityEvent.RECOVERY_CODE_USED,
        SecurityEvent.REAUTHENTICATED,
        SecurityEvent.PASSWORD_LOCKED,
        SecurityEvent.PASSWORD_CHANGED,
        SecurityEvent.PASSWORD_RESET,
        SecurityEvent.CONTACT_CHANGED,
        SecurityEvent.MFA_ENABLED,
        SecurityEvent.MFA_DISABLED,
        SecurityEvent.RECOVERY_CODES_REGENERATED,
        SecurityEvent.PASSKEY_ADDED,
        SecurityEvent.PASSKEY_REMOVED,
    }
)


class ActivityView(SignedInPage):
    """The account's security events, "this wasn't me" beside those it helps
    with; ``?not_me=<id>`` asks to confirm it for one event (the POST to
    ``event_not_me`` acts)."""

    template_name = "accounts/activity.html"
    confirm_template_name = "accounts/event_not_me.html"
    paginate_by = 20

    def get(self, request: HttpRequest) -> HttpResponse:
        events = selectors.events_for_user(user=request.user)
        if "not_me" in request.GET:
            return self._confirm(request, events, request.GET["not_me"])
        page = Paginator(events, self.paginate_by).get_page(request.GET.get("page"))
        rows = [(event, event.kind in NOT_ME_KINDS) for event in page.object_list]
        return render(request, self.template_name, {"page": page, "rows": rows})

    def _confirm(self, request: HttpRequest, events, event_id: str) -> HttpResponse:
        event = events.filter(pk=event_id).first() if event_id.isdigit() else None
        if event is None or event.kind not in NOT_ME_KINDS:
            raise Http404
        context = {
            "event": event,
            "destination": mask_destination(request.user.primary_identifier.value),
        }
        return render(request, self.confirm_template_name, context)


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
        return _signed_out_to_reset(request, reset)


class AccountDeleteView(SignedInPage):
    """Delete the account: confirmed with the password, or for an account
    without one, with a sign-in code sent to its address."""

    template_name = "accounts/delete.html"

    def _render(self, request, form=None, **extra: Any) -> HttpResponse:
        user = request.user
        context: dict[str, Any] = {"has_password": user.has_usable_password()}
        if context["has_password"]:
            context["form"] = form or forms.DeletePasswordForm()
        else:
            state = flow_get(request, "delete")
            if state is not None:
                context.update(flow_context("delete", state))
                context["form"] = form or forms.CodeForm()
        return render(request, self.template_name, {**context, **extra})

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
        extra: dict[str, Any] = {}
        if form.is_valid():
            try:
                account.account_delete(
                    user=user,
                    password=form.cleaned_data.get("password"),
                    code=form.cleaned_data.get("otp"),
                    client=client_info(request),
                    session=current_web_session(request),
                )
            except PAGE_ERRORS:
                raise
            except AuthsiteError as exc:
                extra = code_refused(form, exc)
            else:
                # The user, their profile and every session row are gone: only the
                # Django session is left to flush.
                auth_logout(request)
                messages.success(request, _("Your account has been deleted."))
                return redirect("home")
        return self._render(request, form, **extra)


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
        return _signed_out_to_reset(request, reset)


def _session_follows_password(request: HttpRequest) -> None:
    """After this browser confirmed the current password: a right password
    whose hash had old costs was just remade (``lockout.password_upgrade``),
    and Django's session check is a digest of the stored hash, so without
    this the browser that confirmed it would be signed out at its next page.
    Also gives the session a new key."""
    update_session_auth_hash(request, request.user)


def _signed_out_to_reset(request: HttpRequest, reset: account.ResetStarted) -> HttpResponse:
    """After "this wasn't me" (an event, a new-device notice): the service has
    signed every session out and sent a reset code; this browser is signed
    out too and lands on the reset flow's code step."""
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
        own_address=True,
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


def _first_error(exc: AuthsiteError) -> str:
    """A service error's first field message, for a page with no such field."""
    for field_messages in (exc.errors or {}).values():
        if field_messages:
            return str(field_messages[0])
    return exc.message


# --- the second step of sign-in (SPEC §16.1, §16.3) ------------------------------------------

# The second factors the pages take, in the order a page offers them first.
# A passkey first: it is phishing-resistant, and one touch.
PAGE_METHODS = (forms.WEBAUTHN, forms.TOTP, forms.CODE, forms.RECOVERY_CODE)
METHOD_LINKS = {
    forms.WEBAUTHN: _("Use a passkey"),
    forms.TOTP: _("Use your authenticator app"),
    forms.RECOVERY_CODE: _("Use a recovery code"),
    forms.CODE: _("Get a code by SMS or email"),
}


def _method_choice(offered: list[str], wanted: str | None) -> str | None:
    """The method a page shows: the one asked for when it is offered, else the
    first offered in ``PAGE_METHODS``' order."""
    usable = [m for m in PAGE_METHODS if m in offered]
    if wanted in usable:
        return wanted
    return usable[0] if usable else None


def _method_links(base: str, offered: list[str], current: str | None, **query: str) -> list:
    return [
        (str(METHOD_LINKS[m]), f"{base}?{urlencode({**query, 'method': m})}")
        for m in PAGE_METHODS
        if m in offered and m != current
    ]


@method_decorator(never_cache, name="dispatch")
class LoginMfaView(Page):
    """The second step of a sign-in (any door: the sign-in page, a code
    sign-in, the admin's page): the pipeline's ``mfa_token`` waits in the
    session; a second factor finishes the sign-in, and may leave a
    trusted-browser cookie."""

    template_name = "accounts/login_mfa.html"

    def _start_url(self, request: HttpRequest, state: dict | None) -> str:
        """The sign-in page the flow came from, with its ``next``."""
        state = state or {}
        url = reverse("admin:login") if state.get("admin") else reverse("accounts:login")
        next_url = safe_next(request, state.get("next"))
        return f"{url}?{urlencode({'next': next_url})}" if next_url else url

    def _restart(self, request: HttpRequest, state: dict | None, message: str) -> HttpResponse:
        flow_end(request, MFA_FLOW)
        messages.error(request, message)
        return redirect(self._start_url(request, state))

    def _dead(self, request: HttpRequest, state: dict | None) -> HttpResponse:
        return self._restart(
            request,
            state,
            _(
                "This sign-in has expired or had too many wrong codes. "
                "Sign in again to get a new chance."
            ),
        )

    def _form(self, method: str, data=None) -> forms.SecondFactorForm | forms.PasskeyForm:
        if method == forms.WEBAUTHN:
            return forms.PasskeyForm(data)
        return forms.SecondFactorForm(data, method=method, trust_days=settings.MFA_TRUST_DAYS)

    def _render(self, request, state, method, form) -> HttpResponse:
        offered = state.get("methods") or []
        context = {
            "form": form,
            "method": method,
            "others": _method_links(reverse("accounts:login_mfa"), offered, method),
            "code_sent": bool(state.get("destination")),
            "destination": state.get("destination", ""),
            "resend_in": max(0, math.ceil(float(state.get("resend_at", 0)) - now())),
            "start_url": self._start_url(request, state),
        }
        return render(request, self.template_name, context)

    def _live(self, request: HttpRequest) -> tuple[dict | None, HttpResponse | None]:
        state = mfa_flow_get(request)
        if state is not None:
            return state, None
        started = flow_get(request, MFA_FLOW)
        if started is None:
            messages.info(request, _("Sign in first."))
            return None, redirect("accounts:login")
        return None, self._dead(request, started)

    def get(self, request: HttpRequest) -> HttpResponse:
        state, away = self._live(request)
        if away is not None:
            return away
        method = _method_choice(state.get("methods") or [], request.GET.get("method"))
        if method is None:
            return self._restart(
                request, state, _("This account's second factor cannot be used on this page.")
            )
        return self._render(request, state, method, self._form(method))

    def post(self, request: HttpRequest) -> HttpResponse:
        sending = request.POST.get("action") == "send"
        for action in ("anon_ip", "code_request_ip" if sending else "login_ip"):
            ratelimit_hit(request=request, action=action)
        state, away = self._live(request)
        if away is not None:
            return away
        if sending:
            return self._send(request, state)
        method = _method_choice(state.get("methods") or [], request.POST.get("method"))
        if method is None:
            return self._dead(request, state)
        form = self._form(method, request.POST)
        if form.is_valid():
            try:
                signed_in = signin.signin_mfa(
                    mfa_token=state["mfa_token"],
                    method=method,
                    code=form.cleaned_data.get("otp"),
                    credential=form.cleaned_data.get("credential"),
                    client=client_info(request),
                    kind=signin.WEB,
                )
            except PAGE_ERRORS:
                raise
            except TokenInvalid:
                return self._dead(request, state)
            except AuthsiteError as exc:
                if (exc.data or {}).get("attempts_left") == 0:
                    return self._dead(request, state)  # that was the last try
                add_service_errors(form, exc)
            else:
                flow_end(request, MFA_FLOW)
                web_login(request, signed_in)
                messages.success(request, _("Signed in."))
                next_url = safe_next(request, state.get("next"))
                response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
                if form.cleaned_data.get("remember"):
                    trust_cookie_set(request, response, signed_in.user)
                return response
        return self._render(request, state, method, form)

    def _send(self, request: HttpRequest, state: dict) -> HttpResponse:
        try:
            sent = signin.signin_mfa_code_send(
                mfa_token=state["mfa_token"], client=client_info(request)
            )
        except TokenInvalid:
            return self._dead(request, state)
        except (OtpCooldown, OtpSendLimit, OtpLocked) as exc:
            flow_update(request, MFA_FLOW, resend_at=now() + (exc.retry_after or 0))
            messages.error(request, wait_message(exc))
        except PAGE_ERRORS:
            raise
        except AuthsiteError as exc:
            messages.error(request, _first_error(exc))
        else:
            flow_update(
                request,
                MFA_FLOW,
                channel=sent.channel,
                destination=sent.destination,
                resend_at=now() + sent.resend_in,
            )
            messages.success(
                request,
                _("A code is on its way to %(destination)s.") % {"destination": sent.destination},
            )
        return redirect(f"{reverse('accounts:login_mfa')}?{urlencode({'method': forms.CODE})}")


# --- second factors (SPEC §16.2, §16.3) --------------------------------------------------------


def _codes_made(request: HttpRequest, codes: list[str] | None, default: str) -> HttpResponse:
    """After a change that may have made recovery codes: show them once."""
    if codes:
        secret_keep(request, RECOVERY_CODES, codes)
        return redirect("accounts:mfa_recovery_codes")
    return redirect(default)


class MfaView(SignedInPage):
    """The second factors of the account: what is on, recovery codes left,
    codes by SMS or email as a factor."""

    template_name = "accounts/mfa.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        next_url = safe_next(request, request.GET.get("next"))
        if next_url:
            # Sent here to add a factor first (SPEC §16.5): once one is on and
            # its recovery codes are saved, go on to the page that was wanted.
            flow_open(request, MFA_SETUP_FLOW, next=next_url)
        overview = mfa.mfa_overview(user=user)
        by_kind = {factor.kind: factor for factor in overview.factors}
        destination = mfa.code_factor_destination(user, first_factor_identifier=None)
        context = {
            "overview": overview,
            "factors": [f for f in overview.factors if f.kind != mfa.RECOVERY_CODES],
            "totp": by_kind.get(mfa.TOTP),
            "code_factor": by_kind.get(mfa.CODE),
            "allow_code_factor": settings.MFA_ALLOW_CODE_FACTOR,
            "code_destination": mask_destination(destination.value) if destination else "",
        }
        return render(request, self.template_name, context)


class MfaCodeFactorView(SignedInPage):
    """Turn codes by SMS or email as a second factor on or off (POST)."""

    http_method_names = ["post"]
    reauth_return = "accounts:mfa"

    def post(self, request: HttpRequest) -> HttpResponse:
        session, client = current_web_session(request), client_info(request)
        try:
            if request.POST.get("action") == "disable":
                mfa.factor_remove(user=request.user, session=session, kind=mfa.CODE, client=client)
                messages.success(request, _("Codes are no longer a second factor."))
                return redirect("accounts:mfa")
            already = any(f.kind == mfa.CODE for f in mfa.mfa_overview(user=request.user).factors)
            codes = mfa.code_factor_enable(user=request.user, session=session, client=client)
        except PAGE_ERRORS:
            raise
        except AuthsiteError as exc:
            messages.error(request, _first_error(exc))
            return redirect("accounts:mfa")
        if already:  # a second tab, or a second press: nothing changed
            messages.info(request, _("Codes are already a second factor."))
            return redirect("accounts:mfa")
        messages.success(request, _("Codes are now a second factor."))
        return _codes_made(request, codes, "accounts:mfa")


@method_decorator(never_cache, name="dispatch")
class MfaTotpView(StepUpPage):
    """Set up an authenticator app (QR code, the secret, a code to confirm),
    or remove it. The secret of a setup not yet confirmed is kept encrypted in
    the session, so the page can show it again until a code confirms it."""

    template_name = "accounts/mfa_totp.html"

    def _render(self, request: HttpRequest, form=None) -> HttpResponse:
        overview = mfa.mfa_overview(user=request.user)
        totp = next((f for f in overview.factors if f.kind == mfa.TOTP), None)
        pending = None if totp else secret_peek(request, TOTP_SETUP)
        secret = (pending or {}).get("secret", "")
        context = {
            "totp": totp,
            "totp_used_just_now": just_now(totp.last_used_at) if totp else False,
            "pending": pending,
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "form": form or forms.CodeForm(),
        }
        return render(request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action")
        if action == "setup":
            return self._setup(request)
        if action == "remove":
            return self._remove(request)
        return self._confirm(request)

    def _setup(self, request: HttpRequest) -> HttpResponse:
        try:
            setup = mfa.totp_setup(user=request.user, session=current_web_session(request))
        except PAGE_ERRORS:
            raise
        except AuthsiteError as exc:
            messages.error(request, _first_error(exc))
            return redirect("accounts:mfa")
        secret_keep(
            request,
            TOTP_SETUP,
            {"secret": setup.secret, "otpauth_uri": setup.otpauth_uri, "qr_svg": setup.qr_svg},
        )
        return redirect("accounts:mfa_totp")

    def _confirm(self, request: HttpRequest) -> HttpResponse:
        form = forms.CodeForm(request.POST)
        if form.is_valid():
            try:
                codes = mfa.totp_confirm(
                    user=request.user,
                    session=current_web_session(request),
                    code=form.cleaned_data["otp"],
                    client=client_info(request),
                )
            except PAGE_ERRORS:
                raise
            except NotFound as exc:
                # No setup to confirm (it was replaced or finished elsewhere).
                secret_drop(request, TOTP_SETUP)
                messages.error(request, _first_error(exc))
                return redirect("accounts:mfa_totp")
            except AuthsiteError as exc:
                add_service_errors(form, exc)
            else:
                secret_drop(request, TOTP_SETUP)
                messages.success(request, _("The authenticator app is on."))
                return _codes_made(request, codes, "accounts:mfa")
        return self._render(request, form)

    def _remove(self, request: HttpRequest) -> HttpResponse:
        try:
            mfa.factor_remove(
                user=request.user,
                session=current_web_session(request),
                kind=mfa.TOTP,
                client=client_info(request),
            )
        except PAGE_ERRORS:
            raise
        except AuthsiteError as exc:
            messages.error(request, _first_error(exc))
            return redirect("accounts:mfa")
        secret_drop(request, TOTP_SETUP)
        messages.success(request, _("The authenticator app was removed."))
        return redirect("accounts:mfa")


@method_decorator(never_cache, name="dispatch")
class MfaRecoveryCodesView(StepUpPage):
    """Recovery codes: shown once, just after they are made (kept encrypted
    in the session until this page shows them), downloadable from the page
    as a .txt; a new set on request."""

    template_name = "accounts/mfa_recovery_codes.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        codes = secret_take(request, RECOVERY_CODES)
        context: dict[str, Any] = {"codes": codes, "mfa_enabled": request.user.mfa_enabled}
        if codes:
            wanted = flow_get(request, MFA_SETUP_FLOW) or {}
            flow_end(request, MFA_SETUP_FLOW)
            context["continue_url"] = safe_next(request, wanted.get("next")) or reverse(
                "accounts:mfa"
            )
            text = "\n".join(
                [
                    _("Recovery codes for %(site)s (%(account)s)")
                    % {"site": settings.SITE_NAME, "account": request.user},
                    _("Each code works once."),
                    "",
                    *codes,
                    "",
                ]
            )
            context["download_href"] = "data:text/plain;charset=utf-8," + quote(text)
            context["download_name"] = f"{slugify(settings.SITE_NAME) or 'site'}-recovery-codes.txt"
        else:
            context["left"] = mfa.recovery_codes_left(request.user)
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            codes = mfa.recovery_codes_regenerate(
                user=request.user,
                session=current_web_session(request),
                client=client_info(request),
            )
        except PAGE_ERRORS:
            raise
        except AuthsiteError as exc:
            messages.error(request, _first_error(exc))
            return redirect("accounts:mfa_recovery_codes")
        messages.success(
            request, _("Here are your new recovery codes. The old ones no longer work.")
        )
        return _codes_made(request, codes, "accounts:mfa_recovery_codes")


# --- recent authentication (SPEC §16.4) ----------------------------------------------------------

REAUTH_FLOW = "reauth"
PASSWORD = "password"
SECOND_FACTORS = (forms.WEBAUTHN, forms.TOTP, forms.RECOVERY_CODE)


@method_decorator(never_cache, name="dispatch")
class ReauthenticateView(SignedInPage):
    """Confirm it is you: the password, a code sent to the account's primary
    address, or a second factor. Then a new session key, and back to
    ``next``."""

    template_name = "accounts/reauthenticate.html"

    def _methods(self, request: HttpRequest) -> list[str]:
        user = request.user
        methods = [PASSWORD] if user.has_usable_password() else []
        factors = mfa.mfa_methods(user)
        methods += [m for m in (forms.WEBAUTHN, forms.TOTP, forms.RECOVERY_CODE) if m in factors]
        methods.append(forms.CODE)  # a code to the primary address
        return methods

    def _method(self, request: HttpRequest, wanted: str | None) -> str:
        methods = self._methods(request)
        return wanted if wanted in methods else methods[0]

    def _form(self, method: str, data=None):
        if method == PASSWORD:
            return forms.ReauthPasswordForm(data)
        if method == forms.WEBAUTHN:
            return forms.PasskeyForm(data)
        return forms.SecondFactorForm(data, method=method)

    def _render(self, request, method: str, next_url: str, form, **extra: Any) -> HttpResponse:
        links = {
            PASSWORD: _("Use your password"),
            forms.WEBAUTHN: _("Use a passkey"),
            forms.TOTP: _("Use your authenticator app"),
            forms.RECOVERY_CODE: _("Use a recovery code"),
            forms.CODE: _("Get a code by email or SMS"),
        }
        query = {"next": next_url} if next_url else {}
        base = reverse("accounts:reauthenticate")
        state = flow_get(request, REAUTH_FLOW) if method == forms.CODE else None
        context = {
            "form": form,
            "method": method,
            "next": next_url,
            "others": [
                (str(links[m]), f"{base}?{urlencode({**query, 'method': m})}")
                for m in self._methods(request)
                if m != method
            ],
            "code_sent": state is not None,
            **(flow_context(REAUTH_FLOW, state) if state is not None else {}),
            **extra,
        }
        return render(request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next(request, request.GET.get("next")) or ""
        method = self._method(request, request.GET.get("method"))
        return self._render(request, method, next_url, self._form(method))

    def post(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next(request, request.POST.get("next")) or ""
        session = current_web_session(request)
        if session is None:
            web_logout(request)
            return redirect(settings.LOGIN_URL)
        if request.POST.get("action") == "send":
            return self._send(request, session, next_url)
        method = self._method(request, request.POST.get("method"))
        form = self._form(method, request.POST)
        extra: dict[str, Any] = {}
        if form.is_valid():
            data = form.cleaned_data
            try:
                reauth.reauthenticate(
                    user=request.user,
                    session=session,
                    client=client_info(request),
                    password=data.get("password"),
                    code=data.get("otp"),
                    method=method if method in SECOND_FACTORS else None,
                    credential=data.get("credential"),
                )
            except PAGE_ERRORS:
                raise
            except AuthsiteError as exc:
                if method == forms.CODE:
                    extra = code_refused(form, exc)
                else:
                    add_service_errors(form, exc)
            else:
                flow_end(request, REAUTH_FLOW)
                _session_follows_password(request)  # and a new session key
                messages.success(request, _("Thank you. You can go on."))
                return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        return self._render(request, method, next_url, form, **extra)

    def _send(self, request: HttpRequest, session, next_url: str) -> HttpResponse:
        try:
            sent = reauth.reauth_code_send(
                user=request.user, session=session, client=client_info(request)
            )
        except (OtpCooldown, OtpSendLimit, OtpLocked) as exc:
            flow_update(request, REAUTH_FLOW, resend_at=now() + (exc.retry_after or 0))
            messages.error(request, wait_message(exc))
        else:
            flow_start(
                request,
                REAUTH_FLOW,
                identifier=request.user.primary_identifier,
                channel=sent.channel,
                destination=sent.destination,
                resend_in=sent.resend_in,
            )
            messages.success(
                request,
                _("We sent a code to %(destination)s.") % {"destination": sent.destination},
            )
        query = {"method": forms.CODE, **({"next": next_url} if next_url else {})}
        return redirect(f"{reverse('accounts:reauthenticate')}?{urlencode(query)}")


# --- passkeys (SPEC §17) -----------------------------------------------------------------------
#
# static/js/passkeys.js asks one of the options views below for WebAuthn
# options (a POST with the page's CSRF token; JSON back), hands them to the
# browser, and posts what the browser made to the page's form as ``credential``.


class PasskeyOptionsView(Page):
    """``{"publicKey": options}`` for the page script, or ``{"error": …}``
    with the refusal's status (401 with ``reauthenticate``: the URL that
    confirms it is you first)."""

    http_method_names = ["post"]
    rate_actions: tuple[str, ...] = ("anon_ip",)

    def options(self, request: HttpRequest) -> dict[str, Any]:
        raise NotImplementedError

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            for action in self.rate_actions:
                ratelimit_hit(request=request, action=action)
            return JsonResponse({"publicKey": self.options(request)})
        except ReauthenticationRequired as exc:
            back = safe_next(request, request.POST.get("next")) or reverse("accounts:passkeys")
            return JsonResponse(
                {"error": exc.message, "reauthenticate": reauthenticate_url(back)}, status=401
            )
        except RetryLater as exc:
            response = JsonResponse({"error": wait_message(exc)}, status=429)
            response["Retry-After"] = str(max(1, int(exc.retry_after or 60)))
            return response
        except AuthsiteError as exc:
            return JsonResponse({"error": exc.message}, status=exc.status)


class JsonLoginRequired(LoginRequiredMixin):
    """Signed out, an options view answers JSON the script can read (and
    follow), not the sign-in page."""

    def handle_no_permission(self):
        return JsonResponse(
            {"error": _("Sign in first."), "signin": resolve_url(settings.LOGIN_URL)}, status=401
        )


# The browser's own binding for its passkey sign-in challenges, kept in its
# Django session (made by the first options request of a signed-out visit).
PASSKEY_LOGIN_BINDING = "passkey_login_binding"


def passkey_login_binding(request: HttpRequest, *, create: bool) -> str:
    """What this browser's passkey sign-in challenges are bound to: an
    assertion posted from another browser (or to the API) finds no challenge.
    Without ``create`` a browser that never asked for options gets a binding
    no challenge has."""
    value = request.session.get(PASSKEY_LOGIN_BINDING, "")
    if not value and create:
        value = request.session[PASSKEY_LOGIN_BINDING] = secrets.token_urlsafe(24)
    return f"web-login:{value}"


class LoginPasskeyOptionsView(PasskeyOptionsView):
    def options(self, request: HttpRequest) -> dict[str, Any]:
        return signin.signin_passkey_options(bound_to=passkey_login_binding(request, create=True))


class LoginPasskeyView(Page):
    """Sign in with a passkey (the button, or the identifier field's
    autofill): the passkey names the account and counts as both factors."""

    http_method_names = ["post"]

    @method_decorator(rate_limited("anon_ip", "login_ip"))
    def post(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next(request, request.POST.get("next"))
        if request.user.is_authenticated:
            # A stale tab: this browser is already signed in.
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        form = forms.PasskeyForm(request.POST)
        refused = _("Your browser sent no passkey. Try again.")
        if form.is_valid():
            try:
                signed_in = signin.signin_passkey(
                    credential=form.cleaned_data["credential"],
                    client=client_info(request),
                    kind=signin.WEB,
                    bound_to=passkey_login_binding(request, create=False),
                )
            except PAGE_ERRORS:
                raise
            except (AccountInactive, AccountNotVerified) as exc:
                refused = exc.message
            except AuthsiteError:
                refused = _(
                    "That passkey did not work. Try again, or sign in with your password or a code."
                )
            else:
                web_login(request, signed_in)
                messages.success(request, _("Signed in."))
                return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        return login_page(request, forms.LoginForm(), passkey_error=refused)


class LoginMfaPasskeyOptionsView(PasskeyOptionsView):
    """Request options for one of the account's passkeys, bound to the
    second step this browser is at."""

    rate_actions = ("anon_ip", "login_ip")

    def options(self, request: HttpRequest) -> dict[str, Any]:
        state = mfa_flow_get(request)
        if state is None:
            raise TokenInvalid(_("This sign-in has expired. Sign in again."))
        return signin.signin_mfa_passkey_options(mfa_token=state["mfa_token"])


class ReauthPasskeyOptionsView(JsonLoginRequired, PasskeyOptionsView):
    def options(self, request: HttpRequest) -> dict[str, Any]:
        session = current_web_session(request)
        if session is None:
            raise TokenInvalid()
        return reauth.reauth_passkey_options(user=request.user, session=session)


class PasskeyRegisterOptionsView(JsonLoginRequired, PasskeyOptionsView):
    def options(self, request: HttpRequest) -> dict[str, Any]:
        return passkeys.passkey_registration_options(
            user=request.user, session=current_web_session(request)
        )


@method_decorator(never_cache, name="dispatch")
class PasskeysView(SignedInPage):
    """The account's passkeys: add one (after a recent authentication),
    rename, remove."""

    template_name = "accounts/passkeys.html"
    reauth_return = "accounts:passkeys"

    def _render(self, request: HttpRequest, add_form=None, status: int = 200) -> HttpResponse:
        found = passkeys.passkeys_list(user=request.user)
        context = {
            "passkeys": [(p, forms.PasskeyRenameForm(initial={"name": p.name})) for p in found],
            "enabled": settings.WEBAUTHN_ENABLED,
            "recent": stepup.reauth_is_recent(session=current_web_session(request)),
            "add_form": add_form or forms.PasskeyAddForm(),
            "reauthenticate_url": reauthenticate_url(reverse("accounts:passkeys")),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action")
        if action == "add":
            return self._add(request)
        try:
            passkey_id = int(request.POST.get("passkey_id", ""))
        except ValueError:
            return HttpResponseBadRequest(_("Choose a passkey."))
        try:
            if action == "remove":
                passkeys.passkey_remove(
                    user=request.user,
                    session=current_web_session(request),
                    passkey_id=passkey_id,
                    client=client_info(request),
                )
                messages.success(request, _("The passkey was removed."))
            elif action == "rename":
                form = forms.PasskeyRenameForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _("Give the passkey a name."))
                    return redirect("accounts:passkeys")
                passkeys.passkey_rename(
                    user=request.user, passkey_id=passkey_id, name=form.cleaned_data["name"]
                )
                messages.success(request, _("The passkey was renamed."))
            else:
                return HttpResponseBadRequest(_("Unknown action."))
        except NotFound:
            messages.info(request, _("That passkey is no longer on your account."))
        return redirect("accounts:passkeys")

    def _add(self, request: HttpRequest) -> HttpResponse:
        form = forms.PasskeyAddForm(request.POST)
        if form.is_valid():
            try:
                _info, codes = passkeys.passkey_register(
                    user=request.user,
                    session=current_web_session(request),
                    credential=form.cleaned_data["credential"],
                    name=form.cleaned_data["name"],
                    client=client_info(request),
                )
            except PAGE_ERRORS:
                raise
            except AuthsiteError as exc:
                form.add_error(None, _first_error(exc))
            else:
                passkey_offer_unmark(request)
                messages.success(request, _("The passkey was added."))
                return _codes_made(request, codes, "accounts:passkeys")
        return self._render(request, add_form=form)


class PasskeyOfferDismissView(SignedInPage):
    """ "Not now" to the offer of a passkey: not again for 30 days."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        passkeys.passkey_offer_dismiss(request.user)
        passkey_offer_unmark(request)
        messages.info(request, _("We will not ask again for 30 days."))
        return redirect(safe_next(request, request.POST.get("next")) or settings.LOGIN_REDIRECT_URL)
