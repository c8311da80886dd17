"""The profile form of the HTML front door: it parses input only; the rules
of every field live in ``profiles.services.profile_clean``."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from profiles.models import Profile


def _text(label, autocomplete: str, max_length: int) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
    )


class ProfileForm(forms.Form):
    first_name = _text(_("First name"), "given-name", 150)
    last_name = _text(_("Last name"), "family-name", 150)
    company = _text(_("Company"), "organization", 200)
    city = _text(_("City"), "address-level2", 100)
    state = _text(_("State or region"), "address-level1", 100)
    country = _text(_("Country"), "country-name", 100)
    gender = forms.ChoiceField(label=_("Gender"), required=False, choices=Profile.GENDERS)
    date_of_birth = forms.CharField(
        label=_("Date of birth"),
        required=False,
        max_length=10,
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
    )
    bio = forms.CharField(
        label=_("About you"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    preferences = forms.CharField(
        label=_("Preferences"),
        required=False,
        max_length=3000,
        help_text=_("Separate them with commas."),
    )

    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("As my browser says")), *settings.LANGUAGES],
        help_text=_("For these pages, and for the emails and text messages we send you."),
    )

    @classmethod
    def initial_from(cls, profile: Profile) -> dict:
        initial = {
            field: getattr(profile, field) for field in cls.base_fields if field != "language"
        }
        initial["language"] = profile.user.language
        initial["date_of_birth"] = (
            profile.date_of_birth.isoformat() if profile.date_of_birth else ""
        )
        initial["preferences"] = ", ".join(profile.preferences or [])
        return initial

    def clean_preferences(self) -> list[str]:
        raw = self.cleaned_data["preferences"]
        return [item.strip() for item in raw.split(",") if item.strip()]
