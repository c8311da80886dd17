"""An authenticator app's setup started again while it is started or
confirmed (a double tap, a second tab): one setup stands, and confirming
never ends in a database error.

Starting a setup deletes the unconfirmed one and inserts a new row; on
MariaDB two starts at once each missed the other's new row and both stayed,
and a start racing the confirmation locked the factor's row then waited for
the account's, while the confirmation held the account's and waited for the
factor's (1213, a 503) — until the start, like every change of an account's
factors, locked the account's row first. Runs on both databases."""

from __future__ import annotations

import pyotp
import pytest

from accounts.models import Authenticator, DeviceSession
from accounts.services import mfa
from accounts.tests.services.support import CLIENT
from authsite import clock
from authsite.errors import NotFound, OtpInvalid
from tests.concurrency import run_concurrently, run_each_concurrently


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(4))
def test_setups_started_together_leave_one(make_user, round_):
    user = make_user(email=f"totp{round_}@example.com")
    session = DeviceSession(user=user, authenticated_at=clock.now())

    results = run_concurrently(lambda: mfa.totp_setup(user=user, session=session), count=4)
    assert all(isinstance(r, mfa.TotpSetup) for r in results), results
    assert Authenticator.objects.filter(user=user, kind=mfa.TOTP, confirmed=False).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(24))
def test_a_setup_started_again_while_it_is_confirmed(make_user, round_):
    user = make_user(email=f"confirm{round_}@example.com")
    session = DeviceSession(user=user, authenticated_at=clock.now())
    setup = mfa.totp_setup(user=user, session=session)
    code = pyotp.TOTP(setup.secret).at(clock.now())
    results = run_each_concurrently(
        lambda: mfa.totp_confirm(user=user, session=session, code=code, client=CLIENT),
        lambda: mfa.totp_setup(user=user, session=session),
    )
    # The confirmation lands first (codes, or none), or the new setup
    # replaced the factor it was for (not found, or a code for another secret).
    for result in results:
        assert isinstance(result, list | mfa.TotpSetup | NotFound | OtpInvalid) or result is None, (
            results
        )
