"""Two passkeys registered at once for one account (two devices, two tabs):
both are added, and one of the two answers carries the recovery codes —
never a 500 or a 503. Each registration inserts its ``Authenticator`` row
(on MariaDB the foreign key check takes a shared lock on the account's row)
and then locks the account's row for the recovery codes; two such
transactions each held the shared lock and waited for the other's, a
deadlock (1213, answered 503), until the account's row was locked before
the insert. Runs on both databases."""

from __future__ import annotations

import threading

import pytest

from accounts.models import Authenticator, DeviceSession, Passkey, RecoveryCode
from accounts.services.passkeys import passkey_register, passkey_registration_options
from accounts.tests.services.support import CLIENT
from authsite import clock
from authsite.testing.webauthn import SoftAuthenticator
from conftest import PASSKEY_ORIGIN
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.usefixtures("relying_party")

DEVICES = 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(4))
def test_passkeys_registered_together_are_all_added(make_user, round_):
    user = make_user(email=f"keys{round_}@example.com")
    # A session that has just signed in (never saved: only its time is read).
    session = DeviceSession(user=user, authenticated_at=clock.now())
    credentials = []
    for _ in range(DEVICES):
        options = passkey_registration_options(user=user, session=session)
        credentials.append(SoftAuthenticator(origin=PASSKEY_ORIGIN).create(options))
    turns = iter(credentials)
    lock = threading.Lock()

    def register():
        with lock:
            credential = next(turns)
        return passkey_register(
            user=user, session=session, credential=credential, name=None, client=CLIENT
        )

    results = run_concurrently(register, count=DEVICES)
    assert all(isinstance(r, tuple) for r in results), results
    assert Passkey.objects.filter(authenticator__user=user).count() == DEVICES
    # The first factor's codes, once: exactly one answer shows them.
    assert len([codes for _info, codes in results if codes]) == 1, results
    assert (
        Authenticator.objects.filter(user=user, kind=Authenticator.Kind.RECOVERY_CODES).count() == 1
    )
    assert RecoveryCode.objects.filter(authenticator__user=user).exists()
    user.refresh_from_db()
    assert user.mfa_enabled
