"""Which tokens stop working, and when, after each event that should end
sessions (SPEC §5.2, §14.6, §14.7): a thief holds the access and refresh
tokens of a second session of the same account ("other"), and the owner acts
from theirs ("current").

What the SPEC asks, checked at once (no waiting for the access token's
hour) on both doors — the bearer header and the refresh:

====================================  =================  ==============
event                                 current session    other session
====================================  =================  ==============
password change (API)                 ends; a new pair   ends
password reset                        ends               ends
sign out everywhere                   ends               ends
sign out (this session)               ends               lives
revoke one session (DELETE)           lives              ends
"this wasn't me"                      ends               ends
staff: deactivate, revoke all,        ends               ends
set the password, delete
====================================  =================  ==============

And a deactivation is not undone by a reactivation: the sessions it ended
stay ended (a check of ``is_active`` alone would bring them back).

Guards (the properties hold): each case fails when its event's
``sessions_revoke_all`` is taken out — checked for the password change, the
reset, the staff password and "this wasn't me"; a deactivation's revocation
is told from the ``is_active`` check only by the reactivation test, which
fails without it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from rest_framework.test import APIClient

from accounts.models import SecurityEvent
from accounts.services import account, password, tokens
from accounts.services.tokens import session_open
from accounts.tests.helpers import last_code_for
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD, CommitAPIClient

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
NEW_PASSWORD = "A-Brand-New-Pass-Phrase-8"
STAFF = ClientInfo()


def _pair(user):
    return session_open(user=user, client=ClientInfo(ip="198.51.100.9", user_agent="pytest"))


def _works(pair) -> tuple[bool, bool]:
    """(access accepted, refresh accepted) — the refresh tried last, as it rotates."""
    client = APIClient()
    access = client.get(f"{API}/me", HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    refresh = client.post(f"{API}/token/refresh", {"refresh": pair.refresh}, format="json")
    assert access.status_code in (200, 401) and refresh.status_code in (200, 401)
    return access.status_code == 200, refresh.status_code == 200


def _bearer(pair) -> CommitAPIClient:
    client = CommitAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    return client


def _change_password(user, current, other):
    answer = _bearer(current).post(
        f"{API}/password/change",
        {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    data = answer.json()["data"]
    # The new pair of the session the change opened works.
    assert _works(replace(current, access=data["access"], refresh=data["refresh"])) == (True, True)


def _reset_password(user, current, other):
    client = CommitAPIClient()
    assert (
        client.post(f"{API}/password/forgot", {"email": user.email}, format="json").status_code
        == 200
    )
    answer = client.post(
        f"{API}/password/reset",
        {"email": user.email, "otp": last_code_for(user.email), "new_password": NEW_PASSWORD},
        format="json",
    )
    assert answer.status_code == 200, answer.content


def _sign_out_everywhere(user, current, other):
    assert _bearer(current).post(f"{API}/logout", {"all": True}, format="json").status_code == 200


def _sign_out(user, current, other):
    assert _bearer(current).post(f"{API}/logout", {}, format="json").status_code == 200


def _revoke_other(user, current, other):
    answer = _bearer(current).delete(f"{API}/sessions/{other.session.pk}")
    assert answer.status_code == 200, answer.content


def _not_me(user, current, other):
    event = SecurityEvent.objects.create(user=user, kind=SecurityEvent.LOGIN_SUCCESS)
    answer = _bearer(current).post(f"{API}/events/{event.pk}/not-me", {}, format="json")
    assert answer.status_code == 200, answer.content


def _staff_deactivate(user, current, other):
    account.user_deactivate(user=user, client=STAFF)


def _staff_revoke_all(user, current, other):
    tokens.sessions_revoke_all(user=user, client=STAFF, reason="staff")


def _staff_password(user, current, other):
    password.password_set_by_staff(user=user, new_password=NEW_PASSWORD, client=STAFF)


def _staff_delete(user, current, other):
    account.account_remove(user=user)


EVENTS = [
    (_change_password, False, False),
    (_reset_password, False, False),
    (_sign_out_everywhere, False, False),
    (_sign_out, False, True),
    (_revoke_other, True, False),
    (_not_me, False, False),
    (_staff_deactivate, False, False),
    (_staff_revoke_all, False, False),
    (_staff_password, False, False),
    (_staff_delete, False, False),
]


@pytest.mark.parametrize(
    ("event", "current_lives", "other_lives"), EVENTS, ids=[e.__name__[1:] for e, _c, _o in EVENTS]
)
def test_which_tokens_end_with_each_event(user, event, current_lives, other_lives):
    current, other = _pair(user), _pair(user)
    event(user, current, other)
    assert _works(current) == (current_lives, current_lives), "current session"
    assert _works(other) == (other_lives, other_lives), "other session"


def test_a_reactivated_account_does_not_get_its_old_sessions_back(user):
    """The only case that tells "the sessions were revoked" from "the user is
    inactive": fails when ``user_deactivate`` stops revoking them."""
    thief = _pair(user)
    account.user_deactivate(user=user, client=STAFF)
    type(user).objects.filter(pk=user.pk).update(is_active=True)  # staff tick "active" again
    assert _works(thief) == (False, False)
    # The owner signs in afresh.
    assert _works(_pair(user)) == (True, True)
