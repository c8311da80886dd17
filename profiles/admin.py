from django import forms
from django.contrib import admin

from authsite.errors import AuthsiteError
from profiles.models import Profile
from profiles.services import EDITABLE_FIELDS, profile_clean


class ProfileAdminForm(forms.ModelForm):
    """Staff edits obey the same rules as the API and sign-up: the form's
    cleaned values go through ``profile_clean`` (and come back normalised)."""

    class Meta:
        model = Profile
        fields = list(EDITABLE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        fields = {field: cleaned[field] for field in EDITABLE_FIELDS if field in cleaned}
        try:
            cleaned.update(profile_clean(fields))
        except AuthsiteError as exc:
            for field, messages in (exc.errors or {}).items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    form = ProfileAdminForm
    list_display = ["user", "first_name", "last_name", "company", "country", "updated_at"]
    list_select_related = ["user"]
    search_fields = [
        "user__email",
        "user__phone",
        "user__username",
        "first_name",
        "last_name",
        "company",
    ]
    list_filter = ["gender"]
    ordering = ["-updated_at"]
    readonly_fields = ["user", "updated_at"]
    fieldsets = [
        (None, {"fields": ["user", "updated_at"]}),
        (
            None,
            {
                "fields": [
                    "first_name",
                    "last_name",
                    "company",
                    "city",
                    "state",
                    "country",
                    "gender",
                    "date_of_birth",
                    "bio",
                    "preferences",
                    "attributes",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        # A profile is created with its user (accounts' user-creation service).
        return False

    def has_delete_permission(self, request, obj=None):
        # It lives as long as its user; empty it by editing, or delete the user.
        return False
