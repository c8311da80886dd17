"""Found by ``make soak`` (2026-12-07): a sign-in refused by the password
bulkhead (503, ``Retry-After``; ``authsite/hashers.py``) had already been
counted by the sign-in lockout, which counts every try before its hash. No
password was checked, yet after ``LOGIN_FAILURE_LIMIT`` refusals the owner's
own right password was answered 429 — so anyone who can make the server busy
(a storm of sign-ins from anywhere) locks real users out of their accounts as
they retry. A try the bulkhead refuses must not count; the tries it lets
through are still counted before their hash (so concurrent guesses cannot
outrun the count: ``test_redteam_lockout_race``)."""

from __future__ import annotations

import pytest

from authsite.hashers import hash_bulkhead
from authsite.testing.bulkhead import bulkhead_full
from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
WRONG = "Not-The-Password-1"


@pytest.fixture
def busy_server(settings):
    """The production hasher behind a bulkhead of one slot and no queue
    (small Argon2 costs); ``full()`` takes that slot from another thread."""
    settings.PASSWORD_HASHERS = ["authsite.hashers.Argon2idPasswordHasher"]
    settings.ARGON2_TIME_COST = 1
    settings.ARGON2_MEMORY_COST = 256
    settings.ARGON2_PARALLELISM = 1
    settings.PASSWORD_HASH_CONCURRENCY = 1
    settings.PASSWORD_HASH_QUEUE = 0
    settings.PASSWORD_HASH_RETRY_AFTER = 2
    assert (hash_bulkhead.running, hash_bulkhead.waiting) == (0, 0)
    yield lambda: bulkhead_full(hash_bulkhead)
    assert (hash_bulkhead.running, hash_bulkhead.waiting) == (0, 0)


@pytest.fixture
def victim(make_user, busy_server):
    # Made after the hasher switch: its hash is the production hasher's.
    return make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD)


def _login(api_client, password: str, **identifier):
    return api_client.post(LOGIN, {**identifier, "password": password}, format="json")


def test_sign_ins_refused_by_a_busy_server_do_not_lock_the_owner_out(
    api_client, web_client, settings, busy_server, victim
):
    with busy_server():
        for _ in range(settings.LOGIN_FAILURE_LIMIT + 2):
            refused = _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL)
            assert refused.status_code == 503, refused.content
            assert refused.json()["code"] == "service_unavailable"
            assert refused["Retry-After"] == "2"
        page = web_client.post(
            "/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD}
        )
        assert page.status_code == 503
    response = _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL)
    assert response.status_code == 200, response.content


def test_refused_tries_under_a_lookalike_or_unknown_identifier_are_not_counted_either(
    api_client, settings, busy_server, victim
):
    """An unknown identifier costs a dummy hash, refused alike: its count, the
    one that answers 429, is not charged for the refusals."""
    with busy_server():
        for _ in range(settings.LOGIN_FAILURE_LIMIT + 2):
            assert _login(api_client, WRONG, email="nobody@example.com").status_code == 503
    assert _login(api_client, WRONG, email="nobody@example.com").status_code == 401


def test_tries_the_bulkhead_lets_through_still_count(api_client, settings, busy_server, victim):
    """The fix does not open a door for guesses: wrong passwords that were
    checked lock the account as before, busy server or not."""
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert _login(api_client, WRONG, email=VICTIM_EMAIL).status_code == 401
    with busy_server():
        assert _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL).status_code in (429, 503)
    assert _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL).status_code == 429


def test_password_confirmations_refused_by_a_busy_server_do_not_lock_the_account(
    api_client, settings, busy_server, victim
):
    """The endpoints that ask for the current password share the sign-in
    lockout; their refused tries are not counted either."""
    signed_in = _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL)
    assert signed_in.status_code == 200, signed_in.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['data']['access']}")
    change = {"current_password": VICTIM_PASSWORD, "new_password": "Brand-New-Horse-8-x"}
    with busy_server():
        for _ in range(settings.LOGIN_FAILURE_LIMIT + 2):
            refused = api_client.post("/api/v1/auth/password/change", change, format="json")
            assert refused.status_code == 503, refused.content
    api_client.credentials()
    assert _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL).status_code == 200
