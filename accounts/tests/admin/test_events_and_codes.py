"""The security-event admin and the code admin (SPEC §7): read-only lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import SecurityEvent
from accounts.services.events import event_record
from accounts.tests.admin.support import changelist_queries
from accounts.tests.helpers import last_code_for
from authsite import clock
from authsite.client import ClientInfo
from otp import services as otp
from otp.models import OneTimeCode

pytestmark = pytest.mark.django_db

EVENTS = reverse("admin:accounts_securityevent_changelist")
CODES = reverse("admin:otp_onetimecode_changelist")
CLIENT = ClientInfo(ip="10.0.0.7", user_agent="pytest")


def shown(response) -> list:
    return list(response.context["cl"].result_list)


# --- security events ---------------------------------------------------------------------


def test_event_changelist_costs_the_same_queries_for_1_and_30_rows(admin_web, make_user):
    event_record(kind=SecurityEvent.SIGNUP, user=make_user(email="u0@example.com"), client=CLIENT)
    url = f"{EVENTS}?kind__exact=signup"
    one_row, rows = changelist_queries(admin_web, url)
    assert rows == 1
    for i in range(1, 30):
        user = make_user(email=f"u{i}@example.com")
        event_record(kind=SecurityEvent.SIGNUP, user=user, client=CLIENT)
    thirty_rows, rows = changelist_queries(admin_web, url)
    assert rows == 30
    assert thirty_rows == one_row


def test_events_filter_by_kind_user_and_date(admin_web, user, make_user):
    bob = make_user(email="bob@example.com")
    failure = event_record(kind=SecurityEvent.LOGIN_FAILURE, user=user, client=CLIENT)
    event_record(kind=SecurityEvent.LOGIN_SUCCESS, user=bob, client=CLIENT)
    old = event_record(kind=SecurityEvent.LOGIN_FAILURE, user=bob, client=CLIENT)
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=clock.now() - timedelta(days=40))

    failures = shown(admin_web.get(EVENTS, {"kind__exact": "login_failure"}))
    assert {e.pk for e in failures} == {failure.pk, old.pk}
    alices = shown(admin_web.get(EVENTS, {"user": user.pk, "kind__exact": "login_failure"}))
    assert [e.pk for e in alices] == [failure.pk]
    since = (clock.now() - timedelta(days=7)).isoformat()
    recent = shown(
        admin_web.get(EVENTS, {"created_at__gte": since, "kind__exact": "login_failure"})
    )
    assert [e.pk for e in recent] == [failure.pk]
    year = admin_web.get(EVENTS, {"created_at__year": old.created_at.year})
    assert year.status_code == 200  # the date hierarchy


def test_events_search_by_user_address_and_phone_in_any_form(admin_web, make_user):
    phone_user = make_user(phone="+919876543210")
    mine = event_record(kind=SecurityEvent.SIGNUP, user=phone_user, client=CLIENT)
    event_record(kind=SecurityEvent.SIGNUP, user=make_user(email="bob@example.com"), client=CLIENT)
    assert [e.pk for e in shown(admin_web.get(EVENTS, {"q": "9876543210"}))] == [mine.pk]
    assert [e.pk for e in shown(admin_web.get(EVENTS, {"q": "98765 43210"}))] == [mine.pk]
    assert len(shown(admin_web.get(EVENTS, {"q": "bob@example"}))) == 1


def test_events_are_read_only(admin_web, user):
    event = event_record(kind=SecurityEvent.SIGNUP, user=user, client=CLIENT)
    change_url = reverse("admin:accounts_securityevent_change", args=[event.pk])
    assert admin_web.get(reverse("admin:accounts_securityevent_add")).status_code == 403
    assert admin_web.get(change_url).status_code == 200
    assert admin_web.post(change_url, {"kind": "logout"}).status_code == 403
    delete_url = reverse("admin:accounts_securityevent_delete", args=[event.pk])
    assert admin_web.post(delete_url, {"post": "yes"}).status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk, kind="signup").exists()


# --- one-time codes (the otp app's admin, at its admin URL) --------------------------------


def _issue(destination: str) -> None:
    otp.otp_issue(purpose=otp.LOGIN, destination=destination, deliver=False)


def test_code_changelist_costs_the_same_queries_for_1_and_30_rows(admin_web):
    _issue("u0@example.com")
    one_row, rows = changelist_queries(admin_web, CODES)
    assert rows == 1
    for i in range(1, 30):
        _issue(f"u{i}@example.com")
    thirty_rows, rows = changelist_queries(admin_web, CODES)
    assert rows == 30
    assert thirty_rows == one_row


def test_code_admin_cannot_add_or_change_and_never_shows_the_code(
    admin_web, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        otp.otp_issue(purpose=otp.LOGIN, destination="carol@example.com")
    code = last_code_for("carol@example.com")
    row = OneTimeCode.objects.get(destination="carol@example.com")
    change_url = reverse("admin:otp_onetimecode_change", args=[row.pk])

    assert admin_web.get(reverse("admin:otp_onetimecode_add")).status_code == 403
    assert admin_web.post(change_url, {"attempts": "0"}).status_code == 403
    for url in (CODES, change_url):
        html = admin_web.get(url).content.decode()
        assert code not in html
        assert row.code_hash not in html
        assert "carol@example.com" not in html  # the destination is masked
