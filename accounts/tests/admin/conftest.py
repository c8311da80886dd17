"""Fixtures for the admin tests: a signed-in staff superuser."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def staff(make_user):
    return make_user(email="staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_web(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client
