"""The one sign-in pipeline (SPEC §15). Every way in enters it once.

    first factor  →  account state  →  second factor  →  finalise

- **First factor**: what the person proved. ``password_first_factor`` (with
  the lockout of §14.3/§22.5 and a dummy hash for unknown identifiers),
  ``code_first_factor`` (a sign-in code), ``signup_first_factor`` (an
  attempt's code and token). A new way in is a new first factor (a passkey,
  SPEC §17), never a new copy of the stages below.
- **Account state**: disabled → ``account_inactive``; unverified →
  ``account_not_verified``. Decided here once; neither door re-sends a code by
  itself.
- **Second factor** (SPEC §16): the stage every first factor passes through;
  it lets everyone through until accounts can have a second factor.
- **Finalise**: ``last_login``, the ``login_success`` event, the lockout
  cleared, and the session opened — a token session for the API, a web
  session row for a browser (the front door says which with ``kind``; the
  HTML door then binds the row to the browser's Django session).

The front doors (API views, pages, the admin's sign-in, ``IdentifierBackend``)
translate input and output only: none of them records a sign-in, counts a
failure or opens a session itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import selectors
from accounts.identifiers import EMAIL, PHONE, Identifier
from accounts.models import DeviceSession, SecurityEvent, SignupAttempt, User
from accounts.services import mfa, passkeys
from accounts.services.codes import CodeSent, code_consume_recorded, code_send
from accounts.services.events import event_record, events_link_anonymous
from accounts.services.lockout import (
    lockout_key,
    password_blocked,
    password_failure_counted,
    password_matches,
    password_upgrade,
    signin_clear,
    signin_clear_account,
    signin_is_open,
    signin_refuse_if_locked,
    signin_try,
)
from accounts.services.newdevice import device_seen
from accounts.services.signup import signup_attempts_end, signup_complete, signup_token_renew
from accounts.services.tokens import TokenPair, session_open
from accounts.services.users import user_create, user_mark_verified
from accounts.services.websessions import web_session_open
from authsite import clock, metrics
from authsite.client import ClientInfo
from authsite.db import retry_while_locked
from authsite.errors import (
    AccountInactive,
    AccountNotVerified,
    InvalidCredentials,
    MfaRequired,
    OtpAttemptsExceeded,
    OtpInvalid,
    OtpLocked,
    PasskeyInvalid,
    RateLimited,
    TokenInvalid,
    ValidationFailed,
)
from authsite.hashers import hash_bulkhead
from otp import services as otp
from otp.destinations import mask_destination

# First factors.
PASSWORD = "password"
PASSKEY = "passkey"
LOGIN_CODE = "code"
SIGNUP_CODE = "signup"

API = DeviceSession.API
WEB = DeviceSession.WEB


@dataclass(frozen=True)
class FirstFactor:
    """What a person proved at the first step."""

    user: User
    method: str
    identifier: str | None  # the normalised identifier used (for the event)
    created: bool = False  # the account was made by this sign-in
    # A passkey with user verification is both factors at once (SPEC §15.3).
    second_factor_done: bool = False
    # The account's security_version when its password was checked (None when
    # no password was): a reset or change since then (each bumps it; an old
    # hash's upgrade does not) stops the sign-in at its last stage.
    security_version: int | None = None


@dataclass(frozen=True)
class SignedIn:
    """A finished sign-in: the session that was opened for it."""

    user: User
    method: str
    created: bool
    session: DeviceSession
    tokens: TokenPair | None  # for kind=API


def verification_data(target: User | SignupAttempt) -> dict[str, Any]:
    """What an unverified person is told: where their sign-up code goes."""
    primary = target.primary_identifier
    return {
        "verification": {
            "channel": "sms" if primary.kind == PHONE else "email",
            "destination": mask_destination(primary.value),
        }
    }


# --- first factors ----------------------------------------------------------------------


def _dummy_check(password: str) -> None:
    # The same hashing cost as a real check, so timing tells nothing.
    make_password(password)


def password_first_factor(
    *, identifier: Identifier, password: str, client: ClientInfo, staff_only: bool = False
) -> FirstFactor:
    """Check an identifier and password (SPEC §14.1, §22.3).

    Exactly one candidate is checked, with one hash: the account holding the
    identifier if there is one, else the newest live sign-up attempt for it,
    else a throw-away hash. A wrong password, an unknown identifier — and,
    with ``staff_only`` (the admin), an account that is not active staff —
    raise the same ``InvalidCredentials`` and count a failure against the
    account (or the identifier when no account holds it). A right password
    for an attempt answers ``account_not_verified`` with a new
    ``signup_token`` for it.
    """
    user = selectors.user_by_identifier(identifier)
    # Looked up whoever holds the address, so that an account, an attempt and
    # nobody cost the same statements as well as the same hash.
    attempt = selectors.signup_attempts_live(identifier).first()
    # Counted before any hash (lockout.signin_try): on the identifier, whose
    # count alone answers 429, and on the account, whose lock stops every
    # real check while it lasts.
    keys = [lockout_key(user=None, identifier=identifier.value)]
    # A locked identifier is answered at once; otherwise the hash's slot
    # first (authsite/hashers.py): a try a busy server refuses (503) checks
    # no password and so is not counted.
    signin_refuse_if_locked(key=keys[0])
    checked_version = user.security_version if user is not None else None
    upgrade = False
    with hash_bulkhead.reserved():
        signin_try(key=keys[0], counted=user is None)
        account_open = True
        if user is not None:
            keys.append(lockout_key(user=user))
            account_open = signin_is_open(key=keys[1])
        # After SIGNIN_MAX_CONSECUTIVE_FAILURES wrong passwords in a row the
        # password stops working until it is reset (SPEC §18.3): it is then not
        # checked at all, and the answer stays that of a wrong password.
        blocked = user is not None and password_blocked(user)
        if user is not None and account_open and not blocked and user.has_usable_password():
            valid, upgrade = password_matches(user, password)
        elif user is None and attempt is not None:
            valid = check_password(password, attempt.password)
        else:
            _dummy_check(password)
            valid = False
    password_failure_counted(
        user=user if account_open and not blocked else None, valid=valid, client=client
    )
    if valid and staff_only and not (user is not None and user.is_staff and user.is_active):
        valid = False
    if not valid:
        event_record(
            kind=SecurityEvent.LOGIN_FAILURE, user=user, identifier=identifier.value, client=client
        )
        raise InvalidCredentials()
    signin_clear(keys=keys)
    if upgrade:
        assert user is not None
        password_upgrade(user, password)  # outside the slot (password_matches)
    if user is None:
        assert attempt is not None  # only a candidate can match
        raise AccountNotVerified(
            data={**verification_data(attempt), "signup_token": signup_token_renew(attempt=attempt)}
        )
    return FirstFactor(
        user=user, method=PASSWORD, identifier=identifier.value, security_version=checked_version
    )


def code_first_factor(*, identifier: Identifier, code: str, client: ClientInfo) -> FirstFactor:
    """Sign in with a code sent to an address. Entering it proves the address,
    which is marked verified. An address no account holds gets a fresh account
    (``OTP_LOGIN_CREATES_ACCOUNT``), and any sign-up attempts for it end: none
    of their passwords, usernames or profiles is applied (SPEC §22.4)."""
    # Statements outside a transaction are retried while the SQLite test
    # database reports a lock (authsite.db); elsewhere they wait for it.
    user = retry_while_locked(selectors.user_by_identifier, identifier)
    code_consume_recorded(
        purpose=otp.LOGIN, identifier=identifier, code=code, user=user, client=client
    )
    created = False
    if user is None:
        if not settings.OTP_LOGIN_CREATES_ACCOUNT:
            raise OtpInvalid()
        try:
            user = retry_while_locked(_account_for_code, identifier, client)
            created = True
        except IntegrityError:
            user = selectors.user_by_identifier(identifier)
            if user is None:
                raise
    else:
        retry_while_locked(user_mark_verified, user=user, kind=identifier.kind)
        retry_while_locked(signup_attempts_end, identifier=identifier)
    return FirstFactor(user=user, method=LOGIN_CODE, identifier=identifier.value, created=created)


@transaction.atomic
def _account_for_code(identifier: Identifier, client: ClientInfo) -> User:
    """The fresh account a code sign-in to an unknown address makes."""
    user = user_create(
        email=identifier.value if identifier.kind == EMAIL else None,
        phone=identifier.value if identifier.kind == PHONE else None,
        password=None,
        verified=True,
    )
    signup_attempts_end(identifier=identifier)
    events_link_anonymous(user=user, identifier=identifier.value)
    event_record(kind=SecurityEvent.SIGNUP, user=user, identifier=identifier.value, client=client)
    return user


def signup_first_factor(
    *,
    signup_token: str | None,
    code: str,
    username: str | None = None,
    profile: dict[str, Any] | None = None,
    client: ClientInfo,
) -> FirstFactor:
    user, primary = signup_complete(
        signup_token=signup_token, code=code, username=username, profile=profile, client=client
    )
    return FirstFactor(user=user, method=SIGNUP_CODE, identifier=primary.value, created=True)


# --- the stages after the first factor ------------------------------------------------------


def account_state(factor: FirstFactor) -> None:
    user = factor.user
    if not user.is_active:
        raise AccountInactive()
    if not user.is_verified:
        raise AccountNotVerified(data=verification_data(user))


def second_factor_required(factor: FirstFactor, *, trust_token: str | None = None) -> bool:
    """Whether the second step applies: the account has a second factor, the
    first factor was not already both (a passkey), and the browser is not a
    trusted one (SPEC §16.5)."""
    user = factor.user
    if not user.mfa_enabled or factor.second_factor_done:
        return False
    return not mfa.trust_token_valid(user=user, token=trust_token)


def second_factor(factor: FirstFactor, *, trust_token: str | None = None) -> None:
    """The second step (SPEC §16.1): an account with a second factor stops
    here with ``mfa_required`` and an ``mfa_token`` for ``signin_mfa``."""
    if not second_factor_required(factor, trust_token=trust_token):
        return
    token, challenge = mfa.challenge_open(
        user=factor.user,
        first_factor=factor.method,
        identifier=factor.identifier,
        created=factor.created,
        security_version=factor.security_version,
    )
    raise MfaRequired(data=mfa.challenge_data(token, challenge))


def _finalise(factor: FirstFactor, *, client: ClientInfo, kind: str) -> SignedIn:
    signed_in = _finalise_atomic(factor, client=client, kind=kind)
    if signed_in is None:
        # The password was changed after it was checked: it is wrong now. At
        # the second step it is the mfa_token that died (documented there).
        raise TokenInvalid() if factor.second_factor_done else InvalidCredentials()
    return signed_in


@transaction.atomic(savepoint=False)
def _finalise_atomic(factor: FirstFactor, *, client: ClientInfo, kind: str) -> SignedIn | None:
    """The last stage: the sign-in is recorded and its session opened, in one
    transaction — or, when the checked password is no longer the account's,
    nothing is written and None comes back (raised outside the block, so that
    an enclosing transaction is not broken)."""
    user = factor.user
    now = clock.now()
    first_sign_in = user.last_login is None
    rows = User.objects.filter(pk=user.pk)
    if factor.security_version is not None:
        # The password that was checked must still be the account's: a reset
        # or change that landed after the check (an old hash's upgrade may
        # have waited for a hashing slot meanwhile; a second step may have
        # taken minutes) wins over this sign-in.
        rows = rows.filter(security_version=factor.security_version)
    changes: dict[str, Any] = {"last_login": now}
    if factor.second_factor_done and factor.method == PASSWORD and user.password_reset_via:
        # The password passed a factor other than its reset address: whoever
        # reset it holds more than that address (User.password_reset_via).
        changes["password_reset_via"] = ""
    if not rows.update(**changes):
        return None
    for name, value in changes.items():
        setattr(user, name, value)
    # One event per sign-in; a passkey's says so.
    success_kind = (
        SecurityEvent.PASSKEY_LOGIN if factor.method == PASSKEY else SecurityEvent.LOGIN_SUCCESS
    )
    event_record(kind=success_kind, user=user, identifier=factor.identifier, client=client)
    if kind == API:
        tokens = session_open(user=user, client=client)
        session = tokens.session
    else:
        tokens = None
        session = web_session_open(user=user, client=client)
    device_seen(user=user, device_id=client.device_id, client=client, first_sign_in=first_sign_in)
    return SignedIn(
        user=user, method=factor.method, created=factor.created, session=session, tokens=tokens
    )


def signin_complete(
    factor: FirstFactor, *, client: ClientInfo, kind: str, trust_token: str | None = None
) -> SignedIn:
    """The stages after a first factor: state, second factor, finalise."""
    account_state(factor)
    second_factor(factor, trust_token=trust_token)
    signed_in = _finalise(factor, client=client, kind=kind)
    # A success resets the count of the account and of every identifier of it
    # (a code sign-in proves the address whose password may have been guessed at).
    signin_clear_account(user=factor.user)
    return signed_in


# --- the ways in ----------------------------------------------------------------------------


@metrics.signin_counted(PASSWORD)
def signin_password(
    *,
    identifier: Identifier,
    password: str,
    client: ClientInfo,
    kind: str,
    staff_only: bool = False,
    trust_token: str | None = None,
) -> SignedIn:
    factor = password_first_factor(
        identifier=identifier, password=password, client=client, staff_only=staff_only
    )
    return signin_complete(factor, client=client, kind=kind, trust_token=trust_token)


@metrics.signin_counted(LOGIN_CODE)
def signin_code(
    *,
    identifier: Identifier,
    code: str,
    client: ClientInfo,
    kind: str,
    trust_token: str | None = None,
) -> SignedIn:
    factor = code_first_factor(identifier=identifier, code=code, client=client)
    return signin_complete(factor, client=client, kind=kind, trust_token=trust_token)


@metrics.signin_counted(SIGNUP_CODE)
def signin_signup(
    *,
    signup_token: str | None,
    code: str,
    client: ClientInfo,
    kind: str,
    username: str | None = None,
    profile: dict[str, Any] | None = None,
) -> SignedIn:
    factor = signup_first_factor(
        signup_token=signup_token, code=code, username=username, profile=profile, client=client
    )
    return signin_complete(factor, client=client, kind=kind)


@metrics.signin_counted(PASSKEY)
def signin_passkey(
    *, credential: Any, client: ClientInfo, kind: str, bound_to: str = ""
) -> SignedIn:
    """Sign in with a passkey (SPEC §17): no identifier, the passkey names the
    account; with user verification it is both factors, so the second step
    does not apply. ``bound_to``: what the challenge was bound to when its
    options were made (``signin_passkey_options``)."""
    passkey = passkeys.passkey_assert(
        credential=credential, ceremony=passkeys.Ceremony.LOGIN, client=client, bound_to=bound_to
    )
    user = passkey.authenticator.user
    factor = FirstFactor(user=user, method=PASSKEY, identifier=None, second_factor_done=True)
    return signin_complete(factor, client=client, kind=kind)


def signin_passkey_options(*, bound_to: str = "") -> dict[str, Any]:
    """Request options for a discoverable passkey login (no identifier). The
    pages bind the challenge to the browser that asks (``bound_to``), so that
    an assertion sent from another browser finds no challenge; the API's
    clients have no such session, and theirs are unbound."""
    return passkeys.passkey_request_options(ceremony=passkeys.Ceremony.LOGIN, bound_to=bound_to)


def signin_authenticate(
    *, identifier: Identifier, password: str, client: ClientInfo
) -> User | None:
    """For Django's ``authenticate()`` (``IdentifierBackend``): the first
    factor and the account state, nothing opened. Django's ``login()`` then
    finalises (``accounts.receivers``). An account that has to pass a second
    step cannot sign in through a single ``authenticate()`` call."""
    try:
        factor = password_first_factor(identifier=identifier, password=password, client=client)
        account_state(factor)
    except (InvalidCredentials, AccountInactive, AccountNotVerified, RateLimited):
        return None
    if second_factor_required(factor):
        return None
    return factor.user


@metrics.signin_counted("second_step")
def signin_mfa(
    *,
    mfa_token: str | None,
    method: str,
    code: str | None,
    client: ClientInfo,
    kind: str,
    credential: Any = None,
) -> SignedIn:
    """The second step of a sign-in (SPEC §16.1): a second factor for the
    ``mfa_token`` a first factor was given. A wrong one answers
    ``otp_invalid`` with the tries left (``data.attempts_left``); after
    ``MFA_MAX_ATTEMPTS`` wrong ones the token is dead (``token_invalid``)."""
    challenge = mfa.challenge_for(mfa_token)
    user = challenge.user
    mfa.challenge_try_take(challenge)
    try:
        if method == mfa.WEBAUTHN:
            passkeys.passkey_assert(
                credential=credential,
                ceremony=passkeys.Ceremony.MFA,
                user=user,
                bound_to=mfa.challenge_code_subject(challenge),
                client=client,
            )
        else:
            mfa.factor_check(
                user=user,
                method=method,
                code=code,
                subject=mfa.challenge_code_subject(challenge),
                first_factor_identifier=mfa.first_factor_address(
                    challenge.first_factor, challenge.identifier, user
                ),
                client=client,
            )
    except (OtpInvalid, OtpAttemptsExceeded, OtpLocked, PasskeyInvalid) as exc:
        left = mfa.challenge_tries_left(challenge)
        event_record(kind=SecurityEvent.MFA_FAILED, user=user, client=client)
        metrics.second_factor_recorded(method=method, outcome=exc.code)
        if isinstance(exc, PasskeyInvalid):
            raise PasskeyInvalid(data={"attempts_left": left}) from None
        if isinstance(exc, OtpInvalid):
            raise OtpInvalid(
                ngettext(
                    "Invalid or expired code. %(left)d try left.",
                    "Invalid or expired code. %(left)d tries left.",
                    left,
                )
                % {"left": left},
                data={"attempts_left": left},
            ) from None
        raise
    except ValidationFailed:
        # Refused before any factor was checked (a method the account lacks):
        # the try is given back. Any other error keeps it (fails closed).
        mfa.challenge_try_return(challenge)
        raise
    if not mfa.challenge_spend(challenge):
        raise TokenInvalid()  # a concurrent request used it first
    metrics.second_factor_recorded(method=method, outcome="success")
    factor = FirstFactor(
        user=user,
        method=challenge.first_factor,
        identifier=challenge.identifier or None,
        created=challenge.created,
        second_factor_done=True,
        security_version=challenge.security_version,
    )
    return signin_complete(factor, client=client, kind=kind)


def signin_mfa_passkey_options(*, mfa_token: str | None) -> dict[str, Any]:
    """``/auth/mfa/challenge`` with ``webauthn``: request options for one of
    the account's passkeys, bound to this second step."""
    challenge = mfa.challenge_for(mfa_token)
    if mfa.WEBAUTHN not in mfa.mfa_methods(challenge.user):
        raise ValidationFailed.for_field(
            "method", _("Passkeys are not a second factor of this account.")
        )
    return passkeys.passkey_request_options(
        ceremony=passkeys.Ceremony.MFA,
        user=challenge.user,
        bound_to=mfa.challenge_code_subject(challenge),
    )


def signin_mfa_code_send(*, mfa_token: str | None, client: ClientInfo) -> CodeSent:
    """``/auth/mfa/challenge`` with ``code``: a code to the account's other
    verified address, for the second step."""
    challenge = mfa.challenge_for(mfa_token)
    return mfa.mfa_code_send(
        user=challenge.user,
        subject=mfa.challenge_code_subject(challenge),
        first_factor_identifier=mfa.first_factor_address(
            challenge.first_factor, challenge.identifier, challenge.user
        ),
        client=client,
    )


def signin_finalise_django_login(*, user: User, client: ClientInfo) -> DeviceSession:
    """Finalise a sign-in that Django's ``login()`` made after
    ``authenticate()`` (a door outside ours): the same last stage."""
    factor = FirstFactor(user=user, method=PASSWORD, identifier=None)
    signed_in = _finalise(factor, client=client, kind=WEB)
    signin_clear_account(user=user)
    return signed_in.session


def login_code_request(*, identifier: Identifier, client: ClientInfo) -> CodeSent:
    """Send a sign-in code (the first half of ``code_first_factor``). The
    answer is the same for every address:

    - an active account gets the code;
    - an unknown address gets the code too when ``OTP_LOGIN_CREATES_ACCOUNT``
      (the account is made when the code is entered), else a notice that there
      is no account;
    - an inactive account gets nothing, but the same row is written.
    """
    user = selectors.user_by_identifier(identifier)
    deliver, template = True, None
    if user is None and not settings.OTP_LOGIN_CREATES_ACCOUNT:
        template = "notice_login_no_account"
    elif user is not None and not user.is_active:
        deliver = False
    return code_send(
        purpose=otp.LOGIN,
        identifier=identifier,
        user=user,
        client=client,
        deliver=deliver,
        template=template,
    )


def signin_password_unreadable(*, raw: str, password: str, client: ClientInfo) -> NoReturn:
    """A sign-in whose identifier is no valid email, phone or username (only
    the admin's form takes any text): it can never succeed, and costs and
    counts like an unknown identifier, so its answers follow the same
    sequence. The event names no identifier: junk in that field may be a
    password typed in the wrong box."""
    key = lockout_key(user=None, identifier=raw.strip().lower()[:254])
    signin_refuse_if_locked(key=key)
    with hash_bulkhead.reserved():
        signin_try(key=key)
        _dummy_check(password)
    event_record(kind=SecurityEvent.LOGIN_FAILURE, user=None, identifier="", client=client)
    raise InvalidCredentials()
