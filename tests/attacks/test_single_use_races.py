"""Single-use things spent twice at the same moment, on MariaDB as on
SQLite. Guards of properties that held when an attacker's pass tried them
(each test fails if its "exactly once" is ever done as read-then-write):

- one password-reset code spent by two resets with two different new
  passwords: one reset, the other a clear ``otp_invalid``, and the stored
  password the winner's;
- one TOTP code given to the second steps of two sign-ins (a phished code
  replayed by the thief while its owner uses it): one session;
- one ``mfa_token`` completed at once with two different right factors:
  one session;
- two accounts confirming a change to the same new address at once: the
  address goes to one of them, the other is told ``otp_invalid`` (never a
  500 or a deadlock);
- a new email and a new phone of one account confirmed at once: both land
  (fails on both databases with a full save in place of ``update_fields``);
- a burst of requests over a per-IP rate (SPEC §11), counted in the shared
  cache: no more pass than the rate allows.

Each of the first four fails on MariaDB when its conditional UPDATE (or the
address's unique key being answered) is taken away; on SQLite, whose write
lock makes a code's read and write one turn, the reset one holds anyway.
"""

from __future__ import annotations

import contextlib
import threading

import pyotp
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.test import RequestFactory

from accounts.crypto import secret_encrypt
from accounts.identifiers import EMAIL, PHONE, Identifier
from accounts.models import Authenticator, DeviceSession, SecurityEvent, User
from accounts.services import contact, mfa, password, signin
from accounts.tests.helpers import last_code_for
from accounts.tests.services.support import CLIENT, PASSWORD, delivered
from authsite import clock
from authsite.errors import MfaRequired, OtpInvalid, RateLimited, TokenInvalid
from authsite.ratelimits import ratelimit_hit
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ROUNDS = range(3)


def _held_before(monkeypatch, module, name: str, count: int = 2) -> None:
    """Hold every call of ``module.<name>`` until ``count`` calls are there
    (or two seconds have passed): both requests reach the single-use step
    together, the widest window a real race can have."""
    real = getattr(module, name)
    barrier = threading.Barrier(count)

    def held(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)


def _one_at_a_time(jobs):
    """A target for ``run_concurrently`` that runs the next of ``jobs`` on
    each thread."""
    turns = iter(jobs)
    lock = threading.Lock()

    def target():
        with lock:
            job = next(turns)
        return job()

    return target


@pytest.mark.parametrize("round_", ROUNDS)
def test_one_reset_code_spent_by_two_resets_sets_one_password(make_user, monkeypatch, round_):
    address = f"reset{round_}@example.com"
    user = make_user(email=address)
    with delivered():
        password.password_forgot(identifier=Identifier(EMAIL, address), client=CLIENT)
    code = last_code_for(address)
    passwords = ["First-Stable-7-Lantern", "Second-Stable-7-Lantern"]
    _held_before(monkeypatch, password, "code_consume_recorded")

    def reset(new_password):
        return lambda: password.password_reset(
            identifier=Identifier(EMAIL, address),
            code=code,
            new_password=new_password,
            client=CLIENT,
        )

    results = run_concurrently(_one_at_a_time([reset(p) for p in passwords]), count=2)
    winners = [r for r in results if isinstance(r, User)]
    assert len(winners) == 1, results
    (loser,) = [r for r in results if not isinstance(r, User)]
    assert isinstance(loser, OtpInvalid), loser
    user.refresh_from_db()
    assert sum(check_password(p, user.password) for p in passwords) == 1
    assert SecurityEvent.objects.filter(user=user, kind="password_reset").count() == 1


def _account_with_totp(make_user, address: str) -> User:
    user = make_user(email=address)
    with transaction.atomic():
        mfa.account_lock(user)
        Authenticator.objects.create(
            user=user, kind=mfa.TOTP, confirmed=True, secret=secret_encrypt(SECRET)
        )
        mfa.recovery_codes_if_first(user)
        mfa.sync_enabled(user)
    return user


def _mfa_token(address: str) -> str:
    with pytest.raises(MfaRequired) as required:
        signin.signin_password(
            identifier=Identifier(EMAIL, address), password=PASSWORD, client=CLIENT, kind=signin.API
        )
    return required.value.data["mfa_token"]


def _second_step(token: str, method: str, code: str):
    return lambda: signin.signin_mfa(
        mfa_token=token, method=method, code=code, client=CLIENT, kind=signin.API
    )


@pytest.mark.parametrize("round_", ROUNDS)
def test_one_totp_code_on_two_second_steps_opens_one_session(make_user, monkeypatch, round_):
    address = f"totp{round_}@example.com"
    user = _account_with_totp(make_user, address)
    tokens = [_mfa_token(address), _mfa_token(address)]
    code = pyotp.TOTP(SECRET).at(clock.now().timestamp())
    _held_before(monkeypatch, mfa, "_totp_step_matched")

    results = run_concurrently(
        _one_at_a_time([_second_step(t, mfa.TOTP, code) for t in tokens]), count=2
    )
    assert len([r for r in results if isinstance(r, signin.SignedIn)]) == 1, results
    (loser,) = [r for r in results if not isinstance(r, signin.SignedIn)]
    assert isinstance(loser, OtpInvalid), loser
    assert DeviceSession.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("round_", ROUNDS)
def test_one_mfa_token_completed_with_two_right_factors_opens_one_session(
    make_user, monkeypatch, round_
):
    address = f"both{round_}@example.com"
    user = _account_with_totp(make_user, address)
    with transaction.atomic():
        recovery = mfa._make_recovery_codes(user)  # shown once: known here
    token = _mfa_token(address)
    code = pyotp.TOTP(SECRET).at(clock.now().timestamp())
    _held_before(monkeypatch, mfa, "challenge_spend")

    results = run_concurrently(
        _one_at_a_time(
            [
                _second_step(token, mfa.TOTP, code),
                _second_step(token, mfa.RECOVERY_CODE, recovery[0]),
            ]
        ),
        count=2,
    )
    assert len([r for r in results if isinstance(r, signin.SignedIn)]) == 1, results
    (loser,) = [r for r in results if not isinstance(r, signin.SignedIn)]
    assert isinstance(loser, TokenInvalid | OtpInvalid), loser
    assert DeviceSession.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("round_", ROUNDS)
def test_two_accounts_confirming_one_new_address_at_once(make_user, monkeypatch, round_):
    wanted = f"wanted{round_}@example.com"
    users = [make_user(email=f"owner{round_}-{n}@example.com") for n in range(2)]
    codes = []
    for user in users:
        with delivered():
            contact.contact_change_start(
                user=user, identifier=Identifier(EMAIL, wanted), password=PASSWORD, client=CLIENT
            )
        codes.append(last_code_for(wanted))

    def confirm(user, code):
        return lambda: contact.contact_change_verify(
            user=User.objects.get(pk=user.pk),
            identifier=Identifier(EMAIL, wanted),
            code=code,
            client=CLIENT,
        )

    _held_before(monkeypatch, contact, "code_consume_recorded")
    results = run_concurrently(
        _one_at_a_time([confirm(u, c) for u, c in zip(users, codes, strict=True)]), count=2
    )
    assert len([r for r in results if isinstance(r, User)]) == 1, results
    (loser,) = [r for r in results if not isinstance(r, User)]
    assert isinstance(loser, OtpInvalid), loser
    assert User.objects.filter(email=wanted).count() == 1
    assert SecurityEvent.objects.filter(kind="contact_changed", user__in=users).count() == 1


def test_a_burst_over_a_per_ip_rate_lets_the_rate_through(settings):
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMITS = {**django_settings.RATELIMITS, "race_test": "5/m"}
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.99")

    def hit():
        ratelimit_hit(request=request, action="race_test")
        return "passed"

    results = run_concurrently(hit, count=20)
    assert results.count("passed") == 5, results
    assert all(isinstance(r, RateLimited) for r in results if r != "passed"), results


@pytest.mark.parametrize("round_", ROUNDS)
def test_a_new_email_and_a_new_phone_confirmed_at_once_both_land(make_user, monkeypatch, round_):
    # Each confirmation saves only its own fields: neither writes back the
    # other's address as it read it (a full save would lose one change).
    user = make_user(email=f"both{round_}@example.com")
    new_email, new_phone = f"new{round_}@example.com", f"+91987654321{round_}"
    codes = {}
    for identifier in (Identifier(EMAIL, new_email), Identifier(PHONE, new_phone)):
        with delivered():
            contact.contact_change_start(
                user=user, identifier=identifier, password=PASSWORD, client=CLIENT
            )
        codes[identifier] = last_code_for(identifier.value)

    def confirm(identifier, code):
        return lambda: contact.contact_change_verify(
            user=User.objects.get(pk=user.pk), identifier=identifier, code=code, client=CLIENT
        )

    _held_before(monkeypatch, contact, "code_consume_recorded")
    results = run_concurrently(_one_at_a_time([confirm(i, c) for i, c in codes.items()]), count=2)
    assert all(isinstance(r, User) for r in results), results
    user.refresh_from_db()
    assert (user.email, user.phone) == (new_email, new_phone)
    assert user.email_verified_at is not None and user.phone_verified_at is not None
    assert (user.pending_email, user.pending_phone) == (None, None)
