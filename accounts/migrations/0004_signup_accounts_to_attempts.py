"""Data for SPEC §22 on an existing database.

1. A stored email with a Unicode domain takes an ASCII spelling — the one
   its mail actually went to. Django sent such an address through Python's
   IDNA 2003 codec (``django.utils.encoding.punycode``), so ``jo@fußball.de``
   received its codes, and was verified, at ``jo@fussball.de``; that is the
   address kept. (IDNA 2008, which the normaliser applies to new input, would
   make it ``xn--fuball-cta.de``: another domain, perhaps someone else's. ß,
   ẞ and the final sigma are where the two differ.) An address that cannot
   be spelled in ASCII, or whose ASCII spelling another account holds, is
   left as it is; the normaliser refuses such input now, so its owner signs
   in by another identifier or a staff member changes it.
2. Accounts made by sign-up and never verified become sign-up attempts
   (§22.9): they were never finished, and as accounts they could be taken
   over by the address's real owner (§22.4). The attempt keeps the password,
   username and profile the person chose, so signing in with that password
   still leads them to verify (a new ``signup_token`` is issued then). Staff
   accounts stay accounts (a trusted creator), verified or not, and so do
   disabled ones (staff disabled them; they must not come back as sign-ups).
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import migrations
from django.utils import timezone

PROFILE_FIELDS = (
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
)


def _where_mail_went(email: str) -> str | None:
    """The ASCII address Django's mail delivered ``email`` to, if it is one
    the normaliser accepts as it is."""
    from django.utils.encoding import punycode

    from accounts.identifiers import normalize_email

    local, _at, domain = email.rpartition("@")
    try:
        ascii_email = f"{local}@{punycode(domain)}".lower()
        normalised = normalize_email(ascii_email)
    except (UnicodeError, ValueError, ValidationError):
        return None
    return normalised if normalised == ascii_email else None


def normalise_stored_emails(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for user in User.objects.exclude(email__isnull=True).only("id", "email").iterator():
        if user.email.isascii():
            continue
        email = _where_mail_went(user.email)
        if email is None or User.objects.filter(email=email).exists():
            continue
        User.objects.filter(pk=user.pk).update(email=email)


def unverified_signups_to_attempts(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    SignupAttempt = apps.get_model("accounts", "SignupAttempt")
    Profile = apps.get_model("profiles", "Profile")
    now = timezone.now()
    ttl = timedelta(seconds=getattr(settings, "SIGNUP_ATTEMPT_TTL", 24 * 60 * 60))
    pending = User.objects.filter(
        email_verified_at__isnull=True,
        phone_verified_at__isnull=True,
        is_staff=False,
        is_superuser=False,
        is_active=True,
    )
    for user in pending.iterator():
        profile = Profile.objects.filter(user_id=user.pk).first()
        fields = {}
        if profile is not None:
            for name in PROFILE_FIELDS:
                value = getattr(profile, name)
                if value in ("", None, [], {}) or (name == "gender" and value == "unspecified"):
                    continue
                fields[name] = value.isoformat() if name == "date_of_birth" else value
        SignupAttempt.objects.create(
            token_hash=hashlib.sha256(secrets.token_urlsafe(32).encode()).hexdigest(),
            email=user.email,
            phone=user.phone,
            password=user.password,
            username=user.username,
            profile=fields,
            blocked=False,
            created_at=user.date_joined,
            expires_at=max(now, user.date_joined) + ttl,
        )
        user.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_exact_identifiers_and_signup_attempts"),
        ("profiles", "0001_initial"),
        ("otp", "0002_exact_destination_and_code_subject"),
    ]

    operations = [
        migrations.RunPython(normalise_stored_emails, migrations.RunPython.noop),
        migrations.RunPython(unverified_signups_to_attempts, migrations.RunPython.noop),
    ]
