"""Every profile answer is written by one shared ``ProfileOutputSerializer``
(``profiles/api/views.py``, issue 21): it must answer exactly what a fresh
serializer per answer would, for every kind of value, and keep nothing from
one answer to the next."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from profiles.api.serializers import ProfileOutputSerializer
from profiles.api.views import _PROFILE_OUTPUT, _profile_data
from profiles.models import Profile

pytestmark = pytest.mark.django_db

FILLED = {
    "first_name": "Asha",
    "last_name": "Rao",
    "company": "Acme",
    "city": "Pune",
    "state": "MH",
    "country": "IN",
    "gender": "female",
    "date_of_birth": dt.date(1990, 2, 28),
    "bio": 'Line one\nline two, "quoted" ✓',
    "preferences": ["dark", "sms"],
    "attributes": {"team": "blue", "n": 3, "nested": {"a": [1, None]}},
}


@pytest.fixture
def accounts(make_user):
    with_email = make_user(email="asha@example.com", username="asha")
    with_phone = make_user(phone="+919876543210", verified=False)
    with_phone.language = "hi"
    with_phone.save(update_fields=["language"])
    return with_email, with_phone


def _fresh(profile: Profile) -> dict:
    return json.loads(json.dumps(ProfileOutputSerializer(profile).data))


def _shared(profile: Profile, user) -> dict:
    return json.loads(json.dumps(_profile_data(profile, user)))


@pytest.mark.parametrize("values", [{}, FILLED])
def test_the_shared_serializer_answers_what_a_fresh_one_does(accounts, values):
    for user in accounts:
        profile, _ = Profile.objects.get_or_create(user=user)
        for field, value in values.items():
            setattr(profile, field, value)
        profile.save()
        profile.refresh_from_db()
        profile.user = user
        expected = _fresh(profile)
        assert _shared(profile, user) == expected
        assert list(_profile_data(profile, user)) == list(expected)  # the same order


def test_nothing_is_kept_from_one_answer_to_the_next(accounts):
    first, second = accounts
    one, _ = Profile.objects.get_or_create(user=first)
    for field, value in FILLED.items():
        setattr(one, field, value)
    one.save()
    two, _ = Profile.objects.get_or_create(user=second)
    assert _shared(one, first)["first_name"] == "Asha"
    answer = _shared(two, second)
    assert answer["first_name"] == ""
    assert answer["email"] is None
    assert answer["phone"] == "+919876543210"
    assert answer["language"] == "hi"
    assert answer == _fresh(two)
    # The shared instance holds no data of its own.
    assert not hasattr(_PROFILE_OUTPUT, "_data")
    assert _PROFILE_OUTPUT.instance is None


def test_the_api_answers_with_it(auth_client, user):
    response = auth_client.patch("/api/v1/profile", {"city": "Delhi"}, format="json")
    assert response.status_code == 200, response.content
    profile = Profile.objects.get(user=user)
    profile.user = user
    assert response.json()["data"] == _fresh(profile)
