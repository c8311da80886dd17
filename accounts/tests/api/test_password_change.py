"""Change password (SPEC §5.3, §14 rules 3, 5, 6)."""

import pytest

from accounts.models import DeviceSession, SecurityEvent
from accounts.services.tokens import session_open
from accounts.services.websessions import web_session_open
from accounts.tests.helpers import CODE_RE, assert_error, assert_ok, messages_to
from accounts.tests.views.conftest import sign_in as web_sign_in
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

CHANGE = "/api/v1/auth/password/change"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/token/refresh"
ME = "/api/v1/auth/me"
NEW_PASSWORD = "Brand-New-Horse-42!"


def change(client, current=STRONG_PASSWORD, new=NEW_PASSWORD, **extra):
    return client.post(
        CHANGE, {"current_password": current, "new_password": new}, format="json", **extra
    )


def login(client, email, password, **extra):
    return client.post(LOGIN, {"email": email, "password": password}, format="json", **extra)


def me(client, access):
    return client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")


def test_change_needs_a_token(api_client):
    assert_error(change(api_client), 401, "not_authenticated")


def test_wrong_current_password(auth_client, user):
    body = assert_error(
        change(auth_client, current="Not-The-Password-1!"), 400, "current_password_incorrect"
    )
    assert body["errors"]["current_password"]
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    # Nothing was revoked.
    assert me(auth_client, auth_client.token_pair.access).status_code == 200


def test_current_password_is_compared_exactly(auth_client):
    for almost in (
        STRONG_PASSWORD.upper(),
        STRONG_PASSWORD + " ",
        " " + STRONG_PASSWORD,
        STRONG_PASSWORD[:-1],
    ):
        assert_error(change(auth_client, current=almost), 400, "current_password_incorrect")


def test_new_password_equal_to_the_current_one(auth_client):
    body = assert_error(change(auth_client, new=STRONG_PASSWORD), 400, "password_unchanged")
    assert body["errors"]["new_password"]


@pytest.mark.parametrize(
    ("new_password", "fragment"),
    [
        ("Sh0rt!", "too short"),
        ("12345678901234", "entirely numeric"),
        ("alllowercase-horse-1", "upper-case"),
        ("Password1!", "too common"),
        ("Alice@Example.com1", "too similar"),
    ],
)
def test_validator_errors_give_their_reasons(auth_client, user, new_password, fragment):
    body = assert_error(change(auth_client, new=new_password), 400, "validation_error")
    reasons = body["errors"]["new_password"]
    assert any(fragment in reason for reason in reasons), reasons
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_missing_fields_are_validation_errors(auth_client):
    body = assert_error(auth_client.post(CHANGE, {}, format="json"), 400, "validation_error")
    assert set(body["errors"]) == {"current_password", "new_password"}


def test_change_revokes_every_other_session_and_replaces_the_callers_own(
    api_client, user, web_client
):
    """The caller gets a fresh token session; its old tokens die with the others'."""
    mine = assert_ok(login(api_client, user.email, STRONG_PASSWORD, HTTP_USER_AGENT="mine"))
    other = assert_ok(login(api_client, user.email, STRONG_PASSWORD, HTTP_USER_AGENT="other"))
    web_sign_in(web_client, user.email)
    assert web_client.get("/profile/").status_code == 200
    web_row = web_session_open(user=user, client=ClientInfo(ip="10.0.0.9", user_agent="laptop"))

    response = change(api_client, HTTP_AUTHORIZATION=f"Bearer {mine['access']}")
    fresh = assert_ok(response)
    assert fresh["token_type"] == "Bearer"
    assert fresh["user"]["id"] == user.id
    assert fresh["session_id"] not in (mine["session_id"], other["session_id"])

    # The second device and the browser are signed out.
    assert_error(me(api_client, other["access"]), 401, "token_invalid")
    assert_error(
        api_client.post(REFRESH, {"refresh": other["refresh"]}, format="json"), 401, "token_invalid"
    )
    page = web_client.get("/profile/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    web_row.refresh_from_db()
    assert web_row.revoked_at is not None
    # The caller's old tokens fail too; the fresh pair works and refreshes.
    assert_error(me(api_client, mine["access"]), 401, "token_invalid")
    assert_error(
        api_client.post(REFRESH, {"refresh": mine["refresh"]}, format="json"), 401, "token_invalid"
    )
    assert assert_ok(me(api_client, fresh["access"]))["id"] == user.id
    assert_ok(api_client.post(REFRESH, {"refresh": fresh["refresh"]}, format="json"))
    live = DeviceSession.objects.filter(user=user, revoked_at__isnull=True)
    assert [str(s.pk) for s in live] == [fresh["session_id"]]

    # Passwords: the old one fails, the new one works.
    assert_error(login(api_client, user.email, STRONG_PASSWORD), 401, "invalid_credentials")
    assert_ok(login(api_client, user.email, NEW_PASSWORD))


def test_change_sends_a_notice_without_secrets_and_records_an_event(auth_client, user):
    before = len(messages_to(user.email))
    assert_ok(change(auth_client))
    notices = messages_to(user.email)[before:]
    assert len(notices) == 1
    assert "password" in notices[0].lower()
    assert NEW_PASSWORD not in notices[0] and STRONG_PASSWORD not in notices[0]
    assert CODE_RE.search(notices[0]) is None
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.PASSWORD_CHANGED).count() == 1


def test_change_notice_goes_to_the_phone_too(api_client, make_user, sms_outbox):
    both = make_user(email="both@example.com", phone="+919876543210")
    pair = assert_ok(login(api_client, both.email, STRONG_PASSWORD))
    assert_ok(change(api_client, HTTP_AUTHORIZATION=f"Bearer {pair['access']}"))
    assert any("password" in text.lower() for text in messages_to("+919876543210"))
    assert any("password" in text.lower() for text in messages_to("both@example.com"))


def test_change_clears_the_failed_sign_in_count(auth_client, api_client, user):
    # Each failure from its own IP, so only the per-identifier count matters.
    for attempt in range(9):
        assert_error(
            login(api_client, user.email, "Wrong-Password-1!", REMOTE_ADDR=f"10.3.0.{attempt}"),
            401,
            "invalid_credentials",
        )
    assert_ok(change(auth_client))
    for attempt in range(9):
        assert_error(
            login(api_client, user.email, "Wrong-Password-2!", REMOTE_ADDR=f"10.4.0.{attempt}"),
            401,
            "invalid_credentials",
        )
    assert_ok(login(api_client, user.email, NEW_PASSWORD, REMOTE_ADDR="10.5.0.1"))


def test_a_128_character_password_set_by_change_is_checked_exactly(auth_client, api_client, user):
    long_password = ("Zz9#" + "q4Rw-" * 30)[:128]
    assert_ok(change(auth_client, new=long_password))
    assert_error(login(api_client, user.email, long_password[:64]), 401, "invalid_credentials")
    assert_error(login(api_client, user.email, long_password[:72]), 401, "invalid_credentials")
    fresh = assert_ok(login(api_client, user.email, long_password))
    # And it can be the current password of the next change.
    auth_client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
    assert_ok(change(auth_client, current=long_password))


def test_a_one_megabyte_current_password_is_a_validation_error(auth_client):
    body = assert_error(change(auth_client, current="x" * (1024 * 1024)), 400, "validation_error")
    assert body["errors"]["current_password"]


def test_account_without_a_password_cannot_change_it(api_client, make_user):
    codeonly = make_user(email="codeonly@example.com", password=None)
    pair = session_open(user=codeonly, client=ClientInfo(ip="127.0.0.1", user_agent="t"))
    assert_error(
        change(api_client, current="", HTTP_AUTHORIZATION=f"Bearer {pair.access}"),
        400,
        "validation_error",
    )
    assert_error(
        change(api_client, current="anything", HTTP_AUTHORIZATION=f"Bearer {pair.access}"),
        400,
        "current_password_incorrect",
    )
