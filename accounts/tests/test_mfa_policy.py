"""The second-factor policy (SPEC §16.5): staff reach no admin page without a
second factor (MFA_REQUIRED_FOR_STAFF, on by default); MFA_REQUIRED makes
every account add one before anything else, on the pages and the API."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.helpers import assert_error, assert_ok, with_second_factor
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    return make_user(email="staff@example.com", is_staff=True, is_superuser=True)


def test_staff_without_a_second_factor_are_led_to_add_one_before_any_admin_page(staff):
    client = Client()
    client.force_login(staff)
    for path in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{staff.pk}/change/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/mfa/?next=")
    # Signing out of the admin still works.
    assert client.post("/admin/logout/").status_code in (200, 302)


def test_staff_with_a_second_factor_reach_the_admin(staff):
    with_second_factor(staff)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_without_the_staff_policy_staff_reach_the_admin_with_one_factor(staff, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_the_staff_policy_leaves_other_accounts_alone(user):
    client = Client()
    client.force_login(user)
    assert client.get("/profile/").status_code == 200


def test_mfa_required_sends_every_page_to_the_setup(user, settings):
    settings.MFA_REQUIRED = True
    client = Client()
    client.force_login(user)
    response = client.get("/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/mfa/?next=%2Fprofile%2F"


def test_mfa_required_answers_403_on_the_api_but_the_setup_endpoints(user, api_client, settings):
    settings.MFA_REQUIRED = True
    session = assert_ok(
        api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        )
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    for path in ("/api/v1/profile", "/api/v1/auth/sessions", "/api/v1/auth/events"):
        assert_error(api_client.get(path), 403, "mfa_setup_required")
    assert_ok(api_client.get("/api/v1/auth/mfa"))
    assert_ok(api_client.post("/api/v1/auth/mfa/totp/setup", format="json"))
    # Once a factor is on, everything opens.
    assert_ok(api_client.post("/api/v1/auth/mfa/code", format="json"))
    assert_ok(api_client.get("/api/v1/profile"))
