"""New-device notices (SPEC §18.4): a sign-in from a device the account has
not used before sends one notice naming the device, with a "this wasn't me"
link that ends every session and starts a reset; a known device, and the
first sign-in of a new account, send nothing."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import DeviceSession, SecurityEvent
from accounts.tests.helpers import assert_ok, last_code_for, messages_to
from conftest import STRONG_PASSWORD, CommitAPIClient, CommitClient

pytestmark = pytest.mark.django_db

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
LINK = re.compile(r"https?://\S+/accounts/not-me/[^/\s]+/")


def browser_sign_in(client, user):
    response = client.post(
        "/accounts/login/",
        {"identifier": user.email, "password": STRONG_PASSWORD},
        HTTP_USER_AGENT=CHROME_ANDROID,
    )
    assert response.status_code == 302, response.content[:300]


def notices(user) -> list[str]:
    return [m for m in messages_to(user.email) if "not used before" in m]


def test_a_fresh_browser_gets_one_notice_and_the_same_browser_none(user):
    browser_sign_in(CommitClient(), user)  # the account's first sign-in: recorded, not told
    assert notices(user) == []
    fresh = CommitClient()
    browser_sign_in(fresh, user)
    (notice,) = notices(user)
    assert "Chrome on Android" in notice
    assert LINK.search(notice)
    assert SecurityEvent.objects.filter(user=user, kind="new_device_login").count() == 1
    fresh.post("/accounts/logout/")
    browser_sign_in(fresh, user)  # the same browser (its device cookie) again
    assert len(notices(user)) == 1


def test_the_device_cookie_is_long_lived_and_http_only(client):
    response = client.get("/accounts/login/")
    cookie = response.cookies["authsite_device"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) > 365 * 24 * 3600


def test_api_devices_are_known_by_x_device_id(user):
    def api_sign_in(device: str | None):
        headers = {"HTTP_X_DEVICE_ID": device} if device else {}
        assert_ok(
            CommitAPIClient().post(
                "/api/v1/auth/login",
                {"email": user.email, "password": STRONG_PASSWORD},
                format="json",
                **headers,
            )
        )

    api_sign_in("phone-install-0001")
    api_sign_in("phone-install-0001")
    assert notices(user) == []
    api_sign_in("tablet-install-0002")
    assert len(notices(user)) == 1


def test_the_link_signs_out_every_session_and_starts_a_reset(user):
    browser_sign_in(CommitClient(), user)
    mail.outbox.clear()
    intruder = CommitClient()
    browser_sign_in(intruder, user)
    url = LINK.search(notices(user)[0]).group(0)
    path = url.split("://", 1)[1].split("/", 1)[1]
    owner = CommitClient()
    page = owner.get("/" + path)
    assert page.status_code == 200 and b"Sign out everywhere" in page.content
    # A link alone changes nothing.
    assert DeviceSession.objects.filter(user=user, revoked_at__isnull=True).count() == 2
    response = owner.post("/" + path)
    assert response["Location"] == "/accounts/password/forgot/verify/"
    assert not DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert last_code_for(user.email)
    assert intruder.get("/profile/").status_code == 302  # signed out


def test_a_forged_or_stale_link_changes_nothing(user, client, clock):
    assert client.get("/accounts/not-me/forged-token/").status_code == 400
    assert client.post("/accounts/not-me/forged-token/").status_code == 400


def test_no_notice_when_turned_off(user, settings):
    settings.NOTIFY_NEW_DEVICE = False
    browser_sign_in(CommitClient(), user)
    browser_sign_in(CommitClient(), user)
    assert notices(user) == []
