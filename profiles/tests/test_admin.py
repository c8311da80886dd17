"""The profile admin: staff edit through the same rules as the API."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from authsite import clock as clock_module
from profiles.models import Profile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Production settings use the manifest storage, which needs collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def form_data(**overrides) -> dict:
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "",
        "city": "London",
        "state": "",
        "country": "GB",
        "gender": "female",
        "date_of_birth": "1990-12-10",
        "bio": "",
        "preferences": '["tea", " tea ", "books"]',
        "attributes": '{"profile_by": "self"}',
    }
    data.update(overrides)
    return data


def test_changelist_query_count_does_not_grow_with_the_rows(admin_client, make_user):
    url = reverse("admin:profiles_profile_changelist")
    make_user(email="user0@example.com")
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    for index in range(1, 8):
        make_user(email=f"user{index}@example.com")
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert b"user7@example.com" in response.content
    assert len(many) == len(few)


def test_search_by_account_identifier(admin_client, make_user):
    make_user(email="findme@example.com")
    make_user(email="other@example.com")
    response = admin_client.get(reverse("admin:profiles_profile_changelist"), {"q": "findme"})
    assert b"findme@example.com" in response.content
    assert b"other@example.com" not in response.content


def test_staff_edit_is_saved_normalised(admin_client, user):
    url = reverse("admin:profiles_profile_change", args=[user.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, form_data(first_name="  Ada  "))
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert profile.first_name == "Ada"
    assert profile.preferences == ["tea", "books"]
    assert profile.attributes == {"profile_by": "self"}
    assert profile.date_of_birth == datetime.date(1990, 12, 10)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"date_of_birth": "tomorrow"}, "date_of_birth"),
        ({"preferences": '"x"'}, "preferences"),
        ({"preferences": str([f"p{i}" for i in range(51)]).replace("'", '"')}, "preferences"),
        ({"attributes": "[1]"}, "attributes"),
        ({"attributes": '{"blob": "' + "x" * 5000 + '"}'}, "attributes"),
    ],
)
def test_staff_edit_obeys_the_profile_rules(admin_client, user, overrides, field):
    if overrides.get("date_of_birth") == "tomorrow":
        overrides = {"date_of_birth": str(clock_module.now().date() + datetime.timedelta(days=1))}
    url = reverse("admin:profiles_profile_change", args=[user.pk])
    response = admin_client.post(url, form_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Profile.objects.get(user=user).first_name == ""


def test_profiles_are_neither_added_nor_deleted_here(admin_client, user):
    assert admin_client.get(reverse("admin:profiles_profile_add")).status_code == 403
    url = reverse("admin:profiles_profile_delete", args=[user.pk])
    assert admin_client.get(url).status_code == 403
