"""Change or add an email address or phone number (SPEC §5.3, §14 rule 10)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import SecurityEvent, User
from accounts.services.tokens import session_open
from accounts.tests.helpers import CODE_RE, assert_error, assert_ok, last_code_for, messages_to
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD, CommitAPIClient

pytestmark = pytest.mark.django_db

CHANGE = "/api/v1/auth/contact/change"
VERIFY = "/api/v1/auth/contact/verify"
RESEND = "/api/v1/auth/otp/resend"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


def post(client, path, body, **extra):
    return client.post(path, body, format="json", **extra)


def bearer(user) -> dict:
    pair = session_open(user=user, client=ClientInfo(ip="127.0.0.1", user_agent="pytest"))
    return {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}


def test_contact_change_needs_a_token(api_client):
    assert_error(post(api_client, CHANGE, {"email": "new@example.com"}), 401, "not_authenticated")
    assert_error(
        post(api_client, VERIFY, {"email": "new@example.com", "otp": "123456"}),
        401,
        "not_authenticated",
    )


@pytest.mark.parametrize("password", ["Wrong-Password-1!", STRONG_PASSWORD.lower()])
def test_contact_change_with_a_wrong_password_is_refused(auth_client, password):
    response = post(auth_client, CHANGE, {"email": "new@example.com", "password": password})
    assert_error(response, 400, "current_password_incorrect")
    assert messages_to("new@example.com") == []


@pytest.mark.parametrize("password", [None])
def test_contact_change_without_the_password_needs_a_recent_authentication(
    auth_client, clock, settings, password
):
    """The password re-authenticates inline; without it (a blank one is no
    password) the session must have proved who it is within REAUTH_WINDOW
    (SPEC §16.4) — its sign-in, or /auth/reauthenticate."""
    body = {"email": "new@example.com"}
    if password is not None:
        body["password"] = password
    clock.advance(settings.REAUTH_WINDOW + 1)
    assert_error(post(auth_client, CHANGE, body), 401, "reauthentication_required")
    assert messages_to("new@example.com") == []
    assert_ok(post(auth_client, "/api/v1/auth/reauthenticate", {"password": STRONG_PASSWORD}))
    assert_ok(post(auth_client, CHANGE, body))
    assert messages_to("new@example.com")


def test_change_email_with_password_and_code(auth_client, user):
    data = assert_ok(
        post(auth_client, CHANGE, {"email": "New.Alice@Example.com", "password": STRONG_PASSWORD})
    )
    assert data["channel"] == "email"
    assert data["destination"] == "ne***@example.com"
    assert "otp" not in data
    code = last_code_for("new.alice@example.com")
    # Nothing changed yet.
    assert assert_ok(auth_client.get(ME))["email"] == "alice@example.com"

    updated = assert_ok(post(auth_client, VERIFY, {"email": "new.alice@example.com", "otp": code}))
    assert updated["email"] == "new.alice@example.com" and updated["email_verified"] is True
    me = assert_ok(auth_client.get(ME))
    assert me["email"] == "new.alice@example.com" and me["email_verified"] is True

    # The old address got a notice (no code in it), the new one signs in.
    notice = messages_to("alice@example.com")[-1]
    assert "changed" in notice.lower() and "ne***@example.com" in notice
    assert CODE_RE.search(notice) is None
    anon = CommitAPIClient()
    assert_ok(post(anon, LOGIN, {"email": "new.alice@example.com", "password": STRONG_PASSWORD}))
    assert_error(
        post(anon, LOGIN, {"email": "alice@example.com", "password": STRONG_PASSWORD}),
        401,
        "invalid_credentials",
    )
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.CONTACT_CHANGED).count() == 1


def test_the_code_is_single_use(auth_client):
    assert_ok(post(auth_client, CHANGE, {"email": "new@example.com", "password": STRONG_PASSWORD}))
    code = last_code_for("new@example.com")
    assert_ok(post(auth_client, VERIFY, {"email": "new@example.com", "otp": code}))
    assert_error(
        post(auth_client, VERIFY, {"email": "new@example.com", "otp": code}), 400, "otp_invalid"
    )


def test_add_a_phone_by_sms(auth_client, user, sms_outbox):
    data = assert_ok(
        post(
            auth_client,
            CHANGE,
            {"phone": "98765 43210", "dialing_code": "+91", "password": STRONG_PASSWORD},
        )
    )
    assert data["channel"] == "sms" and data["destination"] == "+91******3210"
    code = last_code_for("+919876543210")
    updated = assert_ok(post(auth_client, VERIFY, {"phone": "+919876543210", "otp": code}))
    assert updated["phone"] == "+919876543210" and updated["phone_verified"] is True
    assert updated["email"] == "alice@example.com"
    user.refresh_from_db()
    assert user.phone == "+919876543210" and user.phone_verified
    # The account had no phone: no old number to notify, and the email keeps working.
    anon = CommitAPIClient()
    assert_ok(post(anon, LOGIN, {"phone": "+919876543210", "password": STRONG_PASSWORD}))
    assert_ok(post(anon, LOGIN, {"email": "alice@example.com", "password": STRONG_PASSWORD}))


def test_change_phone_notifies_the_old_number(api_client, make_user, sms_outbox):
    owner = make_user(phone="+919876543210")
    auth = bearer(owner)
    assert_ok(
        post(api_client, CHANGE, {"phone": "+919812345678", "password": STRONG_PASSWORD}, **auth)
    )
    code = last_code_for("+919812345678")
    assert_ok(post(api_client, VERIFY, {"phone": "+919812345678", "otp": code}, **auth))
    owner.refresh_from_db()
    assert owner.phone == "+919812345678"
    notice = messages_to("+919876543210")[-1]
    assert "+91******5678" in notice and CODE_RE.search(notice) is None


def test_an_address_of_another_account_gets_the_same_answer_and_nothing_is_sent(
    auth_client, make_user
):
    make_user(email="bob@example.com")
    make_user(email="bea@example.com", is_active=False)
    answers = []
    for email in ("bob@example.com", "bea@example.com", "bim@example.com"):
        response = post(auth_client, CHANGE, {"email": email, "password": STRONG_PASSWORD})
        assert_ok(response)
        answers.append(response.content)
    # bob / bea / bim all mask to b***@example.com: the bodies are byte-identical.
    assert answers[0] == answers[1] == answers[2]
    assert messages_to("bob@example.com") == []
    assert messages_to("bea@example.com") == []
    assert CODE_RE.search(messages_to("bim@example.com")[-1])
    # No code can take bob's address: every guess fails, bob keeps it.
    for guess in ("000000", "123456", "999999"):
        assert_error(
            post(auth_client, VERIFY, {"email": "bob@example.com", "otp": guess}),
            400,
            "otp_invalid",
        )
    assert User.objects.get(email="bob@example.com")
    assert assert_ok(auth_client.get(ME))["email"] == "alice@example.com"


def test_resend_of_a_contact_change_code_to_another_accounts_address_sends_nothing(
    auth_client, make_user, clock
):
    make_user(email="bob@example.com")
    assert_ok(post(auth_client, CHANGE, {"email": "bob@example.com", "password": STRONG_PASSWORD}))
    clock.advance(31)
    assert_ok(post(auth_client, RESEND, {"email": "bob@example.com", "purpose": "contact_change"}))
    assert messages_to("bob@example.com") == []


def test_a_code_sent_to_user_a_cannot_be_used_by_user_b(api_client, make_user):
    alice = make_user(email="alice@example.com")
    bob = make_user(email="bob@example.com")
    assert_ok(
        post(
            api_client,
            CHANGE,
            {"email": "shared@example.com", "password": STRONG_PASSWORD},
            **bearer(alice),
        )
    )
    code = last_code_for("shared@example.com")
    assert_error(
        post(api_client, VERIFY, {"email": "shared@example.com", "otp": code}, **bearer(bob)),
        400,
        "otp_invalid",
    )
    bob.refresh_from_db()
    assert bob.email == "bob@example.com"
    # Alice's code is still good for Alice.
    assert_ok(
        post(api_client, VERIFY, {"email": "shared@example.com", "otp": code}, **bearer(alice))
    )
    alice.refresh_from_db()
    assert alice.email == "shared@example.com"


def test_a_code_for_one_address_does_not_verify_another(auth_client):
    assert_ok(post(auth_client, CHANGE, {"email": "one@example.com", "password": STRONG_PASSWORD}))
    code = last_code_for("one@example.com")
    assert_error(
        post(auth_client, VERIFY, {"email": "two@example.com", "otp": code}), 400, "otp_invalid"
    )


def test_a_login_code_does_not_verify_a_new_address(auth_client):
    assert_ok(post(CommitAPIClient(), "/api/v1/auth/otp/request", {"email": "fresh@example.com"}))
    login_code = last_code_for("fresh@example.com")
    assert_error(
        post(auth_client, VERIFY, {"email": "fresh@example.com", "otp": login_code}),
        400,
        "otp_invalid",
    )


def test_the_address_taken_after_the_code_was_sent_is_refused(auth_client, make_user, user):
    assert_ok(post(auth_client, CHANGE, {"email": "race@example.com", "password": STRONG_PASSWORD}))
    code = last_code_for("race@example.com")
    make_user(email="race@example.com")
    assert_error(
        post(auth_client, VERIFY, {"email": "race@example.com", "otp": code}), 400, "otp_invalid"
    )
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_the_current_address_is_refused(auth_client):
    # Well formed, refused by the account's state: 409, said on the field.
    body = assert_error(
        post(auth_client, CHANGE, {"email": "ALICE@example.com", "password": STRONG_PASSWORD}),
        409,
        "account_exists",
    )
    assert body["errors"] == {"email": ["This is already the address of your account."]}


def test_an_account_without_a_password_changes_its_address_with_the_code_alone(
    api_client, make_user
):
    codeonly = make_user(email="codeonly@example.com", password=None)
    auth = bearer(codeonly)
    assert_ok(post(api_client, CHANGE, {"email": "moved@example.com"}, **auth))
    code = last_code_for("moved@example.com")
    assert_ok(post(api_client, VERIFY, {"email": "moved@example.com", "otp": code}, **auth))
    codeonly.refresh_from_db()
    assert codeonly.email == "moved@example.com" and codeonly.email_verified


def test_wrong_codes_count_and_kill_the_code(auth_client, user):
    assert_ok(post(auth_client, CHANGE, {"email": "new@example.com", "password": STRONG_PASSWORD}))
    code = last_code_for("new@example.com")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        assert_error(
            post(auth_client, VERIFY, {"email": "new@example.com", "otp": wrong}),
            400,
            "otp_invalid",
        )
    assert_error(
        post(auth_client, VERIFY, {"email": "new@example.com", "otp": wrong}),
        400,
        "otp_attempts_exceeded",
    )
    assert_error(
        post(auth_client, VERIFY, {"email": "new@example.com", "otp": code}),
        400,
        "otp_attempts_exceeded",
    )
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_owned_and_free_addresses_take_the_same_database_work(auth_client, make_user):
    make_user(email="bob@example.com")
    make_user(email="bea@example.com", is_active=False)
    counts = []
    for email in ("bob@example.com", "bea@example.com", "bim@example.com"):
        with CaptureQueriesContext(connection) as queries:
            assert_ok(post(auth_client, CHANGE, {"email": email, "password": STRONG_PASSWORD}))
        statements = [q["sql"].lstrip().upper() for q in queries.captured_queries]
        writes = sum(1 for sql in statements if sql.startswith(("INSERT", "UPDATE", "DELETE")))
        counts.append((writes, len(statements)))
    assert counts[0] == counts[1] == counts[2]
