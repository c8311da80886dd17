from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """One per user, created with the user (SPEC §5.4)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNSPECIFIED = "unspecified"
    GENDERS = [
        (FEMALE, _("Female")),
        (MALE, _("Male")),
        (OTHER, _("Other")),
        (UNSPECIFIED, _("Unspecified")),
    ]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="profile",
    )
    first_name = models.CharField(_("first name"), max_length=150, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=150, blank=True, default="")
    company = models.CharField(_("company"), max_length=200, blank=True, default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="")
    state = models.CharField(_("state"), max_length=100, blank=True, default="")
    country = models.CharField(_("country"), max_length=100, blank=True, default="")
    gender = models.CharField(_("gender"), max_length=16, choices=GENDERS, default=UNSPECIFIED)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    bio = models.TextField(_("bio"), blank=True, default="")
    preferences = models.JSONField(_("preferences"), default=list, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"Profile of {self.user}"
