"""One-time codes (SPEC §4). The behaviour lives in ``otp/services.py``; this is
the row it keeps per code sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from authsite.db import ExactCharField, retry_while_locked
from otp.destinations import EMAIL, SMS, mask_destination

__all__ = ["CodeRequestLock", "OneTimeCode", "retry_while_locked"]


class OneTimeCode(models.Model):
    """A code sent to a destination for a purpose.

    Only a keyed hash of the code is stored (``code_hash``). Only the newest
    row for a (purpose, destination) can be live: a new code kills the previous
    ones by being newer, without an UPDATE of the old rows. Rows are kept for
    at least 24 h, since their ``attempts`` make up the destination's failure
    budget (``purge_otps`` respects that).

    There are deliberately no unique constraints: the enumeration-safe path
    writes the same rows for unknown addresses as for known ones.
    """

    class Purpose(models.TextChoices):
        SIGNUP = "signup", _("sign-up")
        LOGIN = "login", _("sign-in")
        PASSWORD_RESET = "password_reset", _("password reset")
        CONTACT_CHANGE = "contact_change", _("contact change")
        MFA = "mfa", _("second step of sign-in")
        REAUTHENTICATION = "reauthentication", _("confirming it is you")

    class Channel(models.TextChoices):
        EMAIL = EMAIL, _("email")
        SMS = SMS, _("SMS")

    class DeliveryStatus(models.TextChoices):
        # Handed to delivery, to run after commit; no failure reported so far.
        # In "sync" delivery mode a success leaves it here (see otp.delivery).
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        # Issued with deliver=False (the enumeration-safe path): nothing sent.
        SKIPPED = "skipped", _("skipped")

    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # Normalised: lower-case email address or E.164 phone number, compared
    # byte for byte (authsite.db).
    destination = ExactCharField(_("destination"), max_length=254)
    # What the code is bound to besides its destination (SPEC §22.2, §22.7):
    # "" for codes anyone may ask for (sign-in, reset), "user:<id>" for an
    # account's own address change, "signup:<attempt>" for a sign-up attempt.
    # Only the newest code of a (purpose, destination, subject) is live.
    subject = models.CharField(_("bound to"), max_length=64, blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="one_time_codes",
    )
    # HMAC-SHA256 (hex) of purpose, destination and code; see services._code_hash.
    code_hash = models.CharField(_("code hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    consumed_at = models.DateTimeField(_("consumed at"), null=True, blank=True)
    delivery_status = models.CharField(
        _("delivery status"),
        max_length=8,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    # Why delivery failed, without the code (services scrub it).
    delivery_error = models.CharField(_("delivery error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [
            # Every service query: one (purpose, destination), last 24 h, newest first.
            models.Index(
                fields=["destination", "purpose", "created_at"], name="otp_dest_purpose_created"
            ),
            # purge_otps.
            models.Index(fields=["expires_at"], name="otp_expires_at"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.masked_destination}"

    @property
    def masked_destination(self) -> str:
        return mask_destination(self.destination)


class CodeRequestLock(models.Model):
    """One row per destination that codes were asked for: what a code request
    locks before it reads the destination's limits.

    The limits (cooldown, hourly cap, failure budget) are read from the
    destination's recent ``OneTimeCode`` rows, then a row is written; two
    requests in flight together would both read before either wrote, and
    both send. ``otp.services`` upserts this row first (an INSERT that, on a
    duplicate key, updates the row: an exclusive row lock on MariaDB, the
    write lock on SQLite), so the requests for one destination are decided
    in turn. ``purge_otps`` deletes the rows no request has touched for a day.
    """

    destination = ExactCharField(_("destination"), max_length=254, primary_key=True)
    requested_at = models.DateTimeField(_("last requested at"))

    class Meta:
        verbose_name = _("code request lock")
        verbose_name_plural = _("code request locks")

    def __str__(self) -> str:
        return mask_destination(self.destination)
