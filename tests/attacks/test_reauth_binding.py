"""Re-authentication windows (SPEC §16.4, §14.10) seen by a thief who holds
a token session that is no longer fresh — an access token lifted from a
device, or a refresh token kept alive for days.

- Every sensitive change on the API answers ``reauthentication_required`` to
  a session whose last proof is older than ``REAUTH_WINDOW``.
- The proof belongs to one session: the owner re-authenticating on their
  phone does not open the window on the thief's session; a re-authentication
  code sent for one session does not re-authenticate another; a TOTP code
  spent on one is not spent again on the other.
- Keeping a session alive is no proof: neither a refresh nor the refresh
  grace moves the window.

Each test is a guard: the properties hold; each docstring names the
mechanism whose removal makes it fail (checked by taking it out).
"""

from __future__ import annotations

import pyotp
import pytest
from django.conf import settings

from accounts.services.tokens import session_open
from accounts.tests.helpers import assert_error, assert_ok, last_code_for
from authsite import clock as site_clock
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD, CommitAPIClient

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"

# Every change SPEC §16.4 puts behind a recent authentication, as the API
# exposes it: (method, path, body). The address change and the deletion are
# tried without their inline password.
SENSITIVE = [
    ("post", f"{API}/mfa/totp/setup", {}),
    ("post", f"{API}/mfa/totp/confirm", {"code": "123456"}),
    ("delete", f"{API}/mfa/totp", None),
    ("post", f"{API}/mfa/code", {}),
    ("delete", f"{API}/mfa/code", None),
    ("post", f"{API}/mfa/recovery-codes", {}),
    ("post", f"{API}/passkeys/register/options", {}),
    ("post", f"{API}/passkeys/register", {"credential": {"id": "x"}}),
    ("delete", f"{API}/passkeys/1", None),
    ("get", f"{API}/account/export", None),
    ("post", f"{API}/contact/change", {"email": "thief@evil.example"}),
    ("delete", f"{API}/account", {}),
]


def _client(user) -> CommitAPIClient:
    pair = session_open(user=user, client=ClientInfo(ip="198.51.100.7", user_agent="pytest"))
    client = CommitAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    client.pair = pair
    return client


def _stale(clock):
    clock.advance(settings.REAUTH_WINDOW + 1)


def _call(client, method: str, path: str, body):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


def _export(client):
    return client.get(f"{API}/account/export")


@pytest.mark.parametrize(
    ("method", "path", "body"), SENSITIVE, ids=[f"{m} {p}" for m, p, _ in SENSITIVE]
)
def test_a_stale_session_can_make_no_sensitive_change(user, clock, method, path, body):
    """Guard: fails for the endpoint whose service loses its
    ``reauth_require`` (or its ``reauth_inline_password``)."""
    thief = _client(user)
    _stale(clock)
    assert_error(_call(thief, method, path, body), 401, "reauthentication_required")
    user.refresh_from_db()
    assert user.email == "alice@example.com" and user.is_active


def test_the_owner_re_authenticating_does_not_open_the_thiefs_session(user, clock):
    """Guard: the proof is kept on the session row that gave it; fails when
    ``reauth_mark`` marks every session of the user."""
    owner, thief = _client(user), _client(user)
    _stale(clock)
    assert_ok(owner.post(f"{API}/reauthenticate", {"password": STRONG_PASSWORD}, format="json"))
    assert_ok(_export(owner))
    assert_error(_export(thief), 401, "reauthentication_required")


def test_a_re_authentication_code_belongs_to_the_session_that_asked(user, clock):
    """Guard: the code is bound to its session (``reauth:<sid>``); fails when
    ``reauthenticate`` consumes it without that subject — the thief, who can
    read the code (a shared inbox, a notification preview) but asked for it
    on the owner's session, would re-authenticate their own."""
    owner, thief = _client(user), _client(user)
    _stale(clock)
    assert_ok(owner.post(f"{API}/reauthenticate/code", {}, format="json"))
    code = last_code_for(user.email)
    refused = thief.post(f"{API}/reauthenticate", {"code": code}, format="json")
    assert refused.status_code in (400, 401), refused.content
    assert_error(_export(thief), 401, "reauthentication_required")
    # The owner's code still serves the owner.
    assert_ok(owner.post(f"{API}/reauthenticate", {"code": code}, format="json"))
    assert_ok(_export(owner))


def test_a_totp_code_re_authenticates_one_session_once(user, clock):
    """Guard: a TOTP step is taken once (``last_step``); fails when
    ``_totp_check`` stops refusing a step already accepted — a code read
    over the owner's shoulder would re-authenticate the thief's session too."""
    owner, thief = _client(user), _client(user)
    setup = assert_ok(owner.post(f"{API}/mfa/totp/setup", {}, format="json"))
    totp = pyotp.TOTP(setup["secret"])
    assert_ok(
        owner.post(
            f"{API}/mfa/totp/confirm",
            {"code": totp.at(site_clock.now().timestamp())},
            format="json",
        )
    )
    clock.advance(settings.REAUTH_WINDOW + 31)
    code = totp.at(site_clock.now().timestamp())
    assert_ok(owner.post(f"{API}/reauthenticate", {"method": "totp", "code": code}, format="json"))
    refused = thief.post(f"{API}/reauthenticate", {"method": "totp", "code": code}, format="json")
    assert refused.status_code in (400, 401), refused.content
    assert_error(_export(thief), 401, "reauthentication_required")


def test_keeping_a_session_alive_is_no_proof(user, clock):
    """Guard: a refresh (and the grace answer) leaves ``authenticated_at``
    alone; fails when the rotation writes it."""
    thief = _client(user)
    _stale(clock)
    first = thief.pair.refresh
    rotated = assert_ok(thief.post(f"{API}/token/refresh", {"refresh": first}, format="json"))
    clock.advance(1)
    grace = assert_ok(thief.post(f"{API}/token/refresh", {"refresh": first}, format="json"))
    for access in (rotated["access"], grace["access"]):
        thief.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        assert_error(_export(thief), 401, "reauthentication_required")
