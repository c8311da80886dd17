"""The password-hashing bulkhead (authsite/hashers.py): a bounded number of
hashes at once per process, a bounded queue behind them, and 503
``service_unavailable`` with ``Retry-After`` for the hash that finds the queue
full — through the API and the pages. Threads, no timing: each test waits for
the state it needs (with a deadline) and asserts what happened, not how long
it took (timing belongs in ``make bench`` / ``make soak``)."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.hashers import make_password

from authsite.hashers import Argon2idPasswordHasher, PasswordHashingBusy, hash_bulkhead
from authsite.testing import env_absent
from authsite.testing.bulkhead import bulkhead_full, wait_for

PASSWORD = "Correct-Horse-9-Battery"


@pytest.fixture
def bulkhead(settings):
    settings.PASSWORD_HASH_CONCURRENCY = 1
    settings.PASSWORD_HASH_QUEUE = 2
    settings.PASSWORD_HASH_RETRY_AFTER = 3
    assert (hash_bulkhead.running, hash_bulkhead.waiting) == (0, 0)
    yield hash_bulkhead
    assert (hash_bulkhead.running, hash_bulkhead.waiting) == (0, 0)


@pytest.fixture
def production_hasher(settings):
    """The production hasher (the tests' own is a cheaper one without the
    bulkhead), with small costs."""
    settings.PASSWORD_HASHERS = ["authsite.hashers.Argon2idPasswordHasher"]
    settings.ARGON2_TIME_COST = 1
    settings.ARGON2_MEMORY_COST = 256
    settings.ARGON2_PARALLELISM = 1


def test_waiters_beyond_the_queue_are_refused_and_the_queue_drains_one_at_a_time(bulkhead):
    inside = []  # how many held a slot at once, seen by each holder
    inside_now = [0]
    count_lock = threading.Lock()
    done = []

    def hash_like():
        with bulkhead.slot():
            with count_lock:
                inside_now[0] += 1
                inside.append(inside_now[0])
            with count_lock:
                inside_now[0] -= 1
        done.append(True)

    with bulkhead.slot():  # the one hash running
        threads = [threading.Thread(target=hash_like) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_for(lambda: bulkhead.waiting == 2, "two hashes waiting")
        with pytest.raises(PasswordHashingBusy) as refused, bulkhead.slot():
            pass
        assert bulkhead.waiting == 2  # the refused one did not join the queue
        assert done == []  # nobody got past the running hash
    for thread in threads:
        thread.join(timeout=10)
    assert done == [True, True]
    assert inside == [1, 1]  # one at a time
    error = refused.value
    assert (error.code, error.status, error.retry_after) == ("service_unavailable", 503, 3)


def test_concurrency_bounds_how_many_run_at_once(bulkhead, settings):
    settings.PASSWORD_HASH_CONCURRENCY = 2
    settings.PASSWORD_HASH_QUEUE = 0
    with bulkhead.slot(), bulkhead.slot():
        assert bulkhead.running == 2
        with pytest.raises(PasswordHashingBusy), bulkhead.slot():
            pass
    with bulkhead.slot():  # free again
        assert bulkhead.running == 1


def test_a_hash_that_fails_gives_its_slot_back(bulkhead):
    with pytest.raises(ZeroDivisionError), bulkhead.slot():
        1 / 0  # noqa: B018
    assert bulkhead.running == 0


def test_the_production_hasher_hashes_and_checks_inside_a_slot(bulkhead, production_hasher):
    hasher = Argon2idPasswordHasher()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    with bulkhead_full(bulkhead):
        with pytest.raises(PasswordHashingBusy):
            hasher.verify(PASSWORD, encoded)
        with pytest.raises(PasswordHashingBusy):
            make_password(PASSWORD)
    assert hasher.verify(PASSWORD, encoded)


@pytest.fixture
def full_bulkhead(bulkhead, production_hasher):
    """Every slot taken and the queue full, until the test ends."""
    with bulkhead_full(bulkhead):
        yield bulkhead


@pytest.mark.django_db
def test_api_sign_in_gets_503_with_retry_after_when_the_queue_is_full(
    user, api_client, full_bulkhead
):
    response = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False
    assert body["code"] == "service_unavailable"
    assert body["request_id"] == response["X-Request-ID"]
    assert response["Retry-After"] == "3"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_token_calls_do_not_wait_for_the_full_bulkhead(auth_client, full_bulkhead):
    response = auth_client.get("/api/v1/auth/me")
    assert response.status_code == 200


@pytest.mark.django_db
def test_page_sign_in_gets_the_503_page_when_the_queue_is_full(user, web_client, full_bulkhead):
    response = web_client.post("/accounts/login/", {"identifier": user.email, "password": PASSWORD})
    assert response.status_code == 503
    assert response["Retry-After"] == "3"
    assert "Try again in a few seconds" in response.content.decode()


@pytest.mark.django_db
def test_page_sign_up_gets_the_503_page_not_a_form_error(web_client, full_bulkhead):
    response = web_client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "3"


@pytest.mark.django_db
def test_sign_in_works_again_once_the_queue_drains(user, api_client, bulkhead, production_hasher):
    with bulkhead_full(bulkhead):
        refused = api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
        )
    assert refused.status_code == 503
    response = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PASSWORD_HASH_CONCURRENCY", "0"),
        ("PASSWORD_HASH_QUEUE", "-1"),
        ("PASSWORD_HASH_RETRY_AFTER", "0"),
        ("PASSWORD_HASH_NICE", "20"),
        ("PASSWORD_HASH_QUEUE", "many"),
    ],
)
def test_start_up_refuses_a_bulkhead_setting_out_of_range_naming_it(name, value):
    from authsite.tests.test_settings import _start

    result = _start({"DEBUG": "true", name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_the_defaults_leave_threads_for_token_calls(monkeypatch, tmp_path):
    """gunicorn.conf.py serves with gthread workers whose threads outnumber
    what sign-ins can hold, hashing and queued (README, "gunicorn")."""
    import importlib.util

    from django.conf import settings as django_settings

    from authsite.settings import base

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    env_absent(monkeypatch, "REQUEST_LOG")  # the file sets it
    spec = importlib.util.spec_from_file_location(
        "authsite_gunicorn_conf_threads", django_settings.BASE_DIR / "gunicorn.conf.py"
    )
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    assert config.worker_class == "authsite.serving.LanedThreadWorker"
    held = base.PASSWORD_HASH_CONCURRENCY + base.PASSWORD_HASH_QUEUE
    assert config.threads - held >= 3
