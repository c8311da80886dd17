"""Staff and passkeys (issue 16, SPEC §17): a user's passkeys are listed with
their name, dates and authenticator model, never their key; staff remove one
through the service (an event, a notice to the owner), not the stock delete."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Authenticator, Passkey, SecurityEvent
from accounts.tests.admin.support import action, changelist_queries, page_messages
from accounts.tests.api.test_passkeys import register, signed_in
from accounts.tests.helpers import assert_error
from authsite.testing.webauthn import SoftAuthenticator
from conftest import PASSKEY_ORIGIN as ORIGIN

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relying_party")]

CHANGELIST = reverse("admin:accounts_passkey_changelist")
API = "/api/v1/auth"


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


@pytest.fixture
def passkey(user, authenticator, mailoutbox):
    client = signed_in(user)
    added = register(client, authenticator, name="Work laptop")
    mailoutbox.clear()
    return Passkey.objects.select_related("authenticator").get(pk=added["id"])


def test_the_user_page_lists_passkeys_by_name_and_links_to_them(admin_web, user, passkey):
    page = admin_web.get(reverse("admin:accounts_user_change", args=[user.pk]))
    html = page.content.decode()
    assert "Work laptop" in html
    assert f"{CHANGELIST}?user={user.pk}" in html


def test_the_list_shows_name_dates_and_aaguid_never_the_key(admin_web, user, passkey):
    response = admin_web.get(f"{CHANGELIST}?user={user.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Work laptop" in html
    assert passkey.aaguid in html
    assert list(response.context["cl"].result_list) == [passkey]
    detail = admin_web.get(reverse("admin:accounts_passkey_change", args=[passkey.pk]))
    assert detail.status_code == 200
    text = detail.content.decode()
    assert passkey.credential_id not in text
    assert passkey.credential_hash not in text


def test_the_filter_shows_only_that_users_passkeys(admin_web, user, passkey, make_user):
    other = make_user(email="bob@example.com")
    response = admin_web.get(f"{CHANGELIST}?user={other.pk}")
    assert list(response.context["cl"].result_list) == []


def test_staff_remove_a_passkey_with_an_event_and_a_notice(
    admin_web,
    user,
    passkey,
    authenticator,
    api_client,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = action(admin_web, CHANGELIST, "remove", [passkey.pk])
    assert any("1 passkey removed" in m for m in page_messages(response))
    assert not Passkey.objects.exists()
    assert not Authenticator.objects.filter(user=user, kind="webauthn").exists()
    user.refresh_from_db()
    assert not user.mfa_enabled  # the only factor: the recovery codes went with it
    event = SecurityEvent.objects.filter(user=user, kind=SecurityEvent.PASSKEY_REMOVED).get()
    assert event.ip is None  # staff actions carry no client
    [notice] = [m for m in mailoutbox if user.email in m.to]
    assert "Work laptop" in notice.body
    # The passkey no longer signs in.
    options = api_client.post(f"{API}/passkeys/login/options", {}, format="json").json()["data"]
    assert_error(
        api_client.post(
            f"{API}/passkeys/login", {"credential": authenticator.get(options)}, format="json"
        ),
        400,
        "passkey_invalid",
    )


def test_passkeys_are_not_added_changed_or_deleted_by_hand(admin_web, passkey):
    assert admin_web.get(reverse("admin:accounts_passkey_add")).status_code == 403
    change = reverse("admin:accounts_passkey_change", args=[passkey.pk])
    assert admin_web.post(change, {"aaguid": "x"}).status_code == 403
    assert (
        admin_web.get(reverse("admin:accounts_passkey_delete", args=[passkey.pk])).status_code
        == 403
    )
    choices = dict(admin_web.get(CHANGELIST).context["action_form"].fields["action"].choices)
    assert "remove" in choices
    assert "delete_selected" not in choices


def test_deleting_a_user_with_a_passkey_is_not_blocked(admin_web, user, passkey):
    page = admin_web.get(reverse("admin:accounts_user_delete", args=[user.pk]))
    assert page.status_code == 200
    assert not page.context["perms_lacking"]


def test_the_list_costs_the_same_queries_for_any_number_of_rows(
    admin_web, make_user, authenticator
):
    counts, shown = [], []
    for n in (1, 4):
        for i in range(n):
            owner = make_user(email=f"owner{n}-{i}@example.com")
            register(signed_in(owner), SoftAuthenticator(origin=ORIGIN), name=f"key {i}")
        queries, rows = changelist_queries(admin_web, CHANGELIST)
        counts.append(queries)
        shown.append(rows)
    assert shown == [1, 5]
    assert counts[0] == counts[1]
