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


def test_checked_tries_still_count_and_a_locked_identifier_is_answered_429_when_busy(
    api_client, settings, busy_server, victim
):
    """The fix does not open a door for guesses: wrong passwords that were
    checked lock the account as before. A try on the locked identifier is
    answered 429 at once, busy server or not: it does not wait for (or take)
    a place in the hashing queue that real sign-ins need."""
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert _login(api_client, WRONG, email=VICTIM_EMAIL).status_code == 401
    with busy_server():
        assert _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL).status_code == 429
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


@pytest.mark.django_db(transaction=True)
def test_a_right_password_with_an_old_hash_does_not_wait_for_a_writer_waiting_for_its_slot(
    make_user, settings, monkeypatch
):
    """Found in review of the fix: the slot was held across the save that
    remakes an old hash after a right password. On SQLite a writer holding
    the database's write lock while waiting for a hash slot (a sign-up used to
    hash inside its transaction) and that sign-in waited for each other until
    the lock timed out: the sign-in failed after 20 s, its try counted. The
    slot now covers the count and the check only, and new passwords are hashed
    before their transaction begins."""
    import threading
    import time

    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
    from django.db import connection, transaction

    from accounts.identifiers import EMAIL, Identifier
    from accounts.models import User
    from accounts.services import signin
    from authsite.client import ClientInfo

    settings.PASSWORD_HASHERS = [
        "authsite.hashers.Argon2idPasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_COST, settings.ARGON2_PARALLELISM = 1, 256, 1
    settings.PASSWORD_HASH_CONCURRENCY, settings.PASSWORD_HASH_QUEUE = 1, 1
    user = make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD)
    old = PBKDF2PasswordHasher().encode(VICTIM_PASSWORD, "saltsalt", 1000)
    User.objects.filter(pk=user.pk).update(password=old)
    checking = threading.Event()
    real_verify = PBKDF2PasswordHasher.verify

    def slow_verify(self, password, encoded):
        checking.set()  # the sign-in holds its slot now
        time.sleep(0.5)  # long enough for the writer to take the lock and wait
        return real_verify(self, password, encoded)

    monkeypatch.setattr(PBKDF2PasswordHasher, "verify", slow_verify)
    outcome: dict[str, object] = {}

    def sign_in():
        try:
            signin.password_first_factor(
                identifier=Identifier(EMAIL, VICTIM_EMAIL),
                password=VICTIM_PASSWORD,
                client=ClientInfo(ip="198.51.100.1"),
            )
            outcome["sign_in"] = "ok"
        except Exception as exc:
            outcome["sign_in"] = repr(exc)
        finally:
            connection.close()

    def writer():
        checking.wait(timeout=10)
        try:
            with transaction.atomic():  # the write lock first, then a hash
                User.objects.filter(pk=0).update(password_failures=0)
                make_password("Another-Horse-2-y")
            outcome["writer"] = "ok"
        except Exception as exc:
            outcome["writer"] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in), threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome == {"sign_in": "ok", "writer": "ok"}
    upgraded = User.objects.get(pk=user.pk).password
    assert upgraded.startswith("argon2$") and upgraded != old  # the old hash was remade


def test_a_reset_refused_by_a_busy_server_keeps_its_code(api_client, busy_server, victim):
    """The new password is hashed before the reset code is spent: a reset the
    bulkhead refuses (503) loses nothing, and the same code works after."""
    from accounts.tests.helpers import last_code_for

    forgot = api_client.post("/api/v1/auth/password/forgot", {"email": VICTIM_EMAIL}, format="json")
    assert forgot.status_code == 200, forgot.content
    code = last_code_for(VICTIM_EMAIL)
    body = {"email": VICTIM_EMAIL, "otp": code, "new_password": "Brand-New-Horse-8-x"}
    with busy_server():
        refused = api_client.post("/api/v1/auth/password/reset", body, format="json")
        assert refused.status_code == 503, refused.content
    response = api_client.post("/api/v1/auth/password/reset", body, format="json")
    assert response.status_code == 200, response.content
    assert _login(api_client, "Brand-New-Horse-8-x", email=VICTIM_EMAIL).status_code == 200


def test_an_old_hash_upgrade_never_brings_back_a_password_changed_meanwhile(make_user, settings):
    """The owner changes a stolen password while the thief signs in with the
    old one, whose hash has old parameters. The check passes before the
    change; the upgrade (after the slot, so it may wait for another) must not
    write the old password's new hash over the new password."""
    from django.contrib.auth.hashers import check_password, make_password

    from accounts.models import User
    from accounts.services.lockout import password_matches, password_upgrade
    from accounts.tests.helpers import give_old_password_hash

    user = make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD)
    give_old_password_hash(user, VICTIM_PASSWORD, settings)
    thief_view = User.objects.get(pk=user.pk)
    assert password_matches(thief_view, VICTIM_PASSWORD) == (True, True)
    User.objects.filter(pk=user.pk).update(password=make_password("Owners-New-Horse-9"))
    password_upgrade(thief_view, VICTIM_PASSWORD)
    stored = User.objects.get(pk=user.pk).password
    assert check_password("Owners-New-Horse-9", stored)
    assert not check_password(VICTIM_PASSWORD, stored)


def test_an_old_hash_is_upgraded_when_nothing_changed_meanwhile(make_user, settings):
    from accounts.models import User
    from accounts.services.lockout import password_matches, password_upgrade
    from accounts.tests.helpers import give_old_password_hash

    user = make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD)
    give_old_password_hash(user, VICTIM_PASSWORD, settings)
    assert password_matches(user, VICTIM_PASSWORD) == (True, True)
    password_upgrade(user, VICTIM_PASSWORD)
    stored = User.objects.get(pk=user.pk).password
    assert stored.startswith("argon2$") and stored == user.password
    assert password_matches(user, VICTIM_PASSWORD) == (True, False)


def _owner_resets_right_after_the_check(monkeypatch, user) -> None:
    """The owner's reset (every session revoked, the security version bumped)
    lands just after the thief's right password was checked."""
    from accounts.services import signin
    from accounts.services.password import password_set_by_staff
    from authsite.client import ClientInfo

    check = signin.password_matches

    def check_then_owner_resets(who, password):
        result = check(who, password)
        password_set_by_staff(
            user=type(who).objects.get(pk=user.pk),
            new_password="Owners-New-Horse-9",
            client=ClientInfo(ip="203.0.113.9"),
        )
        return result

    monkeypatch.setattr(signin, "password_matches", check_then_owner_resets)


def test_a_reset_landing_after_the_check_stops_the_sign_in_with_the_old_password(
    api_client, make_user, monkeypatch
):
    """The thief's sign-in with the stolen password passes its check; before
    it opens a session the owner resets the password and every session is
    revoked. The sign-in must not then open a session with the old password
    (the window is widest when an old hash's upgrade waits for a slot)."""
    from accounts.models import DeviceSession

    user = make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD)
    _owner_resets_right_after_the_check(monkeypatch, user)
    response = _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL)
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "invalid_credentials"
    assert not DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_a_reset_landing_after_the_check_stops_the_second_step_too(
    api_client, make_user, monkeypatch
):
    """With a second factor the session is opened minutes later, by the
    second step, whose challenge the reset did not see (it was made after):
    the thief, who has the password and one authenticator code, is still
    stopped."""
    from accounts.models import DeviceSession
    from accounts.tests.helpers import last_code_for, with_second_factor

    user = with_second_factor(make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD))
    _owner_resets_right_after_the_check(monkeypatch, user)
    response = _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL)
    assert response.status_code == 401 and response.json()["code"] == "mfa_required"
    token = response.json()["data"]["mfa_token"]
    sent = api_client.post(
        "/api/v1/auth/mfa/challenge", {"mfa_token": token, "method": "code"}, format="json"
    )
    assert sent.status_code == 200, sent.content
    finished = api_client.post(
        "/api/v1/auth/mfa/verify",
        {"mfa_token": token, "method": "code", "code": last_code_for(VICTIM_EMAIL)},
        format="json",
    )
    assert finished.status_code == 401, finished.content
    assert finished.json()["code"] == "token_invalid"  # what /mfa/verify documents
    assert not DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_a_reset_landing_after_the_check_ends_the_pages_second_step(
    web_client, make_user, monkeypatch
):
    """The same race through the pages: the second step is dead (the page
    says so and sends the browser back to sign in), nobody is signed in."""
    from accounts.tests.helpers import last_code_for, with_second_factor

    user = with_second_factor(make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD))
    _owner_resets_right_after_the_check(monkeypatch, user)
    response = web_client.post(
        "/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD}
    )
    assert response["Location"] == "/accounts/login/mfa/"
    web_client.post("/accounts/login/mfa/", {"action": "send", "method": "code"})
    finished = web_client.post(
        "/accounts/login/mfa/", {"method": "code", "otp": last_code_for(VICTIM_EMAIL)}
    )
    assert finished.status_code == 302 and finished["Location"].startswith("/accounts/login/")
    assert finished["Location"] != "/accounts/login/mfa/"
    assert "_auth_user_id" not in web_client.session


def test_unreadable_identifiers_refused_by_a_busy_server_are_not_counted_either(
    settings, busy_server
):
    """The admin's form takes any text as the identifier; junk there costs and
    counts like an unknown identifier — and, like it, not when refused."""
    from accounts.services.signin import signin_password_unreadable
    from authsite.client import ClientInfo
    from authsite.errors import InvalidCredentials
    from authsite.hashers import PasswordHashingBusy

    client = ClientInfo(ip="198.51.100.4")
    with busy_server():
        for _ in range(settings.LOGIN_FAILURE_LIMIT + 2):
            with pytest.raises(PasswordHashingBusy):
                signin_password_unreadable(raw="not an address!", password=WRONG, client=client)
    with pytest.raises(InvalidCredentials):
        signin_password_unreadable(raw="not an address!", password=WRONG, client=client)


def test_a_right_password_signs_in_when_the_upgrade_of_its_old_hash_is_refused(
    api_client, make_user, settings, monkeypatch
):
    """The upgrade takes a slot of its own after the check; a full bulkhead
    then refuses it. The sign-in has succeeded and stays so; the old hash
    stays until a later sign-in remakes it."""
    from accounts.models import User
    from accounts.services import lockout
    from accounts.tests.helpers import give_old_password_hash
    from authsite.hashers import PasswordHashingBusy

    user = make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD)
    old = give_old_password_hash(user, VICTIM_PASSWORD, settings)

    def busy(password):
        raise PasswordHashingBusy(retry_after=2)

    monkeypatch.setattr(lockout, "make_password", busy)
    response = _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL)
    assert response.status_code == 200, response.content
    assert User.objects.get(pk=user.pk).password == old
    monkeypatch.undo()
    assert _login(api_client, VICTIM_PASSWORD, email=VICTIM_EMAIL).status_code == 200
    assert User.objects.get(pk=user.pk).password != old
