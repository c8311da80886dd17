"""Codes in the admin: a read-only list, no code, no hash (SPEC §7)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.helpers import with_second_factor
from otp.models import OneTimeCode

from .conftest import EMAIL, PHONE

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(password):
    admin = with_second_factor(
        User.objects.create_superuser(email="root@example.com", password=password)
    )
    client = Client()
    client.force_login(admin)
    return client


def test_changelist_shows_masked_codes_without_code_or_hash(admin_client_, issue):
    by_email = issue(destination=EMAIL)
    by_sms = issue(destination=PHONE)

    response = admin_client_.get(reverse("admin:otp_onetimecode_changelist"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "al***@example.com" in html
    assert "+91******3210" in html
    assert EMAIL not in html and PHONE not in html
    for issued in (by_email, by_sms):
        row = OneTimeCode.objects.get(pk=issued.id)
        assert issued.code not in html
        assert row.code_hash not in html
    assert "code hash" not in html.lower()


def test_search_by_exact_destination(admin_client_, issue):
    issue(destination=EMAIL)
    issue(destination="bob@example.com")
    url = reverse("admin:otp_onetimecode_changelist")

    response = admin_client_.get(url, {"q": EMAIL})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list.values_list("destination", flat=True)) == [EMAIL]
    response = admin_client_.get(url, {"q": "example.com"})  # no browsing by partial address
    assert list(response.context["cl"].result_list) == []


def test_add_is_forbidden(admin_client_):
    response = admin_client_.get(reverse("admin:otp_onetimecode_add"))
    assert response.status_code == 403


def test_change_view_has_no_editable_fields(admin_client_, issue):
    issued = issue()
    url = reverse("admin:otp_onetimecode_change", args=[issued.id])

    response = admin_client_.get(url)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == []
    html = response.content.decode()
    assert issued.code not in html
    assert OneTimeCode.objects.get().code_hash not in html
    assert "al***@example.com" in html and EMAIL not in html

    before = OneTimeCode.objects.values().get()
    response = admin_client_.post(url, {"attempts": 0, "consumed_at": "", "destination": "x@y.z"})
    assert response.status_code == 403
    assert OneTimeCode.objects.values().get() == before


def test_codes_do_not_block_deleting_their_user_in_the_admin(issue, make_user, password):
    """Deleting stays permitted, so the admin can cascade a user's deletion to their codes."""
    from django.contrib import admin
    from django.test import RequestFactory

    root = User.objects.create_superuser(email="root@example.com", password=password)
    bob = make_user(email="bob@example.com")
    issue(destination="new@example.com", purpose="contact_change", user=bob)
    request = RequestFactory().get("/")
    request.user = root

    _to_delete, counts, perms_needed, _protected = admin.site._registry[User].get_deleted_objects(
        [bob], request
    )

    assert counts.get("one-time codes") == 1
    assert "one-time code" not in perms_needed
