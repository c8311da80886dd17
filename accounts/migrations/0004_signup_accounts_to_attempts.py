"""Data for SPEC §22 on an existing database.

1. Stored email addresses take the one normalised spelling of §22.1 (the
   domain in IDNA ASCII form). An address that the new rules refuse, or
   whose new spelling another account holds, is left as it is: its owner
   still signs in with it as before, and the admin lists it.
2. Accounts made by sign-up and never verified become sign-up attempts
   (§22.9): they were never finished, and as accounts they could be taken
   over by the address's real owner (§22.4). The attempt keeps the password,
   username and profile the person chose, so signing in with that password
   still leads them to verify (a new ``signup_token`` is issued then). Staff
   accounts stay accounts (a trusted creator), verified or not.
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


def normalise_stored_emails(apps, schema_editor):
    from accounts.identifiers import normalize_email

    User = apps.get_model("accounts", "User")
    for user in User.objects.exclude(email__isnull=True).only("id", "email").iterator():
        try:
            email = normalize_email(user.email)
        except ValidationError:
            continue
        if email == user.email or User.objects.filter(email=email).exists():
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
