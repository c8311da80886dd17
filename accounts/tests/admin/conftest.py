"""Fixtures for the admin tests: a signed-in staff superuser with a second
factor (MFA_REQUIRED_FOR_STAFF is on by default: staff without one reach no
admin page)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.helpers import with_second_factor


@pytest.fixture
def staff(make_user):
    return with_second_factor(
        make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    )


@pytest.fixture
def admin_web(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client
