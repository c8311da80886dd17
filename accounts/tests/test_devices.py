"""Readable devices (SPEC §18.5): "Chrome on Android" on the devices page, the
activity page, the API's session list (beside the raw ``user_agent``) and the
admin's session list."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from accounts.devices import device_describe, device_parts, device_recognised
from accounts.models import SecurityEvent
from accounts.services.events import event_record
from accounts.services.tokens import session_open
from accounts.tests.helpers import assert_ok, with_second_factor
from accounts.tests.views.pages import sign_in
from authsite.client import ClientInfo
from conftest import CommitClient

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15"
)
CHROME_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1"
)
IOS_APP = "ShopApp/3.2 (iPhone; iOS 17.0; Scale/3.00)"
ANDROID_APP = "Dalvik/2.1.0 (Linux; U; Android 13; SM-G991B Build/TP1A.220624.014)"
UNKNOWN = "MobileApp/1.0"


@pytest.mark.parametrize(
    ("user_agent", "described"),
    [
        (CHROME_ANDROID, "Chrome on Android"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (SAFARI_MAC, "Safari on macOS"),
        (CHROME_IPHONE, "Chrome on iOS"),
        (IOS_APP, "App on iOS"),
        (ANDROID_APP, "App on Android"),
        ("okhttp/4.12.0", "okhttp"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
        (None, "Unknown device"),
        ("   ", "Unknown device"),
        (UNKNOWN, "Unknown device"),
        ("pytest", "Unknown device"),
        ("x" * 5000, "Unknown device"),
    ],
)
def test_a_user_agent_is_described_as_a_person_would_say_it(user_agent, described):
    assert device_describe(user_agent=user_agent) == described
    assert device_recognised(user_agent=user_agent) is (described != "Unknown device")


def test_a_long_client_name_is_cut_short():
    described = device_describe(user_agent=f"{'A' * 200}bot/1.0 (+https://example.com)")
    assert len(described) <= 40


def test_each_user_agent_is_parsed_once():
    agent = FIREFOX_WINDOWS + " cache-probe"
    before = device_parts.cache_info()
    for _ in range(5):
        assert device_describe(user_agent=agent) == "Firefox on Windows"
    after = device_parts.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 4


# --- The pages ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_devices_page_describes_each_device_and_keeps_an_unknown_ones_agent(user):
    session_open(user=user, client=ClientInfo(ip="10.0.0.8", user_agent=CHROME_ANDROID))
    session_open(user=user, client=ClientInfo(ip="10.0.0.9", user_agent=UNKNOWN))
    browser = CommitClient(HTTP_USER_AGENT=FIREFOX_WINDOWS)
    sign_in(browser)

    page = browser.get("/accounts/sessions/").content.decode()

    assert page.count("Chrome on Android") == 1
    assert page.count("Firefox on Windows") == 1  # this browser
    assert "Unknown device" in page
    # A described device's raw agent is only a tooltip; an unknown one's is shown.
    escaped = html.escape(CHROME_ANDROID)
    assert page.count(escaped) == 1 and f'title="{escaped}"' in page
    assert f">{UNKNOWN}<" in page
    assert "API token" in page and "Web browser" in page


@pytest.mark.django_db
def test_the_activity_page_describes_the_device_of_each_event(user):
    event_record(
        kind=SecurityEvent.LOGIN_SUCCESS,
        user=user,
        client=ClientInfo(ip="10.0.0.8", user_agent=SAFARI_IPHONE),
    )
    event_record(
        kind=SecurityEvent.LOGIN_FAILURE,
        user=user,
        client=ClientInfo(ip="10.0.0.9", user_agent=UNKNOWN),
    )
    browser = CommitClient()  # no user agent: its own sign-in event has none to show
    sign_in(browser)

    page = browser.get("/accounts/activity/").content.decode()

    assert page.count("Safari on iOS") == 1
    assert page.count(html.escape(SAFARI_IPHONE)) == 1  # in the tooltip only
    assert f"Unknown device · {UNKNOWN}" in page


# --- The API ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_session_list_gives_the_device_beside_the_raw_user_agent(api_client, user):
    mine = session_open(user=user, client=ClientInfo(ip="10.0.0.7", user_agent="okhttp/4.12.0"))
    session_open(user=user, client=ClientInfo(ip="10.0.0.8", user_agent=CHROME_ANDROID))
    session_open(user=user, client=ClientInfo(ip="10.0.0.9", user_agent=""))

    sessions = assert_ok(
        api_client.get("/api/v1/auth/sessions", HTTP_AUTHORIZATION=f"Bearer {mine.access}")
    )

    shown = {(s["user_agent"], s["device"]) for s in sessions}
    assert shown == {
        ("okhttp/4.12.0", "okhttp"),
        (CHROME_ANDROID, "Chrome on Android"),
        ("", "Unknown device"),
    }


@pytest.mark.django_db
def test_the_schema_documents_the_device_field():
    schema = Client().get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    session = schema["components"]["schemas"]["DeviceSession"]
    device = session["properties"]["device"]
    assert device["type"] == "string" and device["readOnly"] is True
    assert "Chrome on Android" in device["description"]
    assert "device" in session["required"]
    order = list(session["properties"])
    assert order.index("device") == order.index("user_agent") - 1


# --- The admin --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_session_list_has_a_device_column(make_user, user):
    session_open(user=user, client=ClientInfo(ip="10.0.0.8", user_agent=SAFARI_IPHONE))
    staff = with_second_factor(
        make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    )
    admin = Client()
    admin.force_login(staff)

    response = admin.get(reverse("admin:accounts_devicesession_changelist"), {"user": user.pk})

    assert response.status_code == 200
    page = response.content.decode()
    assert '<th scope="col" class="column-device">' in page
    assert '<td class="field-device">Safari on iOS</td>' in page
