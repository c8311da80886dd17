"""The device-session admin (SPEC §7): list, filters, revoke; read-only otherwise."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import DeviceSession
from accounts.services.tokens import session_open
from accounts.tests.admin.support import action, changelist_queries, page_messages
from accounts.tests.helpers import assert_error, assert_ok
from authsite.client import ClientInfo

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_devicesession_changelist")
CLIENT = ClientInfo(ip="10.0.0.7", user_agent="pytest")


def shown(response) -> list[DeviceSession]:
    return list(response.context["cl"].result_list)


def test_session_changelist_costs_the_same_queries_for_1_and_30_rows(admin_web, make_user):
    session_open(user=make_user(email="u0@example.com"), client=CLIENT)
    url = f"{CHANGELIST}?kind__exact=api"  # the staff browser's own web session aside
    one_row, rows = changelist_queries(admin_web, url)
    assert rows == 1
    for i in range(1, 30):
        session_open(user=make_user(email=f"u{i}@example.com"), client=CLIENT)
    thirty_rows, rows = changelist_queries(admin_web, url)
    assert rows == 30
    assert thirty_rows == one_row


def test_filter_by_user_kind_and_state(admin_web, user, make_user):
    mine = session_open(user=user, client=CLIENT).session
    revoked = session_open(user=user, client=CLIENT).session
    DeviceSession.objects.filter(pk=revoked.pk).update(revoked_at=mine.created_at)
    other = session_open(user=make_user(email="bob@example.com"), client=CLIENT).session

    by_user = shown(admin_web.get(CHANGELIST, {"user": user.pk}))
    assert {s.pk for s in by_user} == {mine.pk, revoked.pk}
    live = shown(admin_web.get(CHANGELIST, {"user": user.pk, "state": "live"}))
    assert [s.pk for s in live] == [mine.pk]
    revoked_only = shown(admin_web.get(CHANGELIST, {"state": "revoked"}))
    assert [s.pk for s in revoked_only] == [revoked.pk]
    api = shown(admin_web.get(CHANGELIST, {"kind__exact": "api"}))
    assert {s.pk for s in api} == {mine.pk, revoked.pk, other.pk}
    # The selected user is named in the filter.
    assert "alice@example.com" in admin_web.get(CHANGELIST, {"user": user.pk}).content.decode()


def test_expired_state_filter(admin_web, user):
    old = session_open(user=user, client=CLIENT).session
    DeviceSession.objects.filter(pk=old.pk).update(expires_at=old.created_at - timedelta(days=1))
    assert [s.pk for s in shown(admin_web.get(CHANGELIST, {"state": "expired"}))] == [old.pk]


def test_search_by_phone_in_any_form(admin_web, make_user):
    phone_user = make_user(phone="+919876543210")
    session = session_open(user=phone_user, client=CLIENT).session
    session_open(user=make_user(phone="+919876543211"), client=CLIENT)
    assert [s.pk for s in shown(admin_web.get(CHANGELIST, {"q": "+91 98765 43210"}))] == [
        session.pk
    ]


def test_revoke_action_ends_the_session(admin_web, user, auth_client):
    other = session_open(user=user, client=CLIENT)
    current = auth_client.token_pair.session

    response = action(admin_web, CHANGELIST, "revoke", [current.pk])

    assert any("1 session revoked" in m for m in page_messages(response))
    assert_error(auth_client.get("/api/v1/auth/me"), 401, "token_invalid")
    auth_client.credentials(HTTP_AUTHORIZATION=f"Bearer {other.access}")
    assert_ok(auth_client.get("/api/v1/auth/me"))  # only the selected session


def test_sessions_are_read_only_and_show_no_token_ids(admin_web, user):
    session = session_open(user=user, client=CLIENT).session
    change_url = reverse("admin:accounts_devicesession_change", args=[session.pk])
    assert admin_web.get(reverse("admin:accounts_devicesession_add")).status_code == 403
    page = admin_web.get(change_url)
    assert page.status_code == 200
    assert session.refresh_jti not in page.content.decode()
    assert admin_web.post(change_url, {"kind": "web"}).status_code == 403
    choices = dict(admin_web.get(CHANGELIST).context["action_form"].fields["action"].choices)
    assert "revoke" in choices
    assert "delete_selected" not in choices
