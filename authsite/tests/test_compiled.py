"""CompiledLookup gives what the ORM gives, in one query, compiled once."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import DeviceSession, User
from accounts.services.tokens import session_open
from authsite import clock
from authsite.client import ClientInfo
from authsite.compiled import CompiledLookup

pytestmark = pytest.mark.django_db

CLIENT = ClientInfo(ip="203.0.113.5", user_agent="Pixel 9")


def session_lookup(**filters) -> CompiledLookup[DeviceSession]:
    return CompiledLookup(
        DeviceSession,
        DeviceSession._meta.pk,
        lambda sid: DeviceSession.objects.select_related("user").filter(pk=sid, **filters),
        stand_in=uuid.UUID(int=(1 << 128) - 1),
    )


def fields_of(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def assert_same_as_orm(found: DeviceSession, sid) -> None:
    expected = DeviceSession.objects.select_related("user").get(pk=sid)
    assert type(found) is DeviceSession
    assert fields_of(found) == fields_of(expected)
    assert fields_of(found.user) == fields_of(expected.user)
    # Converted like the ORM converts: aware datetimes, a UUID, booleans.
    assert found.created_at.tzinfo is not None
    assert found.user.date_joined.tzinfo is not None
    assert isinstance(found.pk, uuid.UUID)
    assert found.user.is_active is True
    assert found._state.adding is False and found._state.db == "default"
    assert found.user._state.db == "default"


@pytest.fixture
def sessions(make_user):
    user = make_user(email="ann@example.com", phone="+919876543210", username="ann")
    live = session_open(user=user, client=CLIENT).session
    revoked = session_open(user=user, client=CLIENT).session
    DeviceSession.objects.filter(pk=revoked.pk).update(
        revoked_at=clock.now(), revoked_reason="logout"
    )
    web = session_open(user=user, client=CLIENT, kind=DeviceSession.WEB).session
    return {"live": live, "revoked": revoked, "web": web}


def test_a_lookup_gives_the_row_the_orm_gives_with_its_user(sessions):
    lookup = session_lookup(kind=DeviceSession.API, revoked_at__isnull=True)
    found = lookup.get(sessions["live"].pk)
    assert_same_as_orm(found, sessions["live"].pk)
    # The user came with the session: reading it costs no query.
    with CaptureQueriesContext(connection) as queries:
        assert found.user.email == "ann@example.com"
    assert len(queries) == 0


def test_the_fixed_filters_hold_for_every_value(sessions):
    live_api = session_lookup(kind=DeviceSession.API, revoked_at__isnull=True)
    api = session_lookup(kind=DeviceSession.API)
    live = session_lookup(revoked_at__isnull=True)
    assert live_api.get(sessions["revoked"].pk) is None
    assert live_api.get(sessions["web"].pk) is None
    assert_same_as_orm(api.get(sessions["revoked"].pk), sessions["revoked"].pk)
    assert api.get(sessions["web"].pk) is None
    assert_same_as_orm(live.get(sessions["web"].pk), sessions["web"].pk)
    assert live.get(sessions["revoked"].pk) is None
    assert live_api.get(uuid.uuid4()) is None
    # The stand-in the SQL was compiled with matches nothing either.
    assert live_api.get(uuid.UUID(int=(1 << 128) - 1)) is None


def test_each_lookup_is_one_query(sessions):
    lookup = session_lookup(kind=DeviceSession.API)
    lookup.get(uuid.uuid4())  # compiles
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert lookup.get(sessions["live"].pk) is not None
    assert len(queries) == 3
    assert "ORDER BY" not in queries[0]["sql"]


def test_an_integer_key_and_a_row_changed_after_compiling(make_user):
    ann = make_user(email="ann@example.com")
    bob = make_user(email="bob@example.com", is_active=False)
    active = CompiledLookup(
        User, User._meta.pk, lambda pk: User.objects.filter(pk=pk, is_active=True), stand_in=-7
    )
    assert active.get(ann.pk).email == "ann@example.com"
    assert active.get(bob.pk) is None
    User.objects.filter(pk=bob.pk).update(is_active=True, last_login=clock.now())
    again = active.get(bob.pk)
    assert fields_of(again) == fields_of(User.objects.get(pk=bob.pk))
    assert again.last_login is not None and again.last_login.tzinfo is not None


def test_a_stand_in_that_is_not_among_the_parameters_falls_back_to_the_orm(make_user, caplog):
    user = make_user(email="ann@example.com")
    other = make_user(email="bob@example.com")
    lookup = CompiledLookup(
        User, User._meta.pk, lambda pk: User.objects.filter(email="ann@example.com"), stand_in=-7
    )
    with caplog.at_level("WARNING", logger="authsite.compiled"):
        assert lookup.get(other.pk) == user  # what the ORM query gives
        assert lookup.get(user.pk) == user
    fallbacks = [r for r in caplog.records if "No compiled plan" in r.getMessage()]
    assert len(fallbacks) == 1  # logged once, not per request


def test_when_django_internals_change_the_lookup_still_answers(sessions, monkeypatch, caplog):
    """A Django upgrade that breaks the compiled plan costs speed, not correctness."""
    import authsite.compiled

    def broken(*args, **kwargs):
        raise AttributeError("klass_info")

    monkeypatch.setattr(authsite.compiled, "get_related_populators", broken)
    lookup = session_lookup(kind=DeviceSession.API, revoked_at__isnull=True)
    with caplog.at_level("WARNING", logger="authsite.compiled"):
        found = lookup.get(sessions["live"].pk)
        assert lookup.get(sessions["revoked"].pk) is None
    assert_same_as_orm(found, sessions["live"].pk)
    assert any("No compiled plan" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_each_thread_runs_the_lookup_on_its_own_connection(sessions):
    lookup = session_lookup(kind=DeviceSession.API, revoked_at__isnull=True)
    sid = sessions["live"].pk
    assert lookup.get(sid) is not None  # compiled on this thread's connection
    found = {}

    def other_thread():
        from django.db import connections

        try:
            found["session"] = lookup.get(sid)
            found["unexpired"] = lookup.get(sid).expires_at > clock.now() - timedelta(days=1)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(10)
    assert_same_as_orm(found["session"], sid)
    assert found["unexpired"] is True


def profile_for_update() -> CompiledLookup:
    from profiles.models import Profile

    return CompiledLookup(
        Profile,
        Profile._meta.get_field("user"),
        lambda user_id: Profile.objects.select_for_update().filter(user_id=user_id),
        stand_in=(1 << 62) + 1,
    )


@pytest.mark.django_db(transaction=True)  # autocommit between the blocks, as in production
def test_a_locking_lookup_refuses_to_run_outside_a_transaction(make_user, caplog):
    # As Django's select_for_update(), on every call: Django checks when it
    # compiles, which a plan does once per connection.
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    user = make_user(email="lock@example.com")
    lookup = profile_for_update()
    with pytest.raises(TransactionManagementError):
        lookup.get(user.pk)  # before any plan
    with transaction.atomic():
        assert lookup.get(user.pk).user_id == user.pk
    with pytest.raises(TransactionManagementError):
        lookup.get(user.pk)  # with the plan made
    # Refused, not pinned to the ORM with a warning about Django's internals.
    assert "No compiled plan" not in caplog.text
    from django.db import connections

    from authsite.compiled import _Plan

    assert isinstance(lookup._plans[connections["default"]], _Plan)


class _RecordingRouter:
    calls: list[str] = []

    def db_for_read(self, model, **hints):
        self.calls.append("read")

    def db_for_write(self, model, **hints):
        self.calls.append("write")


def test_a_locking_lookup_reads_from_the_database_that_takes_the_writes(make_user, settings):
    from django.db import transaction

    user = make_user(email="route@example.com")
    settings.DATABASE_ROUTERS = [f"{__name__}._RecordingRouter"]
    from django.db import router

    router.routers = [_RecordingRouter()]  # the setting is read once; a fresh list
    _RecordingRouter.calls.clear()
    try:
        with transaction.atomic():
            profile_for_update().get(user.pk)
        assert _RecordingRouter.calls[:1] == ["write"]
        _RecordingRouter.calls.clear()
        session_lookup().get(uuid.uuid4())
        assert _RecordingRouter.calls[:1] == ["read"]
    finally:
        del router.routers
