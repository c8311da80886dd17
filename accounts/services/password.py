"""Forgot → verify → reset, and change password (SPEC §5.3, §14 rules 2, 5, 6)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import (
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from accounts import selectors
from accounts.identifiers import PHONE, Identifier
from accounts.models import SecurityEvent, User
from accounts.services.codes import (
    CodeSent,
    code_check_recorded,
    code_consume_recorded,
    code_send,
)
from accounts.services.events import event_record
from accounts.services.lockout import password_confirm, signin_clear_account
from accounts.services.notices import notify_account
from accounts.services.tokens import TokenPair, session_open, sessions_revoke_all
from accounts.validators import BreachedPasswordValidator
from authsite import clock
from authsite.client import ClientInfo
from authsite.errors import (
    CurrentPasswordIncorrect,
    OtpInvalid,
    PasswordUnchanged,
    ValidationFailed,
)
from otp import services as otp


def password_validate(
    *, user: User, password: str, field: str = "new_password", local_only: bool = False
) -> None:
    """The password rules (``AUTH_PASSWORD_VALIDATORS``); ``local_only`` leaves
    out the breached-password check, which asks a service on the network."""
    validators = get_default_password_validators()
    if local_only:
        validators = [v for v in validators if not isinstance(v, BreachedPasswordValidator)]
    try:
        validate_password(password, user=user, password_validators=validators)
    except ValidationError as exc:
        raise ValidationFailed(errors={field: [str(m) for m in exc.messages]}) from None


def _password_hash(new_password: str) -> str:
    """A new password's hash, made before any transaction and before anything
    is spent: a hash takes a quarter of a second and may wait for (or be
    refused by) the bulkhead (``authsite/hashers.py``). A write lock held
    meanwhile would stall every other write — on SQLite the whole database —
    and a refusal after a reset code was spent would lose the code."""
    return make_password(new_password)


def _password_set(
    user: User,
    new_password: str,
    encoded: str,
    *,
    also: Sequence[str] = (),
    reset_via: str = "",
) -> None:
    """Save a new password (``encoded`` by ``_password_hash``), with the
    fields named in ``also``, inside the caller's transaction. It unblocks a
    password blocked by too many wrong tries (SPEC §18.3) and bumps the
    account's ``security_version``, which ends "trusted browser" cookies
    (§16.5) and every sign-in whose password was checked before
    (``signin``). The bump counts from what the database holds: ``user`` may
    have been loaded before a second-factor change bumped it too, and writing
    "its version plus one" would write that number again
    (``tests/attacks/test_security_version_race.py``). ``reset_via``: the
    address whose reset code set it (``User.password_reset_via``)."""
    user.password = encoded
    user.password_reset_via = reset_via
    user._password = new_password  # as set_password: the validators hear of it after save
    user.password_failures = 0
    user.security_version = F("security_version") + 1
    user.save(
        update_fields=[
            "password",
            "password_failures",
            "security_version",
            "password_reset_via",
            *also,
        ]
    )
    user.refresh_from_db(fields=["security_version"])


def password_forgot(*, identifier: Identifier, client: ClientInfo) -> CodeSent:
    """Send a reset code. Registered, unregistered and inactive addresses get the
    same answer and the same database work; only an active account's address
    receives a code. A user locked out of sign-in can still reset."""
    user = selectors.user_by_identifier(identifier)
    active = user is not None and user.is_active
    return code_send(
        purpose=otp.PASSWORD_RESET,
        identifier=identifier,
        user=user if active else None,
        deliver=active,
        client=client,
    )


def password_forgot_verify(*, identifier: Identifier, code: str, client: ClientInfo) -> None:
    """Tell whether a reset code is right, without spending it (wrong tries count)."""
    user = selectors.user_by_identifier(identifier)
    code_check_recorded(
        purpose=otp.PASSWORD_RESET, identifier=identifier, code=code, user=user, client=client
    )


def password_reset(
    *, identifier: Identifier, code: str, new_password: str, client: ClientInfo
) -> User:
    """Spend the reset code and set the new password.

    Afterwards: the address is verified (the code proved it), every session of
    the user (token and web) is revoked, the sign-in failure count is cleared,
    a notice goes to the account's addresses, and nobody is signed in.
    """
    user = selectors.user_by_identifier(identifier)
    # Refuse a bad password before spending the code, so nothing is lost. The
    # local rules first see only the given address (as if for a new account),
    # so this step answers alike whether or not an account holds it; the
    # breached-password check (a network call) runs once, below, for the
    # holder of a right code.
    stand_in = User(**{"phone" if identifier.kind == PHONE else "email": identifier.value})
    password_validate(user=stand_in, password=new_password, local_only=True)
    # Comparing the password with the account's other identifiers (username,
    # other address) would tell a stranger which account holds the address:
    # only someone who holds the right code gets that far. The check counts a
    # wrong try; the right code stays unspent if the password is refused.
    code_check_recorded(
        purpose=otp.PASSWORD_RESET, identifier=identifier, code=code, user=user, client=client
    )
    if user is not None and user.is_active:
        password_validate(user=user, password=new_password)
    encoded = _password_hash(new_password) if user is not None and user.is_active else ""
    code_consume_recorded(
        purpose=otp.PASSWORD_RESET, identifier=identifier, code=code, user=user, client=client
    )
    if user is None or not user.is_active:
        raise OtpInvalid()
    now = clock.now()
    with transaction.atomic():
        verified = []
        if identifier.kind == PHONE and user.phone_verified_at is None:
            user.phone_verified_at = now
            verified.append("phone_verified_at")
        elif identifier.kind != PHONE and user.email_verified_at is None:
            user.email_verified_at = now
            verified.append("email_verified_at")
        # The code went to the address on the account (SPEC §22.1).
        reset_via = (user.phone if identifier.kind == PHONE else user.email) or ""
        _password_set(user, new_password, encoded, also=verified, reset_via=reset_via)
        sessions_revoke_all(
            user=user, client=client, reason="password_reset", record=False, end_trust=False
        )
        event_record(
            kind=SecurityEvent.PASSWORD_RESET, user=user, identifier=identifier.value, client=client
        )
        notify_account(user=user, template="notice_password_reset")
    signin_clear_account(user=user)
    return user


def password_change(
    *,
    user: User,
    current_password: str,
    new_password: str,
    client: ClientInfo,
    keep_session_id: uuid.UUID | str | None = None,
    reopen_token_session: bool = False,
) -> TokenPair | None:
    """Change the password of a signed-in user.

    Every other session (token and web) is revoked; ``keep_session_id`` (the
    web session the change was made from) stays. The API front door keeps
    none and asks for a fresh token session instead (``reopen_token_session``),
    which is returned.
    """
    if not password_confirm(user=user, password=current_password):
        raise CurrentPasswordIncorrect(
            errors={"current_password": [str(CurrentPasswordIncorrect.default_message)]}
        )
    if current_password == new_password:
        raise PasswordUnchanged(errors={"new_password": [str(PasswordUnchanged.default_message)]})
    password_validate(user=user, password=new_password)
    encoded = _password_hash(new_password)
    with transaction.atomic():
        _password_set(user, new_password, encoded)
        sessions_revoke_all(
            user=user,
            client=client,
            except_session_id=keep_session_id,
            reason="password_changed",
            record=False,
            end_trust=False,
        )
        event_record(kind=SecurityEvent.PASSWORD_CHANGED, user=user, client=client)
        notify_account(user=user, template="notice_password_changed")
        pair = session_open(user=user, client=client) if reopen_token_session else None
    signin_clear_account(user=user)
    return pair


def password_set_by_staff(*, user: User, new_password: str, client: ClientInfo) -> None:
    """A password set by staff (the admin's change-password form, which has
    already validated it) is a credential change like any other (SPEC §14
    rule 6): every session of the user ends — staff changing their own
    password sign in again — the event is recorded, the account's addresses
    get a notice, and the sign-in failure count is cleared."""
    encoded = _password_hash(new_password)
    with transaction.atomic():
        _password_set(user, new_password, encoded)
        sessions_revoke_all(
            user=user, client=client, reason="password_changed", record=False, end_trust=False
        )
        event_record(kind=SecurityEvent.PASSWORD_CHANGED, user=user, client=client)
        notify_account(user=user, template="notice_password_changed")
    signin_clear_account(user=user)
