"""A profile write that changes the language (kept on the account's row)
while the account is deleted (two tabs, or a stolen session racing the
owner): the deletion goes through and the write gets an answer — never a
503.

The write locked the profile's row, then wrote the account's; a deletion
locks the account's row, then deletes the profile with it. On MariaDB the
two deadlocked (1213) until the write, when it changes the account's row,
locked that row first: the account's row, then its profile, as everything
else takes them. Runs on both databases."""

from __future__ import annotations

import threading
import time

import pytest

from accounts.models import User
from accounts.services.account import account_remove
from profiles import services as profile_services
from profiles.models import Profile
from profiles.services import profile_clear, profile_update
from tests.concurrency import run_each_concurrently


def _race(user, write, before_deletion=lambda: None) -> list:
    def delete():
        before_deletion()
        return account_remove(user=user)

    results = run_each_concurrently(delete, write)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Profile.objects.filter(user_id=user.pk).exists()
    return results


WRITES = {
    "patch": lambda user: profile_update(user=user, fields={"language": "en", "city": "Lyon"}),
    "put": lambda user: profile_update(user=user, fields={"city": "Lyon"}, replace=True),
    "delete": lambda user: profile_clear(user=user),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("round_", range(2))
def test_a_profile_write_held_while_the_account_is_deleted(make_user, monkeypatch, write, round_):
    # The deletion starts once the write holds the profile's row, and the
    # write waits a moment before it writes the account's: without a common
    # order, a deadlock on MariaDB every time.
    user = make_user(email=f"{write}{round_}@example.com")
    User.objects.filter(pk=user.pk).update(language="hi")
    user.language = "hi"
    real = profile_services._account_fields_save
    profile_held = threading.Event()

    def slow(*args, **kwargs):
        profile_held.set()
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(profile_services, "_account_fields_save", slow)
    _race(user, lambda: WRITES[write](user), before_deletion=lambda: profile_held.wait(2))
