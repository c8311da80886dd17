"""A password sign-in opens its session only if the account's
``security_version`` is still the one seen when the password was checked
(``accounts/services/signin.py``): a reset or change bumps it. The bump must
count from what the database holds, not from the user the reset loaded.

The race: the owner's reset loads the account at version V; before it saves,
the owner removes a second factor, which bumps the version to V + 1 in the
database; the thief's password check then sees V + 1. A reset that wrote
"its V, plus one" wrote V + 1 again — the number the thief's sign-in was
checked at — and the sign-in with the stolen password opened a session
after the reset (found in review, 2026-12-07: ``_password_set`` counted in
memory)."""

from __future__ import annotations

import pytest

from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
NEW_PASSWORD = "Owners-New-Horse-9"


def _owner_resets_from_a_stale_load(monkeypatch, user, reset) -> None:
    """The owner's reset (``reset(stale_user)``) was loaded before the owner's
    second-factor change, and saves right after the thief's check."""
    from accounts.models import User
    from accounts.services import mfa, signin

    stale = User.objects.get(pk=user.pk)
    mfa.sync_enabled(User.objects.get(pk=user.pk))  # the second-factor change: V + 1
    check = signin.password_matches

    def check_then_owner_resets(who, password):
        result = check(who, password)
        reset(stale)
        return result

    monkeypatch.setattr(signin, "password_matches", check_then_owner_resets)


def _staff_reset(stale) -> None:
    from accounts.services.password import password_set_by_staff
    from authsite.client import ClientInfo

    password_set_by_staff(user=stale, new_password=NEW_PASSWORD, client=ClientInfo())


def _owner_change(stale) -> None:
    from accounts.services.password import password_change
    from authsite.client import ClientInfo

    password_change(
        user=stale,
        current_password=VICTIM_PASSWORD,
        new_password=NEW_PASSWORD,
        client=ClientInfo(),
    )


@pytest.mark.parametrize("reset", [_staff_reset, _owner_change], ids=["staff-set", "change"])
def test_a_reset_saved_from_a_stale_load_still_stops_the_sign_in_checked_before_it(
    api_client, make_user, monkeypatch, reset
):
    from accounts.models import DeviceSession, User

    user = make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD)
    before = User.objects.get(pk=user.pk).security_version
    _owner_resets_from_a_stale_load(monkeypatch, user, reset)

    response = api_client.post(
        LOGIN, {"email": VICTIM_EMAIL, "password": VICTIM_PASSWORD}, format="json"
    )

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "invalid_credentials"
    assert not DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    # Both changes counted: the second factor's and the password's.
    assert User.objects.get(pk=user.pk).security_version == before + 2


def test_the_reset_by_code_counts_from_the_database_too(api_client, make_user, monkeypatch):
    """The reset by code loads the account itself; the second-factor change
    lands between that load and its save."""
    from accounts.models import User
    from accounts.services import mfa, password
    from accounts.tests.helpers import last_code_for

    user = make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD)
    before = user.security_version
    sent = api_client.post("/api/v1/auth/password/forgot", {"email": VICTIM_EMAIL}, format="json")
    assert sent.status_code == 200, sent.content
    hash_new = password._password_hash

    def hash_then_second_factor_change(new_password):
        encoded = hash_new(new_password)
        mfa.sync_enabled(User.objects.get(pk=user.pk))
        return encoded

    monkeypatch.setattr(password, "_password_hash", hash_then_second_factor_change)
    reset = api_client.post(
        "/api/v1/auth/password/reset",
        {"email": VICTIM_EMAIL, "otp": last_code_for(VICTIM_EMAIL), "new_password": NEW_PASSWORD},
        format="json",
    )
    assert reset.status_code == 200, reset.content
    stored = User.objects.get(pk=user.pk)
    assert stored.security_version == before + 2
    assert stored.check_password(NEW_PASSWORD)
