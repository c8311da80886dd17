"""Every second factor of an account removed at once (its owner cleaning up
in two tabs, or a thief with a fresh session racing them): once all are gone
the account has no second step and no recovery codes left — never an account
that asks for a second step it can no longer be given.

Each removal deletes its factor, then asks whether another factor remains
(``sync_enabled``). On MariaDB each removal still saw the others' factors
(deleted, not yet committed) and left ``mfa_enabled`` set and the recovery
codes in place, until each removal locked the account's row first and the
removals took turns. SQLite's single writer made them take turns anyway.
Runs on both databases."""

from __future__ import annotations

import threading

import pytest

from accounts.crypto import secret_encrypt
from accounts.models import Authenticator, DeviceSession, User
from accounts.services import mfa
from accounts.services.passkeys import (
    passkey_register,
    passkey_registration_options,
    passkey_remove,
)
from accounts.tests.services.support import CLIENT
from authsite import clock
from authsite.testing.webauthn import SoftAuthenticator
from conftest import PASSKEY_ORIGIN
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.usefixtures("relying_party")


def _account_with_three_factors(make_user, address: str) -> tuple[User, DeviceSession, int]:
    """An account with a passkey, an authenticator app and codes as a second
    factor, and its recovery codes; a session that has just signed in."""
    user = make_user(email=address)
    session = DeviceSession(user=user, authenticated_at=clock.now())
    options = passkey_registration_options(user=user, session=session)
    info, codes = passkey_register(
        user=user,
        session=session,
        credential=SoftAuthenticator(origin=PASSKEY_ORIGIN).create(options),
        name=None,
        client=CLIENT,
    )
    assert codes
    Authenticator.objects.create(
        user=user, kind=mfa.TOTP, confirmed=True, secret=secret_encrypt("A" * 32)
    )
    Authenticator.objects.create(user=user, kind=mfa.CODE, confirmed=True)
    user.refresh_from_db()
    assert user.mfa_enabled
    return user, session, info.id


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(4))
def test_every_factor_removed_at_once_leaves_no_second_step(make_user, round_):
    user, session, passkey_id = _account_with_three_factors(make_user, f"rm{round_}@example.com")
    removals = [
        lambda: mfa.factor_remove(user=user, session=session, kind=mfa.TOTP, client=CLIENT),
        lambda: mfa.factor_remove(user=user, session=session, kind=mfa.CODE, client=CLIENT),
        lambda: passkey_remove(user=user, session=session, passkey_id=passkey_id, client=CLIENT),
    ]
    turns = iter(removals)
    lock = threading.Lock()

    def remove():
        with lock:
            removal = next(turns)
        return removal()

    results = run_concurrently(remove, count=len(removals))
    assert results == [None] * len(removals), results
    assert not Authenticator.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert not user.mfa_enabled
