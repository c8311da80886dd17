from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.identifiers import EMAIL, PHONE, Identifier
from accounts.managers import UserManager, new_user_id
from authsite.db import ExactCharField, ExactEmailField


class User(AbstractBaseUser, PermissionsMixin):
    id = models.BigIntegerField(primary_key=True, default=new_user_id, editable=False)
    # Identifier columns compare byte for byte on every database (authsite.db).
    email = ExactEmailField(_("email"), max_length=254, unique=True, null=True, blank=True)
    phone = ExactCharField(
        _("phone"),
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        help_text=_("E.164, for example +919876543210."),
    )
    username = ExactCharField(
        _("username"),
        max_length=30,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Public handle; stored lower-case, unique regardless of case."),
    )
    # An address waiting for its own code (sign-up with both, or an address
    # change under way): shown to its owner, never unique, never blocking
    # anyone else (SPEC §5.3, §19.5).
    pending_email = ExactEmailField(_("pending email"), max_length=254, null=True, blank=True)
    pending_phone = ExactCharField(_("pending phone"), max_length=16, null=True, blank=True)
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
    def primary_identifier(self) -> Identifier:
        """The address codes and notices for the account go to first: the
        phone if there is one, else the email. Always the stored address."""
        if self.phone:
            return Identifier(PHONE, self.phone)
        return Identifier(EMAIL, self.email or "")

    @property
    def primary_channel(self) -> str:
        return "sms" if self.phone else "email"

    @property
    def primary_destination(self) -> str:
        return self.primary_identifier.value

    def address(self, kind: str) -> str | None:
        """The stored address of this kind (``email`` or ``phone``)."""
        return self.phone if kind == PHONE else self.email if kind == EMAIL else None

    def get_full_name(self) -> str:
        return str(self)

    def get_short_name(self) -> str:
        return str(self)


class SignupAttempt(models.Model):
    """A sign-up that is not an account yet (SPEC §22.2).

    ``POST /auth/signup`` stores what the person chose — the password hash,
    username, profile fields and the addresses — and answers with a
    ``signup_token`` (only its SHA-256 is kept here). The account is made when
    a code sent for *this* attempt is entered with *this* token. Attempts for
    one address never touch each other: a stranger's sign-up with your
    address is an attempt of its own that can only ever complete with a code
    sent to you and the stranger's token, so neither can reach the other.
    An attempt made for an address that already had an account is
    ``blocked``: it is answered like any other, and never completes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token_hash = models.CharField(max_length=64, unique=True)
    email = ExactEmailField(_("email"), max_length=254, null=True, blank=True)
    phone = ExactCharField(_("phone"), max_length=16, null=True, blank=True)
    password = models.CharField(_("password"), max_length=128)
    username = models.CharField(_("username"), max_length=30, null=True, blank=True)
    profile = models.JSONField(_("profile fields"), default=dict, blank=True)
    blocked = models.BooleanField(_("blocked"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("sign-up attempt")
        verbose_name_plural = _("sign-up attempts")
        indexes = [
            models.Index(fields=["email", "created_at"], name="signup_email_created"),
            models.Index(fields=["phone", "created_at"], name="signup_phone_created"),
        ]

    def __str__(self) -> str:
        return f"sign-up attempt for {self.primary_identifier.value}"

    @property
    def primary_identifier(self) -> Identifier:
        """Where its code goes: the phone if one was given, else the email."""
        if self.phone:
            return Identifier(PHONE, self.phone)
        return Identifier(EMAIL, self.email or "")

    @property
    def code_subject(self) -> str:
        """What its codes are bound to (``OneTimeCode.subject``)."""
        return f"signup:{self.pk}"


class DeviceSession(models.Model):
    """One signed-in device: a token session of the API or a web session.

    API sessions keep the ``jti`` of their current refresh token (and the one
    it replaced, for the reuse grace), never a token string. ``expires_at``
    is the session's true end: for a token session the earlier of its
    absolute end (sign-in + ``JWT_SESSION_MAX_AGE``) and its idle end (last
    refresh + ``JWT_SESSION_IDLE_TIMEOUT``), SPEC §18.1. Web sessions
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
    # The reuse grace was given for the current rotation (SPEC §22.6: once).
    grace_used = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True, default="")

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
    TOKEN_GRACE_USED = "token_grace_used"
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
        (TOKEN_GRACE_USED, _("A lost token refresh was answered again")),
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
