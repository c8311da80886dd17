"""Staff views of accounts (SPEC §7): users, token/web sessions, security events.

Every change staff make goes through the same services as the front doors, so
the rules hold here too: deactivating a user ends every session at once, a
reset code obeys the code limits, identifiers are normalised.

Security events caused by staff carry no client IP or user agent: the user
sees their own events, and the staff member's address is not theirs to see.
Who did what is in the admin's own log (``LogEntry``), written per user.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetPasswordMixin, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin_views import StaffAuthenticationForm
from accounts.devices import device_describe
from accounts.identifiers import normalize_email, normalize_phone, normalize_username
from accounts.models import Authenticator, DeviceSession, Passkey, SecurityEvent, User
from accounts.services.account import account_remove, user_deactivate
from accounts.services.lockout import signin_unblock_by_staff
from accounts.services.mfa import factors_remove_by_staff
from accounts.services.passkeys import KNOWN_AUTHENTICATORS, passkey_remove_by_staff
from accounts.services.password import password_forgot, password_set_by_staff
from accounts.services.tokens import session_revoke, sessions_revoke_all
from accounts.services.users import user_create
from authsite import clock
from authsite.client import ClientInfo
from authsite.errors import AuthsiteError, RetryLater
from otp.models import OneTimeCode
from profiles.admin import ProfileAdminForm
from profiles.models import Profile
from profiles.services import EDITABLE_FIELDS

# The admin's sign-in form accepts any identifier (the rate-limited view that
# shows it is accounts.admin_views.admin_login, routed in authsite/urls.py).
admin.site.login_form = StaffAuthenticationForm

# Staff actions are recorded on the user's events without a client (see above).
STAFF_CLIENT = ClientInfo()


def phone_search_value(search_term: str) -> str | None:
    """The E.164 form of a search term that is a phone number in any input
    form ("9876543210", "+91 98765 43210", "098765-43210"), else None."""
    term = (search_term or "").strip()
    if not term or "@" in term:
        return None
    try:
        return normalize_phone(term)
    except ValidationError:
        return None


class PhoneSearchMixin:
    """Admin search that also finds a phone number typed in any form.

    Django's search matches each word of the term as a substring; a phone
    number typed with spaces or without its country code does not appear in
    the stored E.164 value that way. The term is normalised
    (``DEFAULT_PHONE_REGION`` for national numbers) and matched exactly too.
    """

    phone_search_field = "phone"

    def get_search_results(self, request, queryset, search_term):
        # Identifier columns compare byte for byte on MySQL too (authsite.db)
        # and hold lower-case values: search in lower case, as it was typed.
        results, may_have_duplicates = super().get_search_results(
            request, queryset, search_term.lower()
        )
        phone = phone_search_value(search_term)
        if phone is not None:
            results = results | queryset.filter(**{self.phone_search_field: phone})
        return results, may_have_duplicates


class UserIdFilter(admin.SimpleListFilter):
    """Filter by one user, given as ``?user=<id>`` (the links on a user's page
    lead here). A list of every user as choices would not scale, so the filter
    only shows the user selected."""

    title = _("user")
    parameter_name = "user"
    lookup = "user_id"

    def lookups(self, request, model_admin):
        value = self.value()
        if not value or not value.isdigit():
            return []
        user = User.objects.filter(pk=int(value)).only("email", "phone").first()
        return [(value, str(user) if user is not None else value)]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(**{self.lookup: int(value)})


class PasskeyUserFilter(UserIdFilter):
    lookup = "authenticator__user_id"


def user_link(user: User | None) -> str:
    if user is None:
        return "—"
    url = reverse("admin:accounts_user_change", args=[user.pk])
    return format_html('<a href="{}">{}</a>', url, user)


def shorten(text: str, limit: int = 60) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Users ----------------------------------------------------------------------------


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
    """The password is read-only here, with a link to Django's change-password
    form. Identifiers are stored in their normalised form, as everywhere else;
    uniqueness is then checked by the model's own validation."""

    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"
        # Not Django's UsernameField: ours is an optional public handle, not
        # the USERNAME_FIELD, and is normalised by clean_username.
        field_classes = {}

    def clean_email(self):
        value = self.cleaned_data.get("email")
        return normalize_email(value) if value else None

    def clean_phone(self):
        value = self.cleaned_data.get("phone")
        return normalize_phone(value) if value else None

    def clean_username(self):
        value = self.cleaned_data.get("username")
        return normalize_username(value) if value else None


class StaffPasswordChangeForm(AdminPasswordChangeForm):
    """Django's change-password form for staff; the change itself is the
    password service's (``password_set_by_staff``)."""

    def save(self, commit=True):
        if not commit:
            return super().save(commit=False)
        password_set_by_staff(
            user=self.user, new_password=self.cleaned_data["password1"], client=STAFF_CLIENT
        )
        return self.user


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileAdminForm
    fields = list(EDITABLE_FIELDS)
    can_delete = False
    extra = 0
    max_num = 1


class VerifiedFilter(admin.SimpleListFilter):
    title = _("verified")
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return [
            ("email", _("Email verified")),
            ("phone", _("Phone verified")),
            ("none", _("Unverified")),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "email":
                return queryset.filter(email_verified_at__isnull=False)
            case "phone":
                return queryset.filter(phone_verified_at__isnull=False)
            case "none":
                return queryset.filter(
                    email_verified_at__isnull=True, phone_verified_at__isnull=True
                )
        return queryset


@admin.register(User)
class UserAdmin(PhoneSearchMixin, DjangoUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    change_password_form = StaffPasswordChangeForm
    ordering = ["-date_joined"]
    list_display = [
        "email",
        "phone",
        "username",
        "email_verified",
        "phone_verified",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    ]
    list_display_links = ["email", "phone"]
    list_filter = [VerifiedFilter, "is_active", "is_staff", "is_superuser"]
    # Nothing in a row reads a related object; with select_related off no
    # join is made and the changelist costs the same queries for any page size.
    list_select_related = False
    search_fields = ["email", "phone", "username"]
    # Searching a large table: skip the second COUNT(*) over every row.
    show_full_result_count = False
    readonly_fields = ["id", "date_joined", "last_login", "activity", "second_factors"]
    inlines = [ProfileInline]
    actions = [
        "deactivate",
        "revoke_all_sessions",
        "send_password_reset_code",
        "unblock_signin",
        "remove_second_factors",
    ]
    fieldsets = [
        (None, {"fields": ["id", "email", "phone", "username", "password"]}),
        (_("Verification"), {"fields": ["email_verified_at", "phone_verified_at"]}),
        (_("Second factors"), {"fields": ["second_factors"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["date_joined", "last_login"]}),
        (_("Activity"), {"fields": ["activity"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "phone", "password1", "password2"]}),
    ]

    @admin.display(description=_("email verified"), boolean=True, ordering="email_verified_at")
    def email_verified(self, obj: User) -> bool | None:
        return obj.email_verified if obj.email else None

    @admin.display(description=_("phone verified"), boolean=True, ordering="phone_verified_at")
    def phone_verified(self, obj: User) -> bool | None:
        return obj.phone_verified if obj.phone else None

    @admin.display(description=_("sessions and events"))
    def activity(self, obj: User) -> str:
        if obj.pk is None:
            return "—"
        sessions = reverse("admin:accounts_devicesession_changelist")
        events = reverse("admin:accounts_securityevent_changelist")
        return format_html(
            '<a href="{}?user={}">{}</a> · <a href="{}?user={}">{}</a>',
            sessions,
            obj.pk,
            _("Sessions"),
            events,
            obj.pk,
            _("Security events"),
        )

    @admin.display(description=_("second factors"))
    def second_factors(self, obj: User) -> str:
        """What the account has and when it was used, never a secret. Staff
        remove them with the "Remove second factors" action (an event and a
        notice to the user), not here."""
        if obj.pk is None:
            return "—"
        factors = (
            Authenticator.objects.filter(user=obj)
            .exclude(kind=Authenticator.Kind.TOTP, confirmed=False)
            .select_related("passkey")
            .order_by("created_at", "id")
        )
        rows = []
        passkeys = 0
        for factor in factors:
            kind = factor.get_kind_display()
            if factor.kind == Authenticator.Kind.WEBAUTHN:
                passkeys += 1
                kind = format_html("{} “{}”", kind, factor.name)
            rows.append(
                format_html(
                    "<li>{} — {} {}, {} {}</li>",
                    kind,
                    _("added"),
                    date_format(factor.created_at, "DATETIME_FORMAT"),
                    _("last used"),
                    date_format(factor.last_used_at, "DATETIME_FORMAT")
                    if factor.last_used_at
                    else "—",
                )
            )
        if not rows:
            return _("None")
        listed = format_html("<ul>{}</ul>", mark_safe("".join(rows)))  # noqa: S308 (escaped rows)
        if not passkeys:
            return listed
        url = reverse("admin:accounts_passkey_changelist") + f"?user={obj.pk}"
        return format_html('{}<a href="{}">{}</a>', listed, url, _("Passkeys (remove one)"))

    def get_inlines(self, request, obj):
        # The profile is created by the user-creation service, not the add form.
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if not change:
            created = form.create_user()
            obj.id = created.id
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        super().save_model(request, obj, form, change)
        if "is_active" in form.changed_data and not obj.is_active:
            # Unticking "active" is a deactivation: end every session now.
            user_deactivate(user=obj, client=STAFF_CLIENT)

    # --- deletion --------------------------------------------------------------------
    # Deleting a user here is the same removal as the account's own deletion
    # (accounts.services.account.account_remove): profile, sessions and codes go
    # with the user, the events lose every personal detail, the addresses get
    # a notice. Those related rows are the service's to remove, so the staff
    # member needs the permission to delete users, not one per related model.

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        removed_with_user = {
            str(model._meta.verbose_name)
            for model in (Profile, DeviceSession, OneTimeCode, Passkey)
        }
        perms_needed = {p for p in perms_needed if str(p) not in removed_with_user}
        if any(obj.pk == request.user.pk for obj in objs):
            # Shown by the confirmation page as a permission the staff member lacks.
            perms_needed.add(_("your own account"))
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        account_remove(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            account_remove(user=user)

    # --- actions ---------------------------------------------------------------------

    @admin.action(description=_("Deactivate (ends every session at once)"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = 0
        for user in queryset:
            if user.pk == request.user.pk:
                self.message_user(
                    request, _("You cannot deactivate your own account."), messages.WARNING
                )
                continue
            user_deactivate(user=user, client=STAFF_CLIENT)
            self.log_change(request, user, "Deactivated; every session ended.")
            done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d user deactivated; their sessions have ended.",
                    "%(count)d users deactivated; their sessions have ended.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Revoke all sessions"), permissions=["change"])
    def revoke_all_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = sessions = 0
        for user in queryset:
            revoked = sessions_revoke_all(user=user, client=STAFF_CLIENT, reason="staff")
            self.log_change(request, user, f"Revoked all sessions ({revoked}).")
            users += 1
            sessions += revoked
        self.message_user(
            request,
            ngettext(
                "%(sessions)d session revoked for %(users)d user.",
                "%(sessions)d sessions revoked for %(users)d users.",
                users,
            )
            % {"sessions": sessions, "users": users},
            messages.SUCCESS,
        )

    @admin.action(description=_("Remove second factors (account recovery)"), permissions=["change"])
    def remove_second_factors(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = 0
        for user in queryset:
            removed = factors_remove_by_staff(user=user, client=STAFF_CLIENT)
            if removed:
                self.log_change(request, user, f"Removed {removed} second factor(s).")
                users += 1
        self.message_user(
            request,
            ngettext(
                "The second factors of %(count)d user were removed; they were told.",
                "The second factors of %(count)d users were removed; they were told.",
                users,
            )
            % {"count": users},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Unblock sign-in codes and lockout (after a stranger spent them)"),
        permissions=["change"],
    )
    def unblock_signin(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = 0
        for user in queryset:
            forgiven = signin_unblock_by_staff(user=user)
            self.log_change(
                request, user, f"Unblocked sign-in codes ({forgiven} codes) and lockout."
            )
            users += 1
        self.message_user(
            request,
            ngettext(
                "Sign-in codes and lockout of %(count)d user unblocked.",
                "Sign-in codes and lockout of %(count)d users unblocked.",
                users,
            )
            % {"count": users},
            messages.SUCCESS,
        )

    @admin.action(description=_("Send a password-reset code"), permissions=["change"])
    def send_password_reset_code(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        sent = 0
        for user in queryset:
            if not user.is_active:
                self.message_user(
                    request,
                    _("%(user)s is inactive: no code was sent.") % {"user": user},
                    messages.WARNING,
                )
                continue
            identifier = user.primary_identifier
            try:
                password_forgot(identifier=identifier, client=STAFF_CLIENT)
            except RetryLater as exc:
                self.message_user(
                    request,
                    _("%(user)s: %(reason)s Try again in %(seconds)s seconds.")
                    % {"user": user, "reason": exc.message, "seconds": exc.wait_seconds},
                    messages.WARNING,
                )
                continue
            except AuthsiteError as exc:
                self.message_user(request, f"{user}: {exc.message}", messages.WARNING)
                continue
            self.log_change(request, user, f"Sent a password-reset code ({identifier.kind}).")
            sent += 1
        if sent:
            self.message_user(
                request,
                ngettext(
                    "A password-reset code was sent to %(count)d user.",
                    "A password-reset code was sent to %(count)d users.",
                    sent,
                )
                % {"count": sent},
                messages.SUCCESS,
            )


# --- Sessions -------------------------------------------------------------------------


class SessionStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", _("Live")), ("revoked", _("Revoked")), ("expired", _("Expired"))]

    def queryset(self, request, queryset):
        match self.value():
            case "live":
                return queryset.filter(revoked_at__isnull=True, expires_at__gt=clock.now())
            case "revoked":
                return queryset.filter(revoked_at__isnull=False)
            case "expired":
                return queryset.filter(revoked_at__isnull=True, expires_at__lte=clock.now())
        return queryset


@admin.register(DeviceSession)
class DeviceSessionAdmin(PhoneSearchMixin, admin.ModelAdmin):
    """Signed-in devices (API token sessions and web sessions). Read-only but
    for the "revoke" action; no refresh-token ids are shown."""

    list_display = [
        "created_at",
        "user_display",
        "kind",
        "last_used_at",
        "expires_at",
        "ip",
        "device",
        "short_user_agent",
        "is_live",
        "revoked_at",
    ]
    list_filter = [UserIdFilter, "kind", SessionStateFilter, "revoked_reason"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__phone", "user__username", "ip"]
    phone_search_field = "user__phone"
    show_full_result_count = False
    ordering = ["-last_used_at"]
    actions = ["revoke"]
    fields = readonly_fields = [
        "id",
        "user_display",
        "kind",
        "created_at",
        "last_used_at",
        "expires_at",
        "ip",
        "user_agent",
        "revoked_at",
        "revoked_reason",
    ]

    @admin.display(description=_("user"), ordering="user")
    def user_display(self, obj: DeviceSession) -> str:
        return user_link(obj.user)

    @admin.display(description=_("device"))
    def device(self, obj: DeviceSession) -> str:
        return device_describe(user_agent=obj.user_agent)

    @admin.display(description=_("user agent"))
    def short_user_agent(self, obj) -> str:
        return shorten(obj.user_agent)

    @admin.display(description=_("live"), boolean=True)
    def is_live(self, obj: DeviceSession) -> bool:
        return obj.is_live

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_devicesession")

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Revoke, don't delete: the row is the record of the device.
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Revoke the selected sessions"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[DeviceSession]) -> None:
        revoked = 0
        for session in queryset.filter(revoked_at__isnull=True).select_related("user"):
            if session_revoke(
                user=session.user, session_id=session.pk, client=STAFF_CLIENT, reason="staff"
            ):
                revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d session revoked.", "%(count)d sessions revoked.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )


# --- Security events ------------------------------------------------------------------


@admin.register(SecurityEvent)
class SecurityEventAdmin(PhoneSearchMixin, admin.ModelAdmin):
    """The security log: read-only. Old events go by retention only
    (``manage.py purge_events``), never one by one."""

    list_display = ["created_at", "kind", "user_display", "identifier", "ip", "short_user_agent"]
    list_filter = [UserIdFilter, "kind", "created_at"]
    list_select_related = ["user"]
    search_fields = ["identifier", "user__email", "user__phone", "user__username", "ip"]
    phone_search_field = "user__phone"
    date_hierarchy = "created_at"
    show_full_result_count = False
    ordering = ["-created_at", "-id"]
    fields = readonly_fields = [
        "created_at",
        "kind",
        "user_display",
        "identifier",
        "ip",
        "user_agent",
    ]

    @admin.display(description=_("user"), ordering="user")
    def user_display(self, obj: SecurityEvent) -> str:
        return user_link(obj.user)

    @admin.display(description=_("user agent"))
    def short_user_agent(self, obj) -> str:
        return shorten(obj.user_agent)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Passkeys -------------------------------------------------------------------------


@admin.register(Passkey)
class PasskeyAdmin(admin.ModelAdmin):
    """A user's passkeys (SPEC §17): name, when added and last used, the
    authenticator model (AAGUID). Never the credential or its key. Staff
    remove one with the "Remove" action (account recovery: a lost phone),
    which records an event and tells the owner; nothing else changes here."""

    list_display = [
        "name",
        "user_display",
        "created_at",
        "last_used_at",
        "aaguid",
        "authenticator_name",
        "backed_up",
    ]
    list_filter = [PasskeyUserFilter, "backed_up"]
    list_select_related = ["authenticator__user"]
    search_fields = ["authenticator__user__email", "authenticator__user__username", "aaguid"]
    show_full_result_count = False
    ordering = ["-authenticator__created_at"]
    actions = ["remove"]
    fields = readonly_fields = [
        "name",
        "user_display",
        "created_at",
        "last_used_at",
        "aaguid",
        "authenticator_name",
        "backed_up",
        "sign_count",
        "transports",
    ]

    @admin.display(description=_("name"), ordering="authenticator__name")
    def name(self, obj: Passkey) -> str:
        return obj.authenticator.name

    @admin.display(description=_("user"), ordering="authenticator__user")
    def user_display(self, obj: Passkey) -> str:
        return user_link(obj.authenticator.user)

    @admin.display(description=_("added"), ordering="authenticator__created_at")
    def created_at(self, obj: Passkey):
        return obj.authenticator.created_at

    @admin.display(description=_("last used"), ordering="authenticator__last_used_at")
    def last_used_at(self, obj: Passkey):
        return obj.authenticator.last_used_at

    @admin.display(description=_("authenticator"))
    def authenticator_name(self, obj: Passkey) -> str:
        return KNOWN_AUTHENTICATORS.get(obj.aaguid) or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Removal goes through the action: the service records the event and
        # tells the owner; the stock delete page would do neither.
        return False

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.delete_passkey")

    @admin.action(description=_("Remove the selected passkeys"), permissions=["remove"])
    def remove(self, request: HttpRequest, queryset: QuerySet[Passkey]) -> None:
        removed = 0
        for passkey in queryset.select_related("authenticator__user"):
            if passkey_remove_by_staff(passkey_id=passkey.pk, client=STAFF_CLIENT):
                self.log_change(
                    request,
                    passkey.authenticator.user,
                    f"Removed the passkey {passkey.authenticator.name!r}.",
                )
                removed += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d passkey removed; its owner was told.",
                "%(count)d passkeys removed; their owners were told.",
                removed,
            )
            % {"count": removed},
            messages.SUCCESS,
        )
