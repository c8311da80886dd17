"""The account as a whole (SPEC §5.3, §8, §14 rule 7): "this wasn't me",
deactivation, export and deletion — ``accounts/services/account.py``."""

from __future__ import annotations

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from accounts.models import DeviceSession, SecurityEvent, SignupAttempt, User
from accounts.services.account import (
    ResetStarted,
    account_delete,
    account_export,
    account_remove,
    event_not_me,
    user_deactivate,
)
from accounts.services.events import event_record
from accounts.services.password import password_forgot, password_reset
from accounts.services.signin import API, login_code_request, signin_password
from accounts.services.signup import signup_start
from accounts.services.tokens import session_authenticate, session_open, session_refresh
from accounts.services.websessions import web_session_open, web_session_touch
from accounts.tests.helpers import last_code_for, messages_to, wrong_code
from accounts.tests.services.support import (
    CLIENT,
    NEW_PASSWORD,
    PASSWORD,
    PHONE_NUMBER,
    WRONG,
    delivered,
    email,
    event_kinds,
    phone,
)
from authsite.errors import (
    AccountInactive,
    CurrentPasswordIncorrect,
    NotFound,
    OtpInvalid,
    RateLimited,
    ReauthenticationRequired,
    TokenInvalid,
    ValidationFailed,
)
from otp.models import OneTimeCode
from profiles.models import Profile

pytestmark = pytest.mark.django_db


def _event(user) -> SecurityEvent:
    return event_record(kind=SecurityEvent.LOGIN_SUCCESS, user=user, client=CLIENT)


# --- "this wasn't me" ---------------------------------------------------------------------------


def test_not_me_ends_every_session_and_sends_a_reset_code_to_the_primary_address(make_user):
    account = make_user(email="both@example.com", phone=PHONE_NUMBER)
    api = session_open(user=account, client=CLIENT)
    web = web_session_open(user=account, client=CLIENT)
    event = _event(account)
    with delivered():
        started = event_not_me(user=account, event_id=event.pk, client=CLIENT)
    assert started == ResetStarted(
        identifier=phone(PHONE_NUMBER), channel="sms", destination="+91******3210", resend_in=30
    )
    for session in (api.session, web):
        session.refresh_from_db()
        assert session.revoked_reason == "not_me"
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=api.access)
    assert event_kinds(account) == [
        SecurityEvent.LOGIN_SUCCESS,
        SecurityEvent.NOT_ME,
        SecurityEvent.CODE_SENT,
    ]
    # The code resets the password.
    with delivered():
        password_reset(
            identifier=phone(PHONE_NUMBER),
            code=last_code_for(PHONE_NUMBER),
            new_password=NEW_PASSWORD,
            client=CLIENT,
        )
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)


def test_not_me_moments_after_a_reset_code_keeps_that_code_and_says_when_to_ask_again(user, clock):
    session = session_open(user=user, client=CLIENT).session
    with delivered():
        password_forgot(identifier=email(user.email), client=CLIENT)
    clock.advance(12)
    started = event_not_me(user=user, event_id=_event(user).pk, client=CLIENT)
    assert (started.channel, started.destination, started.resend_in) == (
        "email",
        "al***@example.com",
        18,
    )
    session.refresh_from_db()
    assert session.revoked_at is not None
    assert OneTimeCode.objects.count() == 1


def test_not_me_is_only_for_the_users_own_events(make_user, user):
    other = make_user(email="other@example.com")
    session = session_open(user=user, client=CLIENT).session
    for event_id in (_event(other).pk, 10**9):
        with pytest.raises(NotFound) as caught:
            event_not_me(user=user, event_id=event_id, client=CLIENT)
        assert (caught.value.code, caught.value.status) == ("not_found", 404)
    session.refresh_from_db()
    assert session.revoked_at is None
    assert not OneTimeCode.objects.exists()


# --- deactivation --------------------------------------------------------------------------------


def test_deactivating_a_user_ends_every_session_at_once(user):
    pair = session_open(user=user, client=CLIENT)
    web = web_session_open(user=user, client=CLIENT)
    user_deactivate(user=user, client=CLIENT)
    assert user.is_active is False
    user.refresh_from_db()
    assert user.is_active is False
    pair.session.refresh_from_db()
    assert pair.session.revoked_reason == "deactivated"
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=pair.access)
    with pytest.raises(TokenInvalid):
        session_refresh(raw_refresh=pair.refresh, client=CLIENT)
    assert web_session_touch(session_id=str(web.pk), user_id=user.pk, client=CLIENT) is False
    assert event_kinds(user) == [SecurityEvent.DEACTIVATED]


def test_a_deactivated_user_cannot_sign_in(user):
    user_deactivate(user=user)
    with pytest.raises(AccountInactive):
        signin_password(identifier=email(user.email), password=PASSWORD, client=CLIENT, kind=API)


# --- export --------------------------------------------------------------------------------------


def test_the_export_holds_the_account_profile_sessions_and_events_and_no_secret(make_user, user):
    user.profile.first_name = "Alice"
    user.profile.save()
    pair = session_open(user=user, client=CLIENT)
    web = web_session_open(user=user, client=CLIENT)
    mine = _event(user)
    other = make_user(email="other@example.com")
    session_open(user=other, client=CLIENT)
    _event(other)

    export = account_export(user=user, session=pair.session)
    account = export["account"]
    assert (account["id"], account["email"], account["has_password"]) == (
        user.pk,
        user.email,
        True,
    )
    assert export["profile"]["first_name"] == "Alice"
    assert {s["id"] for s in export["sessions"]} == {str(pair.session.pk), str(web.pk)}
    assert [e["id"] for e in export["security_events"]] == [mine.pk]
    document = json.dumps(export, cls=DjangoJSONEncoder)
    for secret in (user.password, pair.access, pair.refresh, pair.session.refresh_jti):
        assert secret not in document


def test_the_export_says_when_an_account_has_no_password(make_user):
    account = make_user(phone=PHONE_NUMBER, password=None)
    session = session_open(user=account, client=CLIENT).session
    assert account_export(user=account, session=session)["account"]["has_password"] is False


def test_the_export_needs_a_recent_authentication(user, clock, settings):
    session = session_open(user=user, client=CLIENT).session
    clock.advance(settings.REAUTH_WINDOW + 1)
    with pytest.raises(ReauthenticationRequired):
        account_export(user=user, session=session)
    with pytest.raises(ReauthenticationRequired):
        account_export(user=user, session=None)


# --- deletion ------------------------------------------------------------------------------------


def _delete(user, **confirm):
    with delivered():
        account_delete(user=user, client=CLIENT, **confirm)


def test_deleting_needs_the_password_or_a_recent_authentication(user, clock, settings):
    with pytest.raises(CurrentPasswordIncorrect) as caught:
        _delete(user, password=WRONG)
    assert list(caught.value.errors) == ["password"]
    # No password: the session must have proved who it is within REAUTH_WINDOW.
    session = session_open(user=user, client=CLIENT).session
    clock.advance(settings.REAUTH_WINDOW + 1)
    for given_session in (None, session):
        with pytest.raises(ReauthenticationRequired):
            _delete(user, password=None, session=given_session)
    assert User.objects.filter(pk=user.pk).exists()


def test_wrong_passwords_at_deletion_count_toward_the_lock(user, small_lockout, clock):
    for _ in range(3):
        with pytest.raises(CurrentPasswordIncorrect):
            _delete(user, password=WRONG)
    with pytest.raises(RateLimited):
        _delete(user, password=PASSWORD)
    assert User.objects.filter(pk=user.pk).exists()


def test_deleting_removes_the_user_profile_sessions_and_codes(make_user):
    account = make_user(email="leaving@example.com", phone=PHONE_NUMBER)
    session_open(user=account, client=CLIENT)
    web_session_open(user=account, client=CLIENT)
    with delivered():
        password_forgot(identifier=phone(PHONE_NUMBER), client=CLIENT)
        login_code_request(identifier=email("leaving@example.com"), client=CLIENT)
    someone = make_user(email="stays@example.com")
    session_open(user=someone, client=CLIENT)
    with delivered():
        login_code_request(identifier=email(someone.email), client=CLIENT)

    _delete(account, password=PASSWORD)
    assert not User.objects.filter(pk=account.pk).exists()
    assert not Profile.objects.filter(user_id=account.pk).exists()
    assert not DeviceSession.objects.filter(user_id=account.pk).exists()
    assert list(OneTimeCode.objects.values_list("destination", flat=True)) == [someone.email]
    assert DeviceSession.objects.filter(user=someone).count() == 1


def test_deleting_keeps_the_events_but_strips_every_personal_detail(make_user):
    with delivered():  # before the account existed: an anonymous event for its address
        login_code_request(identifier=email("leaving@example.com"), client=CLIENT)
    account = make_user(email="leaving@example.com", username="leaving")
    _event(account)
    with delivered():
        login_code_request(identifier=email("stranger@example.com"), client=CLIENT)

    _delete(account, password=PASSWORD)
    stripped = SecurityEvent.objects.exclude(kind=SecurityEvent.ACCOUNT_DELETED).exclude(
        identifier="st***@example.com"
    )
    assert stripped.count() == 2
    assert set(
        stripped.values_list("user", "identifier", "identifier_digest", "ip", "user_agent")
    ) == {(None, "", "", None, "")}
    # Someone else's anonymous event keeps its details.
    untouched = SecurityEvent.objects.get(identifier="st***@example.com")
    assert untouched.identifier_digest and untouched.ip == CLIENT.ip
    deleted = SecurityEvent.objects.get(kind=SecurityEvent.ACCOUNT_DELETED)
    assert (deleted.user, deleted.identifier, deleted.ip) == (None, "", None)


def test_every_address_of_a_deleted_account_is_told(make_user):
    account = make_user(email="leaving@example.com", phone=PHONE_NUMBER)
    _delete(account, password=PASSWORD)
    for address in ("leaving@example.com", PHONE_NUMBER):
        (notice,) = messages_to(address)
        assert "account was deleted" in notice


def test_a_deleted_accounts_address_can_sign_up_afresh(user, clock):
    _delete(user, password=PASSWORD)
    with delivered():
        signup_start(email=user.email, phone=None, password=PASSWORD, client=CLIENT)
    assert SignupAttempt.objects.get().blocked is False


def test_an_account_without_a_password_confirms_deletion_with_a_sign_in_code(make_user):
    account = make_user(phone=PHONE_NUMBER, password=None)
    # Without a code (and without a recent authentication): nothing happens.
    with pytest.raises(ReauthenticationRequired):
        _delete(account)
    # A password is no confirmation for an account that has none.
    with pytest.raises(ValidationFailed) as caught:
        _delete(account, password="anything-at-all")
    assert list(caught.value.errors) == ["password"]
    with delivered():
        login_code_request(identifier=phone(PHONE_NUMBER), client=CLIENT)
    code = last_code_for(PHONE_NUMBER)
    with pytest.raises(OtpInvalid):
        _delete(account, code=wrong_code(code))
    assert User.objects.filter(pk=account.pk).exists()
    _delete(account, code=code)
    assert not User.objects.filter(pk=account.pk).exists()


def test_a_password_reset_code_does_not_confirm_a_deletion(make_user):
    account = make_user(phone=PHONE_NUMBER, password=None)
    with delivered():
        password_forgot(identifier=phone(PHONE_NUMBER), client=CLIENT)
    with pytest.raises(OtpInvalid):
        _delete(account, code=last_code_for(PHONE_NUMBER))
    assert User.objects.filter(pk=account.pk).exists()


def test_staff_removal_asks_for_nothing_and_does_the_same(make_user):
    account = make_user(email="removed@example.com")
    session_open(user=account, client=CLIENT)
    with delivered():
        account_remove(user=account)
    assert not User.objects.filter(email="removed@example.com").exists()
    assert not DeviceSession.objects.exists()
    assert SecurityEvent.objects.get().kind == SecurityEvent.ACCOUNT_DELETED
    assert "account was deleted" in messages_to("removed@example.com")[0]
