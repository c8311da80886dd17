"""SPEC §16.1 / §18.3: a factor's wrong tries count toward the consecutive-
failure ceiling. Found by an attacker's pass: wrong recovery codes were
counted nowhere — with a stolen access token, /auth/reauthenticate took
guesses without end, each one costing ten PBKDF2 checks. Now they count on
the account's set of recovery codes like a TOTP factor's on its app: at the
ceiling the set stops working (the account is told) until a new set is made,
and a guess that cannot be a recovery code costs no hash."""

from __future__ import annotations

import pytest

from accounts.models import Authenticator
from accounts.services import mfa
from accounts.services.tokens import session_open
from authsite.client import ClientInfo
from authsite.errors import OtpInvalid

pytestmark = pytest.mark.django_db


@pytest.fixture
def codes(user):
    session = session_open(user=user, client=ClientInfo()).session
    return mfa.code_factor_enable(user=user, session=session, client=ClientInfo())


def _try(user, code: str) -> None:
    mfa.factor_check(
        user=user,
        method=mfa.RECOVERY_CODE,
        code=code,
        subject="",
        first_factor_identifier=None,
        client=ClientInfo(),
    )


def _failures(user) -> int:
    return Authenticator.objects.get(user=user, kind=Authenticator.Kind.RECOVERY_CODES).failures


def test_wrong_recovery_codes_count_and_a_right_one_clears_them(user, codes):
    for _ in range(3):
        with pytest.raises(OtpInvalid):
            _try(user, "abcde-fghjk")
    assert _failures(user) == 3
    _try(user, codes[0])
    assert _failures(user) == 0


def test_at_the_ceiling_the_set_stops_working_until_a_new_one(
    user, codes, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SIGNIN_MAX_CONSECUTIVE_FAILURES = 4
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):
            with pytest.raises(OtpInvalid):
                _try(user, "abcde-fghjk")
    with pytest.raises(OtpInvalid):
        _try(user, codes[0])  # right, but the set is blocked
    assert _failures(user) == 4
    assert [m.subject for m in mailoutbox if user.email in m.to] == [
        "Your authsite recovery codes were blocked"
    ]


def test_a_guess_that_cannot_be_a_recovery_code_costs_no_hash(user, codes, monkeypatch):
    checked = []
    monkeypatch.setattr(mfa._hasher, "verify", lambda *a: checked.append(a) or False)
    for junk in ("", "x", "a" * 64, "abcde-fghjk-lmnop"):
        with pytest.raises(OtpInvalid):
            _try(user, junk)
    assert checked == []
    assert _failures(user) == 4


def test_a_try_counted_from_a_stale_read_still_tells_the_account_once(
    user, codes, settings, mailoutbox, django_capture_on_commit_callbacks
):
    # Found in review: the ceiling and its notice were decided from the count
    # read before the UPDATE, so two tries in flight could pass the ceiling
    # with nobody told. The count is now read back from the conditional UPDATE.
    settings.SIGNIN_MAX_CONSECUTIVE_FAILURES = 5
    holder = Authenticator.objects.get(user=user, kind=Authenticator.Kind.RECOVERY_CODES)
    Authenticator.objects.filter(pk=holder.pk).update(failures=3)
    stale = Authenticator.objects.get(pk=holder.pk)  # read at 3
    Authenticator.objects.filter(pk=holder.pk).update(failures=4)  # another try landed
    with django_capture_on_commit_callbacks(execute=True):
        mfa._factor_failure_counted(stale, user=user, notice="notice_recovery_codes_locked")
        mfa._factor_failure_counted(stale, user=user, notice="notice_recovery_codes_locked")
    assert _failures(user) == 5  # not past the ceiling
    assert len([m for m in mailoutbox if user.email in m.to]) == 1


def test_a_blocked_set_is_not_offered_and_a_new_set_works(
    user, codes, settings, api_client, auth_client
):
    settings.SIGNIN_MAX_CONSECUTIVE_FAILURES = 2
    assert mfa.RECOVERY_CODE in mfa.mfa_methods(user)
    for _ in range(2):
        with pytest.raises(OtpInvalid):
            _try(user, "abcde-fghjk")
    assert mfa.RECOVERY_CODE not in mfa.mfa_methods(user)
    session = session_open(user=user, client=ClientInfo()).session
    fresh = mfa.recovery_codes_regenerate(user=user, session=session, client=ClientInfo())
    assert mfa.RECOVERY_CODE in mfa.mfa_methods(user)
    _try(user, fresh[0])
