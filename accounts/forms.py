"""Forms of the HTML front door. They parse and normalise input only; every
rule of a flow lives in ``accounts.services`` (the views call it and turn its
errors into form errors)."""

from __future__ import annotations

import json
import re

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.identifiers import (
    Identifier,
    normalize_email,
    normalize_phone,
    normalize_username,
    parse_address,
    parse_identifier,
    signup_addresses,
)

FLOWS = ("signup", "login", "reset", "contact", "delete")


def password_field(label, autocomplete: str, *, required: bool = True) -> forms.CharField:
    # No stripping: passwords are compared exactly, spaces included.
    return forms.CharField(
        label=label,
        strip=False,
        required=required,
        max_length=settings.PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def password_rules(form: forms.Form, name: str) -> None:
    """Show the password rules (``AUTH_PASSWORD_VALIDATORS``) as the help
    text of a new password, before anyone gets them wrong."""
    rules = [text for text in password_validators_help_texts() if text]
    form.fields[name].help_text = format_html(
        "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((rule,) for rule in rules))
    )


def focus(form: forms.Form, name: str) -> None:
    """Put the page's ``autofocus`` on field ``name`` (and on no other)."""
    for field_name, field in form.fields.items():
        if field_name == name:
            field.widget.attrs["autofocus"] = True
        else:
            field.widget.attrs.pop("autofocus", None)


# What people type or paste between the digits of a code: "123 456", "123-456".
CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.]")


def code_digits(value: str) -> str:
    return CODE_SEPARATORS.sub("", value)


def code_field() -> forms.CharField:
    # No ``pattern``: the browser would refuse a pasted "123-456" before the
    # form could strip its separators.
    return forms.CharField(
        label=_("Code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )


def _identifier_widget(autocomplete: str = "username") -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "autocomplete": autocomplete,
            "autocapitalize": "none",
            "spellcheck": "false",
            "autofocus": True,
        }
    )


class CodeForm(forms.Form):
    """Enter a one-time code."""

    otp = code_field()

    def clean_otp(self) -> str:
        return code_digits(self.cleaned_data["otp"])


# Second factors a page can take (a passkey's comes from static/js/passkeys.js).
TOTP, RECOVERY_CODE, CODE, WEBAUTHN = "totp", "recovery_code", "code", "webauthn"
SECOND_FACTOR_LABELS = {
    TOTP: _("Code from your authenticator app"),
    RECOVERY_CODE: _("Recovery code"),
    CODE: _("Code we sent you"),
}


class SecondFactorForm(forms.Form):
    """A second factor: an authenticator app's code, a recovery code, or a
    code we sent — at the second step of sign-in (with "don't ask again on
    this browser" when ``trust_days``) or to re-authenticate."""

    otp = forms.CharField(max_length=64)

    def __init__(self, *args, method: str = TOTP, trust_days: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.method = method
        field = self.fields["otp"]
        field.label = SECOND_FACTOR_LABELS.get(method, SECOND_FACTOR_LABELS[TOTP])
        if method == RECOVERY_CODE:
            field.help_text = _("One of the codes you saved when you set up your second factor.")
            field.widget.attrs.update(
                {
                    "autocomplete": "off",
                    "autocapitalize": "none",
                    "spellcheck": "false",
                    "autofocus": True,
                }
            )
        else:
            field.widget.attrs.update(
                {
                    "autocomplete": "one-time-code",
                    "inputmode": "numeric",
                    "maxlength": "12",
                    "autofocus": True,
                }
            )
        if trust_days > 0:
            self.fields["remember"] = forms.BooleanField(
                required=False,
                label=ngettext_lazy(
                    "Don't ask again on this browser for %(days)d day",
                    "Don't ask again on this browser for %(days)d days",
                    "days",
                )
                % {"days": trust_days},
                help_text=_("Only on a browser that you alone use."),
            )

    def clean_otp(self) -> str:
        value = self.cleaned_data["otp"]
        if self.method == RECOVERY_CODE:
            return value.strip()
        return code_digits(value)


class ReauthPasswordForm(forms.Form):
    password = password_field(_("Password"), "current-password")


class SignupForm(forms.Form):
    email = forms.CharField(
        label=_("Email address"),
        required=False,
        max_length=320,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=32,
        help_text=_("With the country code, for example +91 98765 43210."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    first_name = forms.CharField(
        label=_("First name"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    username = forms.CharField(
        label=_("Username"),
        required=False,
        max_length=64,
        help_text=_("Optional public handle; you can also sign in with it."),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = password_field(_("Password"), "new-password")
    password2 = password_field(_("Password again"), "new-password")

    # The two fields of the one choice "email or phone — at least one".
    ADDRESS_FIELDS = ("email", "phone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        password_rules(self, "password")

    def clean_email(self) -> str | None:
        value = self.cleaned_data["email"].strip()
        return normalize_email(value) if value else None

    def clean_phone(self) -> str | None:
        value = self.cleaned_data["phone"].strip()
        return normalize_phone(value) if value else None

    def clean_username(self) -> str | None:
        value = self.cleaned_data["username"].strip()
        return normalize_username(value) if value else None

    def clean(self):
        data = super().clean()
        if not any(name in self.errors for name in self.ADDRESS_FIELDS):
            try:
                signup_addresses(email=data.get("email"), phone=data.get("phone"))
            except ValidationError as exc:
                self.address_errors(exc.message_dict)
        password, password2 = data.get("password"), data.get("password2")
        if password and password2 and password != password2:
            self.add_error("password2", _("The two passwords do not match."))
        return data

    def address_errors(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Errors of the email/phone choice: one said of both fields (neither
        was given) is said once, for the pair (the page shows the form's own
        errors with the pair); the others go beside their field. Returns the
        errors of other fields, untouched."""
        rest = dict(errors)
        shared = [m for m in rest.get("email", []) if m in rest.get("phone", [])]
        for message in shared:
            self.add_error(None, message)
        for name in self.ADDRESS_FIELDS:
            for message in rest.pop(name, []):
                if message not in shared:
                    self.add_error(name, message)
        if shared:
            # The pair's fieldset is described by these errors (the page).
            for name in self.ADDRESS_FIELDS:
                self.fields[name].widget.attrs["aria-invalid"] = "true"
        return rest

    def profile(self) -> dict[str, str]:
        return {
            key: self.cleaned_data[key]
            for key in ("first_name", "last_name")
            if self.cleaned_data.get(key)
        }


class LoginForm(forms.Form):
    identifier = forms.CharField(
        label=_("Email, phone number or username"),
        max_length=320,
        widget=_identifier_widget(),
    )
    password = password_field(_("Password"), "current-password")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if settings.WEBAUTHN_ENABLED:
            # The browser offers this site's passkeys in the field's autofill
            # (conditional mediation, static/js/passkeys.js).
            self.fields["identifier"].widget.attrs["autocomplete"] = "username webauthn"

    def clean_identifier(self) -> Identifier:
        return parse_identifier(self.cleaned_data["identifier"])

    def wrong_password(self, message: str) -> None:
        """Say that the sign-in failed, and put the cursor back in the
        password field (the identifier stays as typed)."""
        self.add_error(None, message)
        focus(self, "password")


class AddressForm(forms.Form):
    """An email address or a phone number to send a code to."""

    identifier = forms.CharField(
        label=_("Email address or phone number"),
        max_length=320,
        help_text=_("Phone numbers with the country code, for example +91 98765 43210."),
        widget=_identifier_widget(),
    )

    def clean_identifier(self) -> Identifier:
        return parse_address(self.cleaned_data["identifier"])


class NewPasswordForm(forms.Form):
    new_password = password_field(_("New password"), "new-password")
    new_password2 = password_field(_("New password again"), "new-password")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        password_rules(self, "new_password")

    def clean(self):
        data = super().clean()
        first, second = data.get("new_password"), data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two passwords do not match."))
        return data


class PasswordChangeForm(NewPasswordForm):
    current_password = password_field(_("Current password"), "current-password")

    field_order = ["current_password", "new_password", "new_password2"]


class ContactForm(forms.Form):
    identifier = forms.CharField(
        label=_("New email address or phone number"),
        max_length=320,
        help_text=_("Phone numbers with the country code, for example +91 98765 43210."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = password_field(_("Current password"), "current-password")

    def __init__(self, *args, has_password: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_password:
            del self.fields["password"]

    def clean_identifier(self) -> Identifier:
        return parse_address(self.cleaned_data["identifier"])


class DeletePasswordForm(forms.Form):
    password = password_field(_("Password"), "current-password")


class ResendForm(forms.Form):
    flow = forms.ChoiceField(choices=[(flow, flow) for flow in FLOWS], widget=forms.HiddenInput)


# --- passkeys (SPEC §17) --------------------------------------------------------------------

CREDENTIAL_MAX = 64 * 1024


class PasskeyForm(forms.Form):
    """What static/js/passkeys.js posts: the browser's credential, as JSON."""

    credential = forms.CharField(
        widget=forms.HiddenInput,
        max_length=CREDENTIAL_MAX,
        error_messages={"required": _("Your browser sent no passkey. Try again.")},
    )

    def clean_credential(self) -> dict:
        try:
            value = json.loads(self.cleaned_data["credential"])
        except (ValueError, RecursionError):  # not JSON, or nested too deep to read
            value = None
        if not isinstance(value, dict):
            raise ValidationError(_("Your browser sent no passkey. Try again."))
        return value


class PasskeyAddForm(PasskeyForm):
    name = forms.CharField(
        label=_("Name for the new passkey"),
        required=False,
        max_length=64,
        help_text=_("Optional: where it lives, for example “Work laptop”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class PasskeyRenameForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=64, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
