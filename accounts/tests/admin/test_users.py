"""The user admin (SPEC §7): list, search, filters, actions, passwords."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import DeviceSession, SecurityEvent, User
from accounts.services.tokens import session_open
from accounts.tests.admin.support import action, changelist_queries, page_messages
from accounts.tests.helpers import assert_error, assert_ok, last_code_for, with_second_factor
from authsite.client import ClientInfo
from otp import services as otp
from otp.models import OneTimeCode
from profiles.models import Profile

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")
NEW_PASSWORD = "Another-Strong-7-Secret"


def shown(response) -> list[User]:
    return list(response.context["cl"].result_list)


def test_user_changelist_costs_the_same_queries_for_1_and_30_rows(admin_web, make_user):
    one_row, rows = changelist_queries(admin_web, CHANGELIST)
    assert rows == 1  # the staff user
    for i in range(29):
        make_user(email=f"user{i}@example.com", phone=f"+9198765{i:05d}", username=f"user{i}")
    thirty_rows, rows = changelist_queries(admin_web, CHANGELIST)
    assert rows == 30
    assert thirty_rows == one_row


def test_changelist_lists_identifiers_verification_and_flags(admin_web, make_user):
    make_user(email="bob@example.com", phone="+919876543210", username="bobby")
    response = admin_web.get(CHANGELIST)
    html = response.content.decode()
    for text in ("bob@example.com", "+919876543210", "bobby", "Email verified", "Phone verified"):
        assert text in html
    for column in ("is_active", "is_staff", "date_joined", "last_login"):
        assert f"column-{column}" in html


@pytest.mark.parametrize(
    "term",
    ["9876543210", "+91 98765 43210", "+919876543210", "098765 43210", "98765-43210"],
)
def test_search_finds_a_phone_number_typed_in_any_form(admin_web, make_user, term):
    target = make_user(phone="+919876543210")
    make_user(phone="+919876543211")
    make_user(email="other@example.com")
    response = admin_web.get(CHANGELIST, {"q": term})
    assert shown(response) == [target]


def test_search_by_email_and_username(admin_web, make_user):
    bob = make_user(email="bob@example.com", username="bobby")
    make_user(email="carol@example.com", username="carol")
    assert shown(admin_web.get(CHANGELIST, {"q": "BOB@example"})) == [bob]
    assert shown(admin_web.get(CHANGELIST, {"q": "bobby"})) == [bob]


def test_verified_filter(admin_web, make_user, staff):
    by_email = make_user(email="e@example.com")
    by_phone = make_user(phone="+919876543210")
    unverified = make_user(email="u@example.com", verified=False)
    assert set(shown(admin_web.get(CHANGELIST, {"verified": "email"}))) == {staff, by_email}
    assert shown(admin_web.get(CHANGELIST, {"verified": "phone"})) == [by_phone]
    assert shown(admin_web.get(CHANGELIST, {"verified": "none"})) == [unverified]


def test_active_and_staff_filters(admin_web, make_user, staff):
    inactive = make_user(email="gone@example.com", is_active=False)
    make_user(email="plain@example.com")
    assert shown(admin_web.get(CHANGELIST, {"is_active__exact": "0"})) == [inactive]
    assert shown(admin_web.get(CHANGELIST, {"is_staff__exact": "1"})) == [staff]


def test_change_page_has_the_profile_inline_and_a_read_only_password(admin_web, user):
    response = admin_web.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="profile-0-first_name"' in html
    assert 'href="../password/"' in html  # the link to Django's change-password form
    assert 'name="password"' not in html  # no password input
    assert user.password not in html  # not even the hash
    password_page = admin_web.get(reverse("admin:auth_user_password_change", args=[user.pk]))
    assert password_page.status_code == 200


def test_password_change_form_sets_the_password_and_ends_every_session(
    admin_web, user, auth_client
):
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = admin_web.post(
        url, {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert_error(auth_client.get("/api/v1/auth/me"), 401, "token_invalid")
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.PASSWORD_CHANGED).exists()


def test_editing_identifiers_stores_them_normalised(admin_web, user):
    url = reverse("admin:accounts_user_change", args=[user.pk])
    page = admin_web.get(url).context["adminform"].form
    data = {
        **{k: v for k, v in page.initial.items() if v is not None and k != "password"},
        "email": "  Alice@Example.COM ",
        "phone": "98765 43210",
        "username": "Alice_1",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": str(user.profile.pk),
        "profile-0-user": str(user.pk),
        "profile-0-gender": "unspecified",
        "profile-0-preferences": "[]",
        "profile-0-attributes": "{}",
    }
    data.pop("groups", None)
    data.pop("user_permissions", None)
    for key in ("email_verified_at", "phone_verified_at", "last_login", "date_joined", "id"):
        data.pop(key, None)
    response = admin_web.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert (user.email, user.phone, user.username) == (
        "alice@example.com",
        "+919876543210",
        "alice_1",
    )


def test_unticking_active_ends_every_session(admin_web, user, auth_client):
    url = reverse("admin:accounts_user_change", args=[user.pk])
    form = admin_web.get(url).context["adminform"].form
    data = {
        "email": user.email,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "email_verified_at_0": "2026-01-01",
        "email_verified_at_1": "00:00:00",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": str(user.profile.pk),
        "profile-0-user": str(user.pk),
        "profile-0-gender": "unspecified",
        "profile-0-preferences": "[]",
        "profile-0-attributes": "{}",
    }
    assert form.initial["is_active"] is True
    response = admin_web.post(url, data)  # "is_active" left out: unticked
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert_error(auth_client.get("/api/v1/auth/me"), 401, "token_invalid")
    assert not DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()


# --- actions ---------------------------------------------------------------------------


def test_deactivate_action_ends_every_session_at_once(admin_web, user, auth_client):
    other = session_open(user=user, client=ClientInfo(ip="10.0.0.2", user_agent="phone"))
    assert_ok(auth_client.get("/api/v1/auth/me"))

    response = action(admin_web, CHANGELIST, "deactivate", [user.pk])

    assert response.status_code == 200
    assert any("1 user deactivated" in m for m in page_messages(response))
    user.refresh_from_db()
    assert not user.is_active
    assert_error(auth_client.get("/api/v1/auth/me"), 401, "token_invalid")
    refreshed = auth_client.post(
        "/api/v1/auth/token/refresh", {"refresh": other.refresh}, format="json"
    )
    assert_error(refreshed, 401, "token_invalid")
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.DEACTIVATED)
    assert event.ip is None  # the staff member's address is not recorded on the user's log


def test_deactivate_action_leaves_the_acting_staff_member_alone(admin_web, staff):
    response = action(admin_web, CHANGELIST, "deactivate", [staff.pk])
    assert any("your own account" in m for m in page_messages(response))
    staff.refresh_from_db()
    assert staff.is_active


def test_revoke_all_sessions_action(admin_web, user, auth_client):
    response = action(admin_web, CHANGELIST, "revoke_all_sessions", [user.pk])
    assert any("1 session revoked for 1 user" in m for m in page_messages(response))
    user.refresh_from_db()
    assert user.is_active
    assert_error(auth_client.get("/api/v1/auth/me"), 401, "token_invalid")
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.SESSION_REVOKED).exists()


def test_reset_code_action_sends_a_code_that_resets_the_password(
    admin_web, user, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = action(admin_web, CHANGELIST, "send_password_reset_code", [user.pk])
    assert any("code was sent to 1 user" in m for m in page_messages(response))
    code = last_code_for("alice@example.com")

    reset = api_client.post(
        "/api/v1/auth/password/reset",
        {"email": "alice@example.com", "otp": code, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert_ok(reset)


def test_reset_code_action_within_the_cooldown_is_a_message_not_an_error(
    admin_web, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action(admin_web, CHANGELIST, "send_password_reset_code", [user.pk])
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = action(admin_web, CHANGELIST, "send_password_reset_code", [user.pk])
    assert response.status_code == 200
    assert any("Try again in" in m for m in page_messages(response))
    assert len(mail.outbox) == sent


def test_reset_code_goes_to_the_phone_of_a_phone_account(
    admin_web, make_user, sms_outbox, django_capture_on_commit_callbacks
):
    phone_user = make_user(phone="+919876543210")
    with django_capture_on_commit_callbacks(execute=True):
        action(admin_web, CHANGELIST, "send_password_reset_code", [phone_user.pk])
    assert last_code_for("+919876543210")


def test_reset_code_is_not_sent_to_an_inactive_account(
    admin_web, make_user, django_capture_on_commit_callbacks
):
    gone = make_user(email="gone@example.com", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = action(admin_web, CHANGELIST, "send_password_reset_code", [gone.pk])
    assert any("inactive" in m for m in page_messages(response))
    assert not mail.outbox


def test_actions_need_the_change_permission(make_user, user):
    viewer = with_second_factor(make_user(email="viewer@example.com", is_staff=True))
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = Client()
    client.force_login(viewer)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    # Every action needs the change permission, so none is offered.
    assert response.context["action_form"] is None
    action(client, CHANGELIST, "deactivate", [user.pk])
    user.refresh_from_db()
    assert user.is_active


# --- deletion --------------------------------------------------------------------------


def doomed_user(make_user) -> User:
    doomed = make_user(email="doomed@example.com", phone="+919876543299", username="doomed")
    session_open(user=doomed, client=ClientInfo(ip="203.0.113.9", user_agent="Phone"))
    return doomed


def test_staff_delete_a_user_from_its_page_through_the_account_removal(
    admin_web, make_user, sms_outbox, django_capture_on_commit_callbacks
):
    doomed = doomed_user(make_user)
    otp.otp_issue(purpose=otp.LOGIN, destination=doomed.email, user=doomed)
    url = reverse("admin:accounts_user_delete", args=[doomed.pk])
    confirm = admin_web.get(url)
    assert confirm.status_code == 200
    assert not confirm.context["perms_lacking"]  # the profile no longer blocks it
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(url, {"post": "yes"}, follow=True)

    assert response.status_code == 200
    assert not User.objects.filter(pk=doomed.pk).exists()
    assert not Profile.objects.filter(user_id=doomed.pk).exists()
    assert not DeviceSession.objects.filter(user_id=doomed.pk).exists()
    assert not OneTimeCode.objects.filter(destination=doomed.email).exists()
    # The removal of the service: both addresses got a notice and the events
    # keep no trace of the account.
    assert [m.to for m in mail.outbox] == [["doomed@example.com"]]
    assert [m.to for m in sms_outbox] == ["+919876543299"]
    assert SecurityEvent.objects.filter(kind=SecurityEvent.ACCOUNT_DELETED).exists()
    assert not SecurityEvent.objects.filter(user_id=doomed.pk).exists()


def test_staff_delete_selected_users_with_the_bulk_action(admin_web, staff, make_user):
    doomed = doomed_user(make_user)
    other = make_user(email="other@example.com")
    kept = make_user(email="kept@example.com")

    response = admin_web.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [str(doomed.pk), str(other.pk)],
            "post": "yes",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert set(User.objects.values_list("pk", flat=True)) == {kept.pk, staff.pk}
    assert not DeviceSession.objects.filter(user_id=doomed.pk).exists()


def test_staff_cannot_delete_their_own_account_from_the_admin(admin_web, staff, make_user):
    other = make_user(email="other@example.com")
    url = reverse("admin:accounts_user_delete", args=[staff.pk])
    assert "your own account" in admin_web.get(url).context["perms_lacking"]
    assert admin_web.post(url, {"post": "yes"}).status_code == 403
    bulk = admin_web.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [str(staff.pk), str(other.pk)],
            "post": "yes",
        },
    )
    assert bulk.status_code == 403
    assert User.objects.filter(pk__in=[staff.pk, other.pk]).count() == 2


def test_deleting_users_needs_the_delete_permission(make_user):
    doomed = doomed_user(make_user)
    editor = with_second_factor(make_user(email="editor@example.com", is_staff=True))
    editor.user_permissions.add(
        Permission.objects.get(codename="view_user"), Permission.objects.get(codename="change_user")
    )
    client = Client()
    client.force_login(editor)
    url = reverse("admin:accounts_user_delete", args=[doomed.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=doomed.pk).exists()


# --- second factors (SPEC §16.5) --------------------------------------------------------


def test_staff_see_a_users_factors_but_no_secret_and_can_remove_them(
    admin_web, make_user, django_capture_on_commit_callbacks
):
    from accounts.models import Authenticator
    from accounts.services import mfa
    from authsite.client import ClientInfo

    owner = make_user(email="owner@example.com")
    session = session_open(user=owner, client=ClientInfo()).session
    setup = mfa.totp_setup(user=owner, session=session)
    import pyotp

    from authsite import clock

    mfa.totp_confirm(
        user=owner,
        session=session,
        code=pyotp.TOTP(setup.secret).at(clock.now().timestamp()),
        client=ClientInfo(),
    )
    page = admin_web.get(reverse("admin:accounts_user_change", args=[owner.pk])).content.decode()
    assert "authenticator app" in page and "recovery codes" in page
    stored = Authenticator.objects.get(user=owner, kind="totp").secret
    assert setup.secret not in page and stored not in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        action(admin_web, CHANGELIST, "remove_second_factors", [owner.pk])
    owner.refresh_from_db()
    assert not owner.mfa_enabled
    assert not Authenticator.objects.filter(user=owner).exists()
    assert SecurityEvent.objects.filter(user=owner, kind="mfa_disabled").exists()
    assert any("removed" in m.subject.lower() for m in mail.outbox if owner.email in m.to)
