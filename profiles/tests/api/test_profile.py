"""GET / POST / PUT / PATCH / DELETE /api/v1/profile through the HTTP stack (SPEC §5.4)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse

from accounts.models import DeviceSession, User
from authsite import clock as clock_module
from conftest import CommitAPIClient
from profiles.models import Profile
from profiles.services import ACCOUNT_FIELDS, EDITABLE_FIELDS

pytestmark = pytest.mark.django_db

URL = "/api/v1/profile"

EMPTY = {
    "first_name": "",
    "last_name": "",
    "company": "",
    "city": "",
    "state": "",
    "country": "",
    "gender": "unspecified",
    "date_of_birth": None,
    "bio": "",
    "preferences": [],
    "attributes": {},
}

FULL = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Analytical Engines Ltd",
    "city": "Zürich 🌧",
    "state": "Greater London",
    "country": "GB",
    "gender": "female",
    "date_of_birth": "1990-12-10",
    "bio": "Poet of science.\nSecond line.",
    "preferences": ["tea", "long walks"],
    "attributes": {
        "profile_by": "self",
        "mat_status": "single",
        "religion": "none",
        "caste": "",
        "nested": {"list": [1, 2.5, True, None]},
    },
}


def send(client, method: str, body=None, **extra):
    return getattr(client, method)(URL, body, format="json", **extra)


def send_raw(client, method: str, raw: str):
    return getattr(client, method)(URL, data=raw, content_type="application/json")


def assert_ok(response, message: str) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["message"] == message
    assert "code" not in body
    assert set(body["data"]) == {
        *EDITABLE_FIELDS,
        *ACCOUNT_FIELDS,
        "email",
        "phone",
        "username",
        "updated_at",
    }
    return body["data"]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert body["code"] == code
    assert body["message"]
    assert "data" not in body
    return body


def editable(data: dict) -> dict:
    return {field: data[field] for field in EDITABLE_FIELDS}


def signed_in(user) -> CommitAPIClient:
    from accounts.services.tokens import session_open
    from authsite.client import ClientInfo

    pair = session_open(user=user, client=ClientInfo(ip="127.0.0.1", user_agent="pytest"))
    client = CommitAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    return client


def test_url_is_namespaced():
    assert reverse("profiles_api:profile") == URL


# --- Reading ----------------------------------------------------------------


def test_get_answers_the_new_users_empty_profile_and_account_identifiers(auth_client, user):
    data = assert_ok(auth_client.get(URL), "Your profile.")
    assert editable(data) == EMPTY
    assert data["email"] == "alice@example.com"
    assert data["phone"] is None
    assert data["username"] is None
    assert data["updated_at"]


def test_get_uses_at_most_two_queries(auth_client, django_assert_max_num_queries):
    send(auth_client, "patch", {"first_name": "Ada"})
    with django_assert_max_num_queries(2):
        data = assert_ok(auth_client.get(URL), "Your profile.")
    assert data["first_name"] == "Ada"


def test_user_without_a_profile_reads_empty_and_first_write_creates_it(db):
    # Users are always created with a profile; one made around the service
    # must not break the endpoint.
    bare = User.objects.create(email="bare@example.com")
    client = signed_in(bare)
    data = assert_ok(client.get(URL), "Your profile.")
    assert editable(data) == EMPTY
    assert data["updated_at"] is None
    assert not Profile.objects.filter(user=bare).exists()

    data = assert_ok(send(client, "patch", {"city": "Pune"}), "Profile updated.")
    assert data["city"] == "Pune"
    assert Profile.objects.get(user=bare).city == "Pune"


# --- Writing ----------------------------------------------------------------


@pytest.mark.parametrize("field", EDITABLE_FIELDS)
def test_each_field_round_trips_post_then_get(auth_client, field):
    data = assert_ok(send(auth_client, "post", {field: FULL[field]}), "Profile updated.")
    assert data[field] == FULL[field]
    data = assert_ok(auth_client.get(URL), "Your profile.")
    assert data[field] == FULL[field]


@pytest.mark.parametrize("method", ["post", "put"])
def test_every_field_round_trips_together(auth_client, user, method):
    data = assert_ok(send(auth_client, method, FULL), "Profile updated.")
    assert editable(data) == FULL
    assert editable(assert_ok(auth_client.get(URL), "Your profile.")) == FULL
    profile = Profile.objects.get(user=user)
    assert profile.city == "Zürich 🌧"
    assert profile.date_of_birth == datetime.date(1990, 12, 10)
    assert profile.attributes == FULL["attributes"]


@pytest.mark.parametrize("method", ["post", "put"])
def test_post_and_put_replace_every_field_and_empty_those_not_sent(auth_client, method):
    send(auth_client, "put", FULL)
    data = assert_ok(send(auth_client, method, {"city": "Pune"}), "Profile updated.")
    assert editable(data) == {**EMPTY, "city": "Pune"}
    assert editable(assert_ok(auth_client.get(URL), "Your profile.")) == {**EMPTY, "city": "Pune"}


def test_put_with_an_empty_object_empties_the_profile(auth_client):
    send(auth_client, "put", FULL)
    data = assert_ok(send(auth_client, "put", {}), "Profile updated.")
    assert editable(data) == EMPTY


def test_patch_changes_only_the_given_field(auth_client, user):
    send(auth_client, "put", FULL)
    data = assert_ok(send(auth_client, "patch", {"last_name": "Byron"}), "Profile updated.")
    assert editable(data) == {**FULL, "last_name": "Byron"}
    assert editable(assert_ok(auth_client.get(URL), "Your profile.")) == {
        **FULL,
        "last_name": "Byron",
    }
    assert Profile.objects.get(user=user).first_name == "Ada"


def test_patch_with_null_empties_that_field_only(auth_client):
    send(auth_client, "put", FULL)
    body = {"date_of_birth": None, "gender": None, "preferences": None, "attributes": None}
    data = assert_ok(send(auth_client, "patch", body), "Profile updated.")
    assert editable(data) == {
        **FULL,
        "date_of_birth": None,
        "gender": "unspecified",
        "preferences": [],
        "attributes": {},
    }


def test_values_are_normalised_by_the_profile_rules(auth_client):
    body = {"first_name": "  Ada  ", "gender": " Female ", "preferences": ["a", " a ", "", "b"]}
    data = assert_ok(send(auth_client, "patch", body), "Profile updated.")
    assert data["first_name"] == "Ada"
    assert data["gender"] == "female"
    assert data["preferences"] == ["a", "b"]


def test_delete_empties_every_field_and_keeps_the_profile(auth_client, user):
    send(auth_client, "put", FULL)
    data = assert_ok(auth_client.delete(URL), "Profile emptied.")
    assert editable(data) == EMPTY
    assert data["email"] == "alice@example.com"
    profile = Profile.objects.get(user=user)
    assert profile.first_name == ""
    assert profile.date_of_birth is None
    assert profile.attributes == {}
    assert editable(assert_ok(auth_client.get(URL), "Your profile.")) == EMPTY


def test_delete_ignores_a_body(auth_client):
    send(auth_client, "put", FULL)
    data = assert_ok(send(auth_client, "delete", {"first_name": "Kept?"}), "Profile emptied.")
    assert editable(data) == EMPTY


def test_unknown_fields_are_ignored(auth_client):
    data = assert_ok(
        send(auth_client, "patch", {"city": "Pune", "password": "x", "is_staff": True}),
        "Profile updated.",
    )
    assert data["city"] == "Pune"
    assert "password" not in data
    assert "is_staff" not in data


# --- Read-only account fields -------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_account_identifiers_are_read_only_through_the_profile(make_user, method):
    owner = make_user(email="carol@example.com", phone="+919876543210", username="carol")
    client = signed_in(owner)
    body = {
        "email": "mallory@example.com",
        "phone": "+919812345678",
        "username": "mallory",
        "updated_at": "2000-01-01T00:00:00Z",
        "city": "Pune",
    }
    data = assert_ok(send(client, method, body), "Profile updated.")
    assert data["city"] == "Pune"
    assert (data["email"], data["phone"], data["username"]) == (
        "carol@example.com",
        "+919876543210",
        "carol",
    )
    assert not data["updated_at"].startswith("2000")
    owner.refresh_from_db()
    assert (owner.email, owner.phone, owner.username) == (
        "carol@example.com",
        "+919876543210",
        "carol",
    )
    assert not User.objects.filter(email="mallory@example.com").exists()
    assert not User.objects.filter(username="mallory").exists()


# --- Validation ---------------------------------------------------------------

TODAY = "today"
TOMORROW = "tomorrow"

INVALID = [
    pytest.param({"date_of_birth": TOMORROW}, "date_of_birth", id="birth-date-in-future"),
    pytest.param({"date_of_birth": TODAY}, "date_of_birth", id="birth-date-today"),
    pytest.param({"date_of_birth": "1899-12-31"}, "date_of_birth", id="birth-date-before-1900"),
    pytest.param({"date_of_birth": "2001-02-30"}, "date_of_birth", id="birth-date-impossible"),
    pytest.param({"date_of_birth": "10/12/1990"}, "date_of_birth", id="birth-date-not-iso"),
    pytest.param({"date_of_birth": 5}, "date_of_birth", id="birth-date-number"),
    pytest.param({"date_of_birth": ["1990-01-01"]}, "date_of_birth", id="birth-date-list"),
    pytest.param({"gender": "robot"}, "gender", id="gender-unknown"),
    pytest.param({"gender": 5}, "gender", id="gender-number"),
    pytest.param({"gender": {"x": 1}}, "gender", id="gender-object"),
    pytest.param({"attributes": {"blob": "x" * 10240}}, "attributes", id="attributes-10kb"),
    pytest.param({"attributes": [1]}, "attributes", id="attributes-list"),
    pytest.param({"attributes": "x"}, "attributes", id="attributes-string"),
    pytest.param({"attributes": 3}, "attributes", id="attributes-number"),
    pytest.param({"preferences": [f"p{i}" for i in range(51)]}, "preferences", id="51-prefs"),
    pytest.param({"preferences": ["x" * 51]}, "preferences", id="preference-51-chars"),
    pytest.param({"preferences": "x"}, "preferences", id="preferences-string"),
    pytest.param({"preferences": {"a": "b"}}, "preferences", id="preferences-object"),
    pytest.param({"preferences": [1, 2]}, "preferences", id="preferences-numbers"),
    pytest.param({"preferences": [["a"]]}, "preferences", id="preferences-nested"),
    pytest.param({"first_name": 12}, "first_name", id="first-name-number"),
    pytest.param({"first_name": True}, "first_name", id="first-name-bool"),
    pytest.param({"last_name": ["a"]}, "last_name", id="last-name-list"),
    pytest.param({"company": {"a": 1}}, "company", id="company-object"),
    pytest.param({"first_name": "x" * 151}, "first_name", id="first-name-151-chars"),
    pytest.param({"bio": "x" * 2001}, "bio", id="bio-2001-chars"),
]


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize(("body", "field"), INVALID)
def test_invalid_field_is_a_validation_error_and_changes_nothing(
    auth_client, user, clock, method, body, field
):
    send(auth_client, "put", FULL)
    today = clock_module.now().date()
    dates = {TODAY: today.isoformat(), TOMORROW: (today + datetime.timedelta(days=1)).isoformat()}
    body = {
        key: dates.get(value, value) if isinstance(value, str) else value
        for key, value in body.items()
    }
    # A valid field sent alongside is not saved either: the request is all or nothing.
    valid = {"city": "Pune"} if field != "city" else {"country": "IN"}

    error = assert_error(send(auth_client, method, {**valid, **body}), 400, "validation_error")

    assert list(error["errors"]) == [field]
    assert error["errors"][field] and all(isinstance(m, str) for m in error["errors"][field])
    assert editable(assert_ok(auth_client.get(URL), "Your profile.")) == FULL


def test_every_invalid_field_is_reported_at_once(auth_client):
    body = {"gender": "robot", "preferences": "x", "attributes": [1], "first_name": 12}
    error = assert_error(send(auth_client, "patch", body), 400, "validation_error")
    assert set(error["errors"]) == {"gender", "preferences", "attributes", "first_name"}


def test_yesterday_is_a_valid_birth_date(auth_client, clock):
    yesterday = (clock_module.now().date() - datetime.timedelta(days=1)).isoformat()
    data = assert_ok(send(auth_client, "patch", {"date_of_birth": yesterday}), "Profile updated.")
    assert data["date_of_birth"] == yesterday


def test_limits_themselves_are_accepted(auth_client):
    body = {
        "preferences": [f"{i:02d}" + "x" * 48 for i in range(50)],
        "first_name": "x" * 150,
        "attributes": {"blob": "x" * 4000},
    }
    data = assert_ok(send(auth_client, "patch", body), "Profile updated.")
    assert len(data["preferences"]) == 50
    assert data["first_name"] == "x" * 150


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize("raw", ['[{"city": "Pune"}]', '"city"', "12", "null", "true"], ids=str)
def test_a_body_that_is_not_a_json_object_is_a_validation_error(auth_client, method, raw):
    send(auth_client, "put", FULL)
    error = assert_error(send_raw(auth_client, method, raw), 400, "validation_error")
    assert list(error["errors"]) == ["non_field_errors"]
    assert editable(assert_ok(auth_client.get(URL), "Your profile.")) == FULL


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize("raw", ['{"city": "Pune"', "{city: 1}", '{"a": NaN}', "\ufeff{"], ids=str)
def test_malformed_json_is_a_validation_error(auth_client, method, raw):
    error = assert_error(send_raw(auth_client, method, raw), 400, "validation_error")
    assert list(error["errors"]) == ["non_field_errors"]


# Python's JSON parser accepts these, but they cannot be stored or sent back.
# The project's parser refuses them for every endpoint (the body as a whole);
# profile_clean refuses attributes nested deeper than its own limit (the field).
# Either way a 400, never a 500 from the database or the renderer.
BODY = "non_field_errors"
UNSTORABLE = [
    pytest.param('{"first_name": "\\ud800"}', BODY, id="lone-surrogate-in-text"),
    pytest.param('{"bio": "ok \\udfff ok"}', BODY, id="lone-low-surrogate-in-text"),
    pytest.param('{"preferences": ["\\ud800"]}', BODY, id="lone-surrogate-in-list"),
    pytest.param('{"attributes": {"k": "\\ud800"}}', BODY, id="lone-surrogate-value"),
    pytest.param('{"attributes": {"\\ud800": 1}}', BODY, id="lone-surrogate-key"),
    pytest.param('{"attributes": {"n": 1e999}}', BODY, id="number-overflows-float"),
    pytest.param('{"attributes": {"n": [-1e999]}}', BODY, id="negative-overflow"),
    pytest.param(
        '{"attributes": ' + '{"a":' * 21 + "1" + "}" * 21 + "}", "attributes", id="21-levels"
    ),
    pytest.param('{"attributes": {"a": ' + "[" * 31 + "]" * 31 + "}}", BODY, id="32-levels"),
    pytest.param('{"attributes": {"a": ' + "[" * 600 + "]" * 600 + "}}", BODY, id="600-levels"),
]


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize(("raw", "field"), UNSTORABLE)
def test_values_json_allows_but_storage_cannot_take_are_refused(auth_client, method, raw, field):
    send(auth_client, "put", FULL)
    error = assert_error(send_raw(auth_client, method, raw), 400, "validation_error")
    assert list(error["errors"]) == [field]
    assert editable(assert_ok(auth_client.get(URL), "Your profile.")) == FULL


@pytest.mark.parametrize(
    ("field", "value"),
    [("first_name", "Ann\x00"), ("city", "Pu\x07ne"), ("preferences", ["ok", "b\x00d"])],
)
def test_control_characters_are_field_errors(auth_client, field, value):
    error = assert_error(send(auth_client, "patch", {field: value}), 400, "validation_error")
    assert list(error["errors"]) == [field]


def test_line_breaks_are_allowed_in_the_bio(auth_client):
    data = assert_ok(send(auth_client, "patch", {"bio": "one\ntwo\tthree"}), "Profile updated.")
    assert data["bio"] == "one\ntwo\tthree"


def test_20_levels_of_nesting_are_accepted(auth_client):
    attributes = {"a": 1}
    for _level in range(19):
        attributes = {"a": attributes}
    data = assert_ok(send(auth_client, "patch", {"attributes": attributes}), "Profile updated.")
    assert data["attributes"] == attributes


@pytest.mark.parametrize("raw", ["[" * 100_000, '{"attributes": ' + "[" * 5000], ids=len)
def test_json_nested_beyond_the_parser_is_a_validation_error(auth_client, raw):
    error = assert_error(send_raw(auth_client, "patch", raw), 400, "validation_error")
    assert list(error["errors"]) == ["non_field_errors"]


def test_a_form_encoded_body_is_refused(auth_client):
    response = auth_client.patch(URL, "city=Pune", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


# --- Authentication -------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_unauthenticated_is_401_not_authenticated(api_client, user, method):
    response = send(api_client, method, {"city": "Pune"})
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Profile.objects.get(user=user).city == ""


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_a_forged_bearer_is_401_token_invalid(auth_client, user, method):
    header, payload, _signature = auth_client.token_pair.access.split(".")
    auth_client.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.Zm9yZ2Vk")
    assert_error(send(auth_client, method, {"city": "Pune"}), 401, "token_invalid")
    assert Profile.objects.get(user=user).city == ""


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_a_bearer_that_is_no_jwt_is_401_not_authenticated(api_client, user, method):
    # SPEC §5.1: "no or malformed bearer token".
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert_error(send(api_client, method, {"city": "Pune"}), 401, "not_authenticated")
    assert Profile.objects.get(user=user).city == ""


def test_a_revoked_session_is_401_token_invalid(auth_client, user):
    DeviceSession.objects.filter(pk=auth_client.token_pair.session.pk).update(
        revoked_at=clock_module.now()
    )
    assert_error(send(auth_client, "patch", {"city": "Pune"}), 401, "token_invalid")
    assert Profile.objects.get(user=user).city == ""


def test_a_refresh_token_is_no_bearer(api_client, auth_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {auth_client.token_pair.refresh}")
    assert_error(api_client.get(URL), 401, "token_invalid")


# --- Isolation --------------------------------------------------------------------


def test_each_user_sees_and_changes_only_their_own_profile(auth_client, user, make_user):
    bob = make_user(email="bob@example.com")
    bob_client = signed_in(bob)
    send(bob_client, "put", {**FULL, "first_name": "Bob"})

    alice_view = assert_ok(auth_client.get(URL), "Your profile.")
    assert alice_view["email"] == "alice@example.com"
    assert editable(alice_view) == EMPTY

    send(auth_client, "patch", {"first_name": "Alice"})
    send(auth_client, "delete")
    send(auth_client, "put", {"city": "Pune"})

    bob_view = assert_ok(bob_client.get(URL), "Your profile.")
    assert bob_view["email"] == "bob@example.com"
    assert editable(bob_view) == {**FULL, "first_name": "Bob"}
    assert Profile.objects.get(user=bob).first_name == "Bob"
    assert Profile.objects.get(user=user).city == "Pune"


def test_the_response_is_json_serialisable_as_sent(auth_client):
    # Non-ASCII and nested JSON survive storage on every database.
    attributes = {"名前": "値", "deep": {"a": {"b": [None, False, 1e3]}}}
    assert_ok(send(auth_client, "patch", {"attributes": attributes}), "Profile updated.")
    data = assert_ok(auth_client.get(URL), "Your profile.")
    assert json.dumps(data["attributes"], sort_keys=True) == json.dumps(attributes, sort_keys=True)
