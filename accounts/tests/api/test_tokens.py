"""Token sessions: rotation, reuse detection, revocation, JWT attacks (SPEC §5.2, §14.8)."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings

from accounts.models import DeviceSession, SecurityEvent
from accounts.tests.helpers import assert_error, assert_ok

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/token/refresh"
VERIFY = "/api/v1/auth/token/verify"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
SESSIONS = "/api/v1/auth/sessions"
PASSWORD = "Correct-Horse-9-Battery"


@pytest.fixture
def sign_in(api_client, user):
    def do(user_agent="device-1"):
        response = api_client.post(
            LOGIN,
            {"email": user.email, "password": PASSWORD},
            format="json",
            HTTP_USER_AGENT=user_agent,
        )
        return assert_ok(response)

    return do


def me(api_client, access):
    return api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")


def test_claims_and_session_row_hold_no_token(api_client, sign_in, user):
    data = sign_in()
    claims = jwt.decode(data["access"], settings.JWT_SIGNING_KEY, algorithms=["HS256"])
    assert claims["token_type"] == "access"
    assert claims["user_id"] == user.id
    assert claims["email"] == user.email and "phone" in claims and "username" in claims
    assert claims["sid"] == data["session_id"] and claims["jti"]
    row = DeviceSession.objects.get(pk=data["session_id"])
    values = " ".join(str(getattr(row, f.attname)) for f in row._meta.fields)
    assert data["access"] not in values and data["refresh"] not in values
    refresh_claims = jwt.decode(data["refresh"], settings.JWT_SIGNING_KEY, algorithms=["HS256"])
    assert row.refresh_jti == refresh_claims["jti"]
    assert row.user_agent == "device-1"


def test_tokens_are_signed_with_the_jwt_key_not_the_secret_key(sign_in):
    data = sign_in()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(data["access"], settings.SECRET_KEY, algorithms=["HS256"])


def test_refresh_rotates(api_client, sign_in):
    first = sign_in()
    second = assert_ok(api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json"))
    assert second["refresh"] != first["refresh"] and second["access"] != first["access"]
    assert second["session_id"] == first["session_id"]
    assert me(api_client, second["access"]).status_code == 200
    third = assert_ok(api_client.post(REFRESH, {"refresh": second["refresh"]}, format="json"))
    assert third["refresh"] != second["refresh"]


def test_reused_refresh_token_revokes_the_whole_session(api_client, sign_in, clock, user):
    first = sign_in()
    second = assert_ok(api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json"))
    clock.advance(settings.JWT_REFRESH_REUSE_GRACE + 1)
    assert_error(
        api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json"), 401, "token_reused"
    )
    # Everything of that session is dead now: the newest refresh and the access token.
    assert_error(
        api_client.post(REFRESH, {"refresh": second["refresh"]}, format="json"),
        401,
        "token_invalid",
    )
    assert_error(me(api_client, second["access"]), 401, "token_invalid")
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.TOKEN_REUSE).exists()


def test_just_spent_refresh_within_the_grace_gets_a_fresh_pair(api_client, sign_in, clock):
    first = sign_in()
    # The first refresh happened GRACE - 1 seconds ago. (Time is moved back and
    # forth rather than forward: a token minted "in the future" fails its iat check.)
    clock.advance(-(settings.JWT_REFRESH_REUSE_GRACE - 1))
    assert_ok(api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json"))
    clock.advance(settings.JWT_REFRESH_REUSE_GRACE - 1)
    again = assert_ok(api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json"))
    assert me(api_client, again["access"]).status_code == 200
    assert_ok(api_client.post(REFRESH, {"refresh": again["refresh"]}, format="json"))


def test_concurrent_style_double_refresh_of_an_old_token_is_reuse(api_client, sign_in, clock):
    first = sign_in()
    second = assert_ok(api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json"))
    assert_ok(api_client.post(REFRESH, {"refresh": second["refresh"]}, format="json"))
    # `first` is two rotations old: never in the grace.
    assert_error(
        api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json"), 401, "token_reused"
    )


def test_token_verify(api_client, sign_in):
    data = sign_in()
    claims = assert_ok(api_client.post(VERIFY, {"token": data["access"]}, format="json"))
    assert claims["sid"] == data["session_id"] and claims["token_type"] == "access"
    assert_ok(api_client.post(VERIFY, {"token": data["refresh"]}, format="json"))
    assert_error(api_client.post(VERIFY, {"token": "garbage"}, format="json"), 401, "token_invalid")
    api_client.post(LOGOUT, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {data['access']}")
    assert_error(
        api_client.post(VERIFY, {"token": data["access"]}, format="json"), 401, "token_invalid"
    )


def test_logout_revokes_this_session_at_once(api_client, sign_in):
    one, two = sign_in("one"), sign_in("two")
    assert_ok(
        api_client.post(LOGOUT, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {one['access']}")
    )
    assert_error(me(api_client, one["access"]), 401, "token_invalid")
    assert_error(
        api_client.post(REFRESH, {"refresh": one["refresh"]}, format="json"), 401, "token_invalid"
    )
    assert me(api_client, two["access"]).status_code == 200


def test_logout_all_revokes_every_session(api_client, sign_in):
    one, two = sign_in("one"), sign_in("two")
    assert_ok(
        api_client.post(
            LOGOUT, {"all": True}, format="json", HTTP_AUTHORIZATION=f"Bearer {one['access']}"
        )
    )
    assert_error(me(api_client, one["access"]), 401, "token_invalid")
    assert_error(me(api_client, two["access"]), 401, "token_invalid")


def test_logout_with_a_refresh_token_revokes_that_session(api_client, sign_in):
    one, two = sign_in("one"), sign_in("two")
    assert_ok(
        api_client.post(
            LOGOUT,
            {"refresh": two["refresh"]},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {one['access']}",
        )
    )
    assert_error(me(api_client, two["access"]), 401, "token_invalid")
    assert me(api_client, one["access"]).status_code == 200


def test_logout_cannot_revoke_someone_elses_session(api_client, sign_in, make_user):
    mine = sign_in()
    make_user(email="bob@example.com")
    bob = assert_ok(
        api_client.post(LOGIN, {"email": "bob@example.com", "password": PASSWORD}, format="json")
    )
    response = api_client.post(
        LOGOUT,
        {"refresh": bob["refresh"]},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {mine['access']}",
    )
    assert_error(response, 401, "token_invalid")
    assert me(api_client, bob["access"]).status_code == 200


def test_sessions_list_marks_the_current_one_and_delete_revokes(api_client, sign_in):
    one, two = sign_in("one"), sign_in("two")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {one['access']}"}
    sessions = assert_ok(api_client.get(SESSIONS, **auth))
    assert {s["id"] for s in sessions} == {one["session_id"], two["session_id"]}
    current = [s for s in sessions if s["current"]]
    assert len(current) == 1 and current[0]["id"] == one["session_id"]
    assert_ok(api_client.delete(f"{SESSIONS}/{two['session_id']}", **auth))
    assert_error(me(api_client, two["access"]), 401, "token_invalid")
    assert_error(api_client.delete(f"{SESSIONS}/{two['session_id']}", **auth), 404, "not_found")
    assert_error(api_client.delete(f"{SESSIONS}/not-a-uuid", **auth), 404, "not_found")


def test_cannot_delete_another_users_session(api_client, sign_in, make_user):
    mine = sign_in()
    make_user(email="bob@example.com")
    bob = assert_ok(
        api_client.post(LOGIN, {"email": "bob@example.com", "password": PASSWORD}, format="json")
    )
    response = api_client.delete(
        f"{SESSIONS}/{bob['session_id']}", HTTP_AUTHORIZATION=f"Bearer {mine['access']}"
    )
    assert_error(response, 404, "not_found")
    assert me(api_client, bob["access"]).status_code == 200


def test_deactivating_the_user_fails_tokens_at_once(api_client, sign_in, user):
    data = sign_in()
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_error(me(api_client, data["access"]), 401, "token_invalid")
    assert_error(
        api_client.post(REFRESH, {"refresh": data["refresh"]}, format="json"), 401, "token_invalid"
    )


def test_expired_access_token_is_refused(api_client, sign_in, clock, user):
    clock.advance(-settings.JWT_ACCESS_TTL - 60)  # mint a token that is already expired
    data = sign_in()
    clock.advance(settings.JWT_ACCESS_TTL + 60)
    assert_error(me(api_client, data["access"]), 401, "token_invalid")


def _b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _forge(header: dict, payload: dict, signature: str = "") -> str:
    return f"{_b64(header)}.{_b64(payload)}.{signature}"


def test_jwt_attacks_are_each_refused(api_client, sign_in):
    data = sign_in()
    access = data["access"]
    payload = jwt.decode(access, settings.JWT_SIGNING_KEY, algorithms=["HS256"])
    header_b64, payload_b64, signature = access.split(".")
    edited = dict(payload, user_id=payload["user_id"] + 1)
    attacks = {
        "alg none": _forge({"alg": "none", "typ": "JWT"}, payload),
        "alg None, empty sig": _forge({"alg": "None", "typ": "JWT"}, payload, ""),
        "HS384 with the right key": jwt.encode(
            payload, settings.JWT_SIGNING_KEY, algorithm="HS384"
        ),
        "RS256 header": _forge({"alg": "RS256", "typ": "JWT"}, payload, signature),
        "bad signature": f"{header_b64}.{payload_b64}.{signature[:-4]}AAAA",
        "signed with another key": jwt.encode(payload, "another-key-" * 4, algorithm="HS256"),
        "edited payload": f"{header_b64}.{_b64(edited)}.{signature}",
        "refresh token as bearer": data["refresh"],
    }
    for name, token in attacks.items():
        response = me(api_client, token)
        assert response.status_code == 401, name
        assert response.json()["code"] == "token_invalid", name
    # An access token is no refresh token.
    assert_error(api_client.post(REFRESH, {"refresh": access}, format="json"), 401, "token_invalid")


def test_tokens_are_not_read_from_the_query_string(api_client, sign_in):
    data = sign_in()
    assert_error(api_client.get(f"{ME}?token={data['access']}"), 401, "not_authenticated")
    assert_error(api_client.get(f"{ME}?access_token={data['access']}"), 401, "not_authenticated")


# --- definite lifetimes (SPEC §18.1) ------------------------------------------------------


def _end(data: dict):
    from django.utils.dateparse import parse_datetime

    return parse_datetime(data["refresh_expires_at"])


def test_a_session_refreshed_every_day_still_ends_at_its_max_age(api_client, sign_in, clock):
    started = clock.current
    data = sign_in()
    max_end = started + timedelta(seconds=settings.JWT_SESSION_MAX_AGE)
    days = settings.JWT_SESSION_MAX_AGE // 86400
    for _day in range(days - 1):
        clock.advance(days=1)
        data = assert_ok(api_client.post(REFRESH, {"refresh": data["refresh"]}, format="json"))
        # The true end: the earlier of the absolute end and the idle end.
        idle_end = clock.current + timedelta(seconds=settings.JWT_SESSION_IDLE_TIMEOUT)
        assert _end(data) == min(max_end, idle_end)
        assert me(api_client, data["access"]).status_code == 200
    assert _end(data) == max_end
    clock.advance(seconds=(max_end - clock.current).total_seconds() + 1)
    assert_error(
        api_client.post(REFRESH, {"refresh": data["refresh"]}, format="json"), 401, "token_invalid"
    )
    assert_error(me(api_client, data["access"]), 401, "token_invalid")
    assert not DeviceSession.objects.filter(expires_at__gt=clock.current).exists()


def test_an_idle_session_ends_after_the_idle_timeout(api_client, sign_in, clock):
    data = sign_in()
    clock.advance(seconds=settings.JWT_SESSION_IDLE_TIMEOUT - 60)
    assert_ok(api_client.post(VERIFY, {"token": data["refresh"]}, format="json"))
    clock.advance(seconds=61)
    assert_error(
        api_client.post(REFRESH, {"refresh": data["refresh"]}, format="json"), 401, "token_invalid"
    )


def test_no_token_outlives_its_session(api_client, sign_in, clock, settings):
    settings.JWT_SESSION_MAX_AGE = 1800  # shorter than an access token's hour
    data = sign_in()
    claims = jwt.decode(data["access"], options={"verify_signature": False})
    assert claims["exp"] <= int(_end(data).timestamp())
    assert _end(data) == clock.current + timedelta(seconds=1800)


def test_the_grace_near_the_end_does_not_extend_the_session(api_client, sign_in, clock, settings):
    settings.JWT_SESSION_IDLE_TIMEOUT = settings.JWT_SESSION_MAX_AGE
    data = sign_in()
    clock.advance(seconds=settings.JWT_SESSION_MAX_AGE - 5)
    rotated = assert_ok(api_client.post(REFRESH, {"refresh": data["refresh"]}, format="json"))
    clock.advance(seconds=2)
    grace = assert_ok(api_client.post(REFRESH, {"refresh": data["refresh"]}, format="json"))
    assert _end(grace) == _end(rotated) == _end(data)
    clock.advance(seconds=4)
    assert_error(
        api_client.post(REFRESH, {"refresh": grace["refresh"]}, format="json"), 401, "token_invalid"
    )


def test_logout_everywhere_still_checks_the_tokens_shape(auth_client):
    # Found by the schema fuzz: `all` made the server skip the field.
    response = auth_client.post(
        "/api/v1/auth/logout", {"all": True, "refresh": "qcw.P.PBN*"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"refresh"}
