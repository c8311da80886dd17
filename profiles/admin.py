from django.contrib import admin

from profiles.forms import ProfileAdminForm
from profiles.models import Profile


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
