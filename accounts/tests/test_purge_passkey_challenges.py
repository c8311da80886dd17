import io

import pytest
from django.core.management import call_command

from accounts.models import WebAuthnChallenge
from accounts.services.passkeys import CHALLENGE_TTL
from authsite import clock as site_clock

pytestmark = pytest.mark.django_db

OPTIONS = "/api/v1/auth/passkeys/login/options"


def test_spent_and_expired_challenges_are_deleted_live_ones_kept(api_client, clock):
    api_client.post(OPTIONS, {}, format="json")  # expires
    clock.advance(CHALLENGE_TTL - 60)
    api_client.post(OPTIONS, {}, format="json")  # spent
    api_client.post(OPTIONS, {}, format="json")  # live
    spent, live = WebAuthnChallenge.objects.order_by("id")[1:]
    WebAuthnChallenge.objects.filter(pk=spent.pk).update(used_at=site_clock.now())
    clock.advance(120)
    out = io.StringIO()
    call_command("purge_passkey_challenges", stdout=out)
    assert "Deleted 2 spent or expired passkey challenge(s)." in out.getvalue()
    assert list(WebAuthnChallenge.objects.values_list("pk", flat=True)) == [live.pk]
