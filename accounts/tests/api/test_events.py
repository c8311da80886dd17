"""The user's security events and "this wasn't me" (SPEC §8)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import DeviceSession, SecurityEvent
from accounts.services.websessions import web_session_open
from accounts.tests.helpers import CODE_RE, assert_error, assert_ok, last_code_for, messages_to
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/auth/events"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/token/refresh"
RESET = "/api/v1/auth/password/reset"


def not_me(event_id) -> str:
    return f"/api/v1/auth/events/{event_id}/not-me"


def make_event(user, kind, minutes_ago, **fields):
    return SecurityEvent.objects.create(
        user=user,
        kind=kind,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def test_events_need_a_token(api_client):
    assert_error(api_client.get(EVENTS), 401, "not_authenticated")
    assert_error(api_client.post(not_me(1)), 401, "not_authenticated")


def test_events_list_only_the_callers_own_newest_first(auth_client, user, make_user):
    bob = make_user(email="bob@example.com")
    oldest = make_event(user, SecurityEvent.LOGIN_SUCCESS, 30, identifier="al***@example.com")
    middle = make_event(user, SecurityEvent.PASSWORD_CHANGED, 20, ip="10.0.0.1", user_agent="ua")
    newest = make_event(user, SecurityEvent.LOGOUT, 10)
    make_event(bob, SecurityEvent.LOGIN_SUCCESS, 5, identifier="bo***@example.com")
    make_event(None, SecurityEvent.LOGIN_FAILURE, 1, identifier="x***@example.com")

    body = auth_client.get(EVENTS).json()
    assert body["success"] is True
    assert body["message"] == "Your recent security events."  # was "" (an outside audit)
    data = body["data"]
    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == 3 and data["next"] is None and data["previous"] is None
    assert [e["id"] for e in data["results"]] == [newest.id, middle.id, oldest.id]
    first = data["results"][1]
    assert first == {
        "id": middle.id,
        "kind": "password_changed",
        "description": "Password changed",
        "identifier": "",
        "ip": "10.0.0.1",
        "user_agent": "ua",
        "created_at": first["created_at"],
    }


def test_events_are_paginated(auth_client, user):
    ids = [make_event(user, SecurityEvent.LOGIN_SUCCESS, minutes).id for minutes in (5, 4, 3, 2, 1)]
    newest_first = list(reversed(ids))
    page1 = assert_ok(auth_client.get(EVENTS, {"page_size": 2}))
    assert page1["count"] == 5
    assert [e["id"] for e in page1["results"]] == newest_first[:2]
    assert page1["previous"] is None
    assert page1["next"] and "page=2" in page1["next"] and "page_size=2" in page1["next"]
    page2 = assert_ok(auth_client.get(page1["next"]))
    assert [e["id"] for e in page2["results"]] == newest_first[2:4]
    assert page2["previous"]
    page3 = assert_ok(auth_client.get(page2["next"]))
    assert [e["id"] for e in page3["results"]] == newest_first[4:]
    assert page3["next"] is None
    # Past the last page: the envelope's 404.
    assert_error(auth_client.get(EVENTS, {"page_size": 2, "page": 9}), 404, "not_found")


def test_page_size_is_capped(auth_client, user):
    for minutes in range(105):
        make_event(user, SecurityEvent.LOGIN_SUCCESS, minutes + 1)
    data = assert_ok(auth_client.get(EVENTS, {"page_size": 100}))
    assert len(data["results"]) == 100 and data["count"] == 105
    # Asking for more never gets more: a capped page or a validation error.
    response = auth_client.get(EVENTS, {"page_size": 1000})
    if response.status_code == 200:
        assert len(response.json()["data"]["results"]) == 100
    else:
        assert_error(response, 400, "validation_error")


def test_real_flows_show_up_as_events(api_client, user):
    assert_error(
        api_client.post(LOGIN, {"email": user.email, "password": "Wrong-1!"}, format="json"),
        401,
        "invalid_credentials",
    )
    pair = assert_ok(
        api_client.post(
            LOGIN,
            {"email": user.email, "password": STRONG_PASSWORD},
            format="json",
            HTTP_USER_AGENT="Firefox",
        )
    )
    data = assert_ok(api_client.get(EVENTS, HTTP_AUTHORIZATION=f"Bearer {pair['access']}"))
    kinds = [e["kind"] for e in data["results"]]
    assert kinds[:2] == ["login_success", "login_failure"]
    success = data["results"][0]
    assert success["identifier"] == "al***@example.com"
    assert success["user_agent"] == "Firefox" and success["ip"] == "127.0.0.1"
    # No secret in any event.
    text = str(data)
    assert STRONG_PASSWORD not in text and "Wrong-1!" not in text
    assert pair["access"] not in text and pair["refresh"] not in text


def test_not_me_revokes_every_session_and_sends_a_reset_code(api_client, user):
    first = assert_ok(
        api_client.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")
    )
    second = assert_ok(
        api_client.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")
    )
    web = web_session_open(user=user, client=ClientInfo(ip="10.0.0.9", user_agent="laptop"))
    suspicious = SecurityEvent.objects.filter(user=user, kind=SecurityEvent.LOGIN_SUCCESS).first()
    before = len(messages_to(user.email))

    assert_ok(
        api_client.post(not_me(suspicious.id), HTTP_AUTHORIZATION=f"Bearer {first['access']}")
    )

    # Everything is signed out, the caller included.
    assert not DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    web.refresh_from_db()
    assert web.revoked_at is not None
    for pair in (first, second):
        assert_error(
            api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {pair['access']}"), 401, "token_invalid"
        )
        assert_error(
            api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json"),
            401,
            "token_invalid",
        )
    # A reset code went to the account's address, and it resets the password.
    assert len(messages_to(user.email)) == before + 1
    code = last_code_for(user.email)
    assert CODE_RE.search(messages_to(user.email)[-1])
    assert_ok(
        api_client.post(
            RESET,
            {"email": user.email, "otp": code, "new_password": "Brand-New-Horse-42!"},
            format="json",
        )
    )
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.NOT_ME).count() == 1


def test_not_me_by_phone_account_sends_the_code_by_sms(api_client, make_user, sms_outbox):
    owner = make_user(phone="+919876543210")
    pair = assert_ok(
        api_client.post(
            LOGIN, {"phone": "+919876543210", "password": STRONG_PASSWORD}, format="json"
        )
    )
    event = SecurityEvent.objects.filter(user=owner).first()
    assert_ok(api_client.post(not_me(event.id), HTTP_AUTHORIZATION=f"Bearer {pair['access']}"))
    assert last_code_for("+919876543210")


def test_not_me_within_the_reset_cooldown_still_revokes(api_client, auth_client, user):
    assert_ok(api_client.post("/api/v1/auth/password/forgot", {"email": user.email}, format="json"))
    event = make_event(user, SecurityEvent.LOGIN_SUCCESS, 1)
    assert_ok(auth_client.post(not_me(event.id)))
    assert not DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_not_me_on_another_users_event_is_not_found(auth_client, user, make_user):
    bob = make_user(email="bob@example.com")
    bobs = make_event(bob, SecurityEvent.LOGIN_SUCCESS, 1)
    anonymous = make_event(None, SecurityEvent.LOGIN_FAILURE, 1)
    for event_id in (bobs.id, anonymous.id, 987654321):
        assert_error(auth_client.post(not_me(event_id)), 404, "not_found")
    # Nothing happened to anyone.
    assert assert_ok(auth_client.get(ME))["id"] == user.id
    assert messages_to("bob@example.com") == [] and messages_to(user.email) == []
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.NOT_ME).exists()


def test_not_me_is_post_only(auth_client, user):
    event = make_event(user, SecurityEvent.LOGIN_SUCCESS, 1)
    assert_error(auth_client.get(not_me(event.id)), 405, "method_not_allowed")
    assert DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()
