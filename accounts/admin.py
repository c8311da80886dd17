from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import SetPasswordMixin, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.identifiers import normalize_email, normalize_phone
from accounts.models import DeviceSession, SecurityEvent, User
from accounts.services.users import user_create
from profiles.models import Profile


class AdminUserCreationForm(SetPasswordMixin, forms.ModelForm):
    """Staff create users through the same service as everyone else, so the
    profile is created with the user and identifiers are normalised."""

    password1, password2 = SetPasswordMixin.create_password_fields()

    class Meta:
        model = User
        fields = ["email", "phone"]

    def clean_email(self):
        value = self.cleaned_data.get("email")
        if not value:
            return None
        email = normalize_email(value)
        if User.objects.filter(email=email).exists():
            raise ValidationError(_("A user with this email already exists."))
        return email

    def clean_phone(self):
        value = self.cleaned_data.get("phone")
        if not value:
            return None
        phone = normalize_phone(value)
        if User.objects.filter(phone=phone).exists():
            raise ValidationError(_("A user with this phone number already exists."))
        return phone

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone") and not self.errors:
            raise ValidationError(_("Give an email address or a phone number."))
        self.validate_passwords()
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        self.validate_password_for_user(self.instance)

    def create_user(self) -> User:
        return user_create(
            email=self.cleaned_data.get("email"),
            phone=self.cleaned_data.get("phone"),
            password=self.cleaned_data["password1"],
            verified=True,
        )

    def save(self, commit=True):
        # The admin calls save(commit=False) and then save_model(), which
        # creates the user through the service.
        if commit:
            return self.create_user()
        return self.instance

    def save_m2m(self):  # the admin calls this after save_model
        return None


class AdminUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    ordering = ["-date_joined"]
    list_display = [
        "email",
        "phone",
        "username",
        "email_verified_at",
        "phone_verified_at",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "phone", "username"]
    readonly_fields = ["id", "date_joined", "last_login"]
    inlines = [ProfileInline]
    fieldsets = [
        (None, {"fields": ["id", "email", "phone", "username", "password"]}),
        (_("Verification"), {"fields": ["email_verified_at", "phone_verified_at"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "phone", "password1", "password2"]}),
    ]

    def get_inlines(self, request, obj):
        # The profile is created by the user-creation service, not the add form.
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = form.create_user()
        obj.id = created.id
        obj._state.adding = False
        obj._state.db = created._state.db


@admin.register(DeviceSession)
class DeviceSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "kind", "created_at", "last_used_at", "ip", "revoked_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = [f.name for f in DeviceSession._meta.fields]


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "user", "identifier", "ip"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["user"]
    search_fields = ["identifier", "user__email", "user__phone", "ip"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
