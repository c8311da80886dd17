from __future__ import annotations

import secrets
import uuid

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.managers import UserManager

# User ids are random integers below 2**53 (safe in JavaScript), not a
# sequence: ids reveal neither how many accounts exist nor, at sign-up, whether
# an address already had an account (SPEC §5.3: that answer must look like a
# fresh sign-up).
USER_ID_MIN = 10**9
USER_ID_MAX = 2**53 - 1


def new_user_id() -> int:
    return USER_ID_MIN + secrets.randbelow(USER_ID_MAX - USER_ID_MIN)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.BigIntegerField(primary_key=True, default=new_user_id, editable=False)
    email = models.EmailField(_("email"), max_length=254, unique=True, null=True, blank=True)
    phone = models.CharField(
        _("phone"),
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        help_text=_("E.164, for example +919876543210."),
    )
    username = models.CharField(
        _("username"),
        max_length=30,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Public handle; stored lower-case, unique regardless of case."),
    )
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=(Q(email__isnull=False) & ~Q(email=""))
                | (Q(phone__isnull=False) & ~Q(phone="")),
                name="user_has_email_or_phone",
                violation_error_message=_("A user needs an email address or a phone number."),
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.phone or f"user {self.pk}"

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def phone_verified(self) -> bool:
        return self.phone_verified_at is not None

    @property
    def is_verified(self) -> bool:
        """A user is verified when the channel they signed up with is verified.

        An address only becomes the account's before verification at sign-up
        (a second address given at sign-up stays pending until its own code is
        entered), so "any channel verified" is the same test.
        """
        return self.email_verified or self.phone_verified

    @property
    def primary_channel(self) -> str:
        """The channel codes go to: the phone if there is one, else the email."""
        return "sms" if self.phone else "email"

    @property
    def primary_destination(self) -> str:
        return self.phone or self.email or ""

    def get_full_name(self) -> str:
        return str(self)

    def get_short_name(self) -> str:
        return str(self)


class DeviceSessionQuerySet(models.QuerySet):
    def live(self) -> DeviceSessionQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class DeviceSession(models.Model):
    """One signed-in device: a token session of the API or a web session.

    API sessions keep the ``jti`` of their current refresh token (and the one
    it replaced, for the reuse grace), never a token string. Web sessions
    store this row's id in the Django session; revoking the row signs the
    browser out at its next request.
    """

    API = "api"
    WEB = "web"
    KINDS = [(API, _("API token")), (WEB, _("Web browser"))]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="device_sessions"
    )
    kind = models.CharField(max_length=8, choices=KINDS, default=API)
    refresh_jti = models.CharField(max_length=64, blank=True, default="")
    previous_jti = models.CharField(max_length=64, blank=True, default="")
    rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True, default="")

    objects = DeviceSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("device session")
        verbose_name_plural = _("device sessions")
        indexes = [models.Index(fields=["user", "revoked_at"], name="devsess_user_revoked")]
        ordering = ["-last_used_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} session of {self.user_id}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class SecurityEvent(models.Model):
    """What happened to an account (SPEC §8). Never holds a password, a code
    or a token; identifiers are stored masked."""

    SIGNUP = "signup"
    VERIFICATION = "verification"
    LOGIN_SUCCESS = "login_success"
    LOGIN_FAILURE = "login_failure"
    CODE_SENT = "code_sent"
    CODE_FAILED = "code_failed"
    CODE_LOCKED = "code_locked"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    TOKEN_REUSE = "token_reuse_detected"
    LOGOUT = "logout"
    SESSION_REVOKED = "session_revoked"
    CONTACT_CHANGED = "contact_changed"
    ACCOUNT_DELETED = "account_deleted"
    DELIVERY_FAILED = "delivery_failed"
    NOT_ME = "not_me"
    DEACTIVATED = "deactivated"
    KINDS = [
        (SIGNUP, _("Signed up")),
        (VERIFICATION, _("Address verified")),
        (LOGIN_SUCCESS, _("Signed in")),
        (LOGIN_FAILURE, _("Failed sign-in")),
        (CODE_SENT, _("Code sent")),
        (CODE_FAILED, _("Wrong code entered")),
        (CODE_LOCKED, _("Codes locked after too many wrong attempts")),
        (PASSWORD_CHANGED, _("Password changed")),
        (PASSWORD_RESET, _("Password reset")),
        (TOKEN_REUSE, _("Refresh token reuse detected")),
        (LOGOUT, _("Signed out")),
        (SESSION_REVOKED, _("Session revoked")),
        (CONTACT_CHANGED, _("Email or phone changed")),
        (ACCOUNT_DELETED, _("Account deleted")),
        (DELIVERY_FAILED, _("Code delivery failed")),
        (NOT_ME, _("Reported \u201cthis wasn't me\u201d")),
        (DEACTIVATED, _("Account deactivated")),
    ]

    user = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="security_events",
    )
    kind = models.CharField(max_length=32, choices=KINDS)
    identifier = models.CharField(
        max_length=64, blank=True, default="", help_text=_("Masked identifier.")
    )
    # A keyed hash of the full identifier (never the identifier itself): lets
    # an account's deletion find and scrub the events recorded before the
    # account existed or without it (an anonymous code request), which the
    # masked form cannot single out.
    identifier_digest = models.CharField(max_length=64, blank=True, default="", db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="secevent_user_created")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"
