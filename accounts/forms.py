"""Forms of the HTML front door. They parse and normalise input only; every
rule of a flow lives in ``accounts.services`` (the views call it and turn its
errors into form errors)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.identifiers import (
    Identifier,
    normalize_email,
    normalize_phone,
    normalize_username,
    parse_address,
    parse_identifier,
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


def code_field() -> forms.CharField:
    return forms.CharField(
        label=_("Code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
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
        return "".join(self.cleaned_data["otp"].split())


# Second factors a page can take (a passkey needs the passkey pages, SPEC §17).
TOTP, RECOVERY_CODE, CODE = "totp", "recovery_code", "code"
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
                    "pattern": "[0-9 ]*",
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
        return "".join(value.split())


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
        password, password2 = data.get("password"), data.get("password2")
        if password and password2 and password != password2:
            self.add_error("password2", _("The two passwords do not match."))
        return data

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

    def clean_identifier(self) -> Identifier:
        return parse_identifier(self.cleaned_data["identifier"])


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
