"""The one place the project reads the current time.

Services call ``clock.now()`` instead of ``timezone.now()`` so tests can move
time (see the ``clock`` fixture in ``conftest.py``) instead of sleeping, as
Django's ``PasswordResetTokenGenerator._now`` does.
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
