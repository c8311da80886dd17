import io

import pytest
from django.core.management import call_command

from accounts.models import SignupAttempt

pytestmark = pytest.mark.django_db


def test_expired_attempts_are_deleted_and_live_ones_kept(api_client, clock, settings):
    for email in ("old@example.com", "new@example.com"):
        api_client.post(
            "/api/v1/auth/signup",
            {"email": email, "password": "Correct-Horse-9-Battery"},
            format="json",
        )
        if email == "old@example.com":
            clock.advance(settings.SIGNUP_ATTEMPT_TTL - 60)
    clock.advance(120)
    out = io.StringIO()
    call_command("purge_signup_attempts", stdout=out)
    assert "Deleted 1 expired sign-up attempt(s)." in out.getvalue()
    assert list(SignupAttempt.objects.values_list("email", flat=True)) == ["new@example.com"]
