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
    # The account has a second factor (SPEC §16): kept with the factors, so a
    # sign-in of an account without one costs no extra query.
    mfa_enabled = models.BooleanField(_("second factor on"), default=False)
    # Bumped by every password reset, password change and factor change: a
    # "trusted browser" cookie names the version it was made for (§16.5).
    security_version = models.PositiveIntegerField(default=0, editable=False)
    # The account's language (SPEC §21), set on the profile: its pages, API
    # messages, emails and texts. "" follows the browser (cookie, then
    # Accept-Language). On the account rather than the profile, so that the
    # one query that authenticates a request brings it along.
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    # The address whose reset code set the current password ("" when it was
    # set otherwise): a code to that address is no second factor for it (SPEC
    # §16.5, a reset never bypasses the second factor). Cleared when a sign-in
    # with this password passes another factor, or the password is set again.
    password_reset_via = ExactCharField(max_length=254, blank=True, default="", editable=False)
    # Wrong passwords since the last right one, in the database so that a
    # cache flush does not reset it (SPEC §18.3).
    password_failures = models.PositiveIntegerField(default=0, editable=False)
    # "Not now" to the offer of a passkey after a password sign-in: not
    # offered again for 30 days (SPEC §17, accounts.services.passkeys).
    passkey_offer_dismissed_at = models.DateTimeField(null=True, blank=True, editable=False)

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


# The subject of a sign-up attempt's codes ("signup:<attempt id>"): every
# attempt for one address shares its code limits (accounts.services.signup).
SIGNUP_SUBJECT_PREFIX = "signup:"


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
        return f"{SIGNUP_SUBJECT_PREFIX}{self.pk}"


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
    # The last time someone proved who they are on this session: its sign-in,
    # or a re-authentication (SPEC §16.4: sensitive changes need one within
    # REAUTH_WINDOW).
    authenticated_at = models.DateTimeField(null=True, blank=True)
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
    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    MFA_FAILED = "mfa_failed"
    RECOVERY_CODE_USED = "recovery_code_used"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"
    PASSKEY_LOGIN = "passkey_login"
    PASSKEY_CLONED = "passkey_counter_went_back"
    REAUTHENTICATED = "reauthenticated"
    NEW_DEVICE_LOGIN = "new_device_login"
    PASSWORD_LOCKED = "password_locked"
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
        (NOT_ME, _("Reported “this wasn't me”")),
        (DEACTIVATED, _("Account deactivated")),
        (MFA_ENABLED, _("Second factor added")),
        (MFA_DISABLED, _("Second factor removed")),
        (MFA_FAILED, _("Wrong second factor")),
        (RECOVERY_CODE_USED, _("Recovery code used")),
        (RECOVERY_CODES_REGENERATED, _("New recovery codes made")),
        (PASSKEY_ADDED, _("Passkey added")),
        (PASSKEY_REMOVED, _("Passkey removed")),
        (PASSKEY_LOGIN, _("Signed in with a passkey")),
        (PASSKEY_CLONED, _("A passkey's counter went backwards (refused)")),
        (REAUTHENTICATED, _("Confirmed it was you")),
        (NEW_DEVICE_LOGIN, _("Signed in on a new device")),
        (PASSWORD_LOCKED, _("Password blocked after too many wrong tries")),
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


class Authenticator(models.Model):
    """A second factor of an account (SPEC §16): a TOTP app, a set of recovery
    codes, codes by SMS or email to another verified address, or (§17) a
    passkey. Secrets are never stored in the clear: a TOTP secret is
    encrypted (``accounts.crypto``), recovery codes are salted hashes
    (``RecoveryCode``)."""

    class Kind(models.TextChoices):
        TOTP = "totp", _("authenticator app")
        RECOVERY_CODES = "recovery_codes", _("recovery codes")
        CODE = "code", _("code by SMS or email")
        WEBAUTHN = "webauthn", _("passkey")

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="authenticators"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=64, blank=True, default="")
    # totp: the encrypted secret; webauthn: the credential (§17).
    secret = models.TextField(blank=True, default="")
    # A TOTP factor is active once one correct code confirmed its setup.
    confirmed = models.BooleanField(default=False)
    # TOTP: the newest 30-second step accepted; a code of that step or an
    # earlier one is a replay.
    last_step = models.BigIntegerField(default=0)
    # Wrong codes since the last right one (SPEC §18.3's ceiling).
    failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("second factor")
        verbose_name_plural = _("second factors")
        indexes = [models.Index(fields=["user", "kind"], name="authenticator_user_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.user_id}"


class RecoveryCode(models.Model):
    """One recovery code of an account's set, as a salted hash; single use."""

    authenticator = models.ForeignKey(
        Authenticator, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self) -> str:
        return f"recovery code {self.pk} ({'used' if self.used_at else 'unused'})"


class MfaChallenge(models.Model):
    """The second step of a sign-in (SPEC §16.1): what the first factor
    proved, waiting for a second factor. Its ``mfa_token`` is random and kept
    only as a SHA-256; it is single use, lives ``MFA_TOKEN_TTL`` seconds and
    dies after ``MFA_MAX_ATTEMPTS`` wrong tries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    first_factor = models.CharField(max_length=16)
    # The normalised identifier the first factor used (a code factor must go
    # to another address).
    identifier = models.CharField(max_length=254, blank=True, default="")
    created = models.BooleanField(default=False)
    failures = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The account's security_version when its password was checked (None for
    # other first factors): a reset or change since then ends the sign-in.
    security_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("second-step challenge")
        verbose_name_plural = _("second-step challenges")
        indexes = [models.Index(fields=["expires_at"], name="mfachallenge_expires")]

    def __str__(self) -> str:
        return f"second step of {self.user_id} after {self.first_factor}"


class KnownDevice(models.Model):
    """A device an account has signed in from (SPEC §18.4), by a keyed hash
    of its id: the web device cookie, the API's ``X-Device-Id`` or its user
    agent."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    device_hash = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("known device")
        verbose_name_plural = _("known devices")
        constraints = [
            models.UniqueConstraint(fields=["user", "device_hash"], name="knowndevice_unique")
        ]

    def __str__(self) -> str:
        return f"device of {self.user_id} first seen {self.first_seen_at:%Y-%m-%d}"


class Passkey(models.Model):
    """The credential behind a ``webauthn`` second factor (SPEC §17): a
    passkey signs in on its own (user verification makes it both factors)
    and serves as a second factor and for step-up. Found by a SHA-256 of its
    credential id (the id itself can be up to 1023 bytes)."""

    authenticator = models.OneToOneField(
        Authenticator, on_delete=models.CASCADE, primary_key=True, related_name="passkey"
    )
    credential_hash = models.CharField(max_length=64, unique=True)
    credential_id = models.TextField()  # base64url
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=36, blank=True, default="")
    backup_eligible = models.BooleanField(default=False)
    backed_up = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")

    def __str__(self) -> str:
        return f"passkey {self.authenticator.name or self.pk}"


class WebAuthnChallenge(models.Model):
    """A WebAuthn challenge, kept on the server (SPEC §17): random, single
    use, five minutes, bound to its ceremony and to what asked for it (the
    account registering, the second step, the session re-authenticating).
    Found by a SHA-256 of the challenge the browser signed."""

    class Ceremony(models.TextChoices):
        REGISTRATION = "registration"
        LOGIN = "login"
        MFA = "mfa"
        REAUTHENTICATION = "reauthentication"

    challenge_hash = models.CharField(max_length=64, unique=True)
    ceremony = models.CharField(max_length=20, choices=Ceremony.choices)
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The second step (MfaChallenge), the session (DeviceSession) or the
    # browser (its session's random binding) it serves; compared byte for byte.
    bound_to = ExactCharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("passkey challenge")
        verbose_name_plural = _("passkey challenges")

    def __str__(self) -> str:
        return f"{self.ceremony} challenge"
