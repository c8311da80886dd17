"""Sign-in with a password, and what every successful sign-in does."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts import selectors
from accounts.identifiers import Identifier
from accounts.models import SecurityEvent, User
from accounts.services.events import event_record
from accounts.services.lockout import signin_check_lock, signin_clear, signin_record_failure
from authsite import clock, metrics
from authsite.client import ClientInfo
from authsite.errors import AccountInactive, AccountNotVerified, InvalidCredentials
from otp.destinations import mask_destination


def verification_data(user: User) -> dict[str, dict[str, str]]:
    """What an unverified user is told: where their sign-up code goes."""
    return {
        "verification": {
            "channel": user.primary_channel,
            "destination": mask_destination(user.primary_destination),
        }
    }


@metrics.signin_counted("password")
def user_login_password(*, identifier: Identifier, password: str, client: ClientInfo) -> User:
    """Check an identifier and password. Returns the user; does not open a session.

    Unknown identifier and wrong password raise the same ``InvalidCredentials``
    and both run the password hasher once (a throw-away hash for an unknown
    identifier or an account without a password), so neither the answer nor
    its timing tells whether an account exists. ``account_inactive`` and
    ``account_not_verified`` are only said after a correct password.
    Failures are counted per identifier (``lockout``) whatever the IP.
    """
    signin_check_lock(identifier=identifier.value)
    user = selectors.user_by_identifier(identifier)
    if user is None or not user.has_usable_password():
        make_password(password)  # same hashing cost as a real check
        valid = False
    else:
        valid = user.check_password(password)
    if not valid:
        signin_record_failure(identifier=identifier.value)
        event_record(
            kind=SecurityEvent.LOGIN_FAILURE, user=user, identifier=identifier.value, client=client
        )
        raise InvalidCredentials()
    if not user.is_active:
        raise AccountInactive()
    if not user.is_verified:
        raise AccountNotVerified(data=verification_data(user))
    signin_clear(identifiers=[identifier.value])
    return user


@transaction.atomic(savepoint=False)
def user_signed_in(*, user: User, client: ClientInfo, identifier: str | None = None) -> None:
    """Record a successful sign-in (any method, either front door)."""
    now = clock.now()
    User.objects.filter(pk=user.pk).update(last_login=now)
    user.last_login = now
    event_record(kind=SecurityEvent.LOGIN_SUCCESS, user=user, identifier=identifier, client=client)
