"""Second factors (SPEC §16): the factors an account can add, and checking
one at the second step of a sign-in or a re-authentication.

- ``totp``: RFC 6238 with ``pyotp`` (SHA-1, 6 digits, 30 s, one step either
  side). A 160-bit secret, encrypted at rest (``accounts.crypto``), shown once
  at setup with an ``otpauth://`` URI and a QR code drawn here as SVG
  (``segno``); active after one correct code. A step once accepted is never
  accepted again (``last_step``, moved by a conditional UPDATE).
- ``recovery_codes``: ``MFA_RECOVERY_CODES`` codes from ``secrets``, shown once,
  kept as salted hashes (``authsite.hashers.RecoveryCodeHasher``), each spent
  by a conditional UPDATE (single use under concurrency). Made when the first
  other factor is added; removing the last factor removes them.
- ``code``: a code by SMS or email (otp purpose ``mfa``) to a verified address
  of the account — never the address whose code was the first factor
  (``MFA_ALLOW_CODE_FACTOR``).
- ``webauthn``: a passkey (§17) also counts.

Every change bumps the account's ``security_version`` (which ends "trusted
browser" cookies), records an event and sends a notice. This module never
opens a session: the sign-in pipeline (``accounts.services.signin``) and
re-authentication (``accounts.services.reauth``) call it.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
import segno
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from accounts.crypto import SecretUnreadable, secret_decrypt, secret_encrypt
from accounts.identifiers import EMAIL, PHONE, Identifier
from accounts.models import (
    Authenticator,
    DeviceSession,
    MfaChallenge,
    RecoveryCode,
    SecurityEvent,
    User,
)
from accounts.services.codes import CodeSent, code_consume_recorded, code_issue_recorded, code_sent
from accounts.services.events import event_record
from accounts.services.notices import notify_account
from accounts.services.stepup import reauth_require
from authsite import clock
from authsite.client import ClientInfo
from authsite.db import retry_while_locked
from authsite.errors import NotFound, OtpInvalid, TokenInvalid, ValidationFailed
from authsite.hashers import RecoveryCodeHasher
from otp import services as otp

TOTP = Authenticator.Kind.TOTP.value
RECOVERY_CODES = Authenticator.Kind.RECOVERY_CODES.value
CODE = Authenticator.Kind.CODE.value
WEBAUTHN = Authenticator.Kind.WEBAUTHN.value
# The method names of the second step (SPEC §16.1).
RECOVERY_CODE = "recovery_code"
METHODS = (TOTP, RECOVERY_CODE, WEBAUTHN, CODE)

TOTP_STEP = 30
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_RECOVERY_LENGTH = 10  # about 50 bits
_hasher = RecoveryCodeHasher()

_FACTOR_LABELS = {
    TOTP: Authenticator.Kind.TOTP.label,
    RECOVERY_CODES: Authenticator.Kind.RECOVERY_CODES.label,
    CODE: Authenticator.Kind.CODE.label,
    WEBAUTHN: Authenticator.Kind.WEBAUTHN.label,
}


# --- what an account has ---------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    id: int
    kind: str
    name: str
    created_at: Any
    last_used_at: Any


@dataclass(frozen=True)
class MfaOverview:
    factors: list[Factor]
    recovery_codes_left: int | None  # None: the account has no recovery codes
    enabled: bool


def _active(user: User):
    """The account's working second factors (an unconfirmed TOTP is not one)."""
    return Authenticator.objects.filter(user=user).exclude(kind=TOTP, confirmed=False)


def mfa_overview(*, user: User) -> MfaOverview:
    factors = list(_active(user).order_by("created_at", "id"))
    recovery = next((f for f in factors if f.kind == RECOVERY_CODES), None)
    left = (
        RecoveryCode.objects.filter(authenticator=recovery, used_at__isnull=True).count()
        if recovery is not None
        else None
    )
    return MfaOverview(
        factors=[
            Factor(
                f.pk, f.kind, f.name or str(_FACTOR_LABELS[f.kind]), f.created_at, f.last_used_at
            )
            for f in factors
        ],
        recovery_codes_left=left,
        enabled=any(f.kind != RECOVERY_CODES for f in factors),
    )


def sync_enabled(user: User) -> None:
    """Keep ``User.mfa_enabled`` equal to "has a factor other than recovery
    codes"; without one, the recovery codes go too. Bumps the security
    version (trusted browsers ask again)."""
    enabled = _active(user).exclude(kind=RECOVERY_CODES).exists()
    if not enabled:
        Authenticator.objects.filter(user=user, kind=RECOVERY_CODES).delete()
    User.objects.filter(pk=user.pk).update(
        mfa_enabled=enabled, security_version=F("security_version") + 1
    )
    user.mfa_enabled = enabled
    user.refresh_from_db(fields=["security_version"])


def _changed(user: User, *, kind: str, factor: str, client: ClientInfo | None) -> None:
    event_record(kind=kind, user=user, client=client)
    template = "notice_mfa_enabled" if kind == SecurityEvent.MFA_ENABLED else "notice_mfa_disabled"
    notify_account(user=user, template=template, context={"factor": str(_FACTOR_LABELS[factor])})


# --- TOTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TotpSetup:
    secret: str  # base32, shown once
    otpauth_uri: str
    qr_svg: str


def _account_label(user: User) -> str:
    return user.email or user.phone or user.username or str(user.pk)


def totp_setup(*, user: User, session: DeviceSession | None) -> TotpSetup:
    """Start setting up an authenticator app: a new secret, shown once. It
    works only once a correct code confirms it (``totp_confirm``); starting
    again replaces an unconfirmed one. Needs a recent authentication."""
    reauth_require(session=session)
    if Authenticator.objects.filter(user=user, kind=TOTP, confirmed=True).exists():
        raise ValidationFailed.for_field(
            "totp", _("An authenticator app is already set up. Remove it to set up another.")
        )
    secret = pyotp.random_base32(length=32)  # 160 bits
    with transaction.atomic():
        account_lock(user)  # first, as every change of the account's factors
        Authenticator.objects.filter(user=user, kind=TOTP, confirmed=False).delete()
        Authenticator.objects.create(user=user, kind=TOTP, secret=secret_encrypt(secret))
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=_account_label(user), issuer_name=settings.SITE_NAME
    )
    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=4, title=_("QR code for your authenticator app")
    )
    return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=qr_svg)


def _totp_step_matched(secret: str, code: str) -> int | None:
    """The 30-second step whose code ``code`` is (this one or one either side)."""
    code = "".join(str(code or "").split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(clock.now().timestamp()) // TOTP_STEP
    found = None
    for step in (now_step - 1, now_step, now_step + 1):
        if constant_time_compare(totp.at(step * TOTP_STEP), code):
            found = step
    return found


def totp_confirm(
    *, user: User, session: DeviceSession | None, code: str, client: ClientInfo
) -> list[str] | None:
    """Turn the authenticator app on with one of its codes. Returns the
    recovery codes when this is the account's first factor (shown once)."""
    reauth_require(session=session)
    factor = Authenticator.objects.filter(user=user, kind=TOTP, confirmed=False).first()
    if factor is None:
        raise NotFound(_("No authenticator app is being set up: start its setup first."))
    try:
        step = _totp_step_matched(secret_decrypt(factor.secret), code)
    except SecretUnreadable:
        step = None
    if step is None:
        raise OtpInvalid()
    with transaction.atomic():
        account_lock(user)
        now = clock.now()
        confirmed = Authenticator.objects.filter(pk=factor.pk, confirmed=False).update(
            confirmed=True, last_step=step, last_used_at=now, created_at=now
        )
        if not confirmed:  # another request confirmed (or replaced) it meanwhile
            raise NotFound(_("No authenticator app is being set up: start its setup first."))
        codes = recovery_codes_if_first(user)
        sync_enabled(user)
        _changed(user, kind=SecurityEvent.MFA_ENABLED, factor=TOTP, client=client)
    return codes


def factor_remove(
    *, user: User, session: DeviceSession | None, kind: str, client: ClientInfo
) -> None:
    """Remove a second factor (``totp`` or ``code``); removing the last one
    removes the recovery codes too."""
    reauth_require(session=session)
    with transaction.atomic():
        # The account's row first, as every change of its factors takes it:
        # removals at once take turns, and each one's "is another factor
        # left?" sees the others' deletions (two that did not each left the
        # account asking for a second step it no longer had, on MariaDB).
        account_lock(user)
        deleted, _by_model = Authenticator.objects.filter(user=user, kind=kind).delete()
        if not deleted:
            raise NotFound(_("This second factor is not set up."))
        sync_enabled(user)
        _changed(user, kind=SecurityEvent.MFA_DISABLED, factor=kind, client=client)


# --- codes by SMS or email as a factor ---------------------------------------------------


def _verified_addresses(user: User) -> list[Identifier]:
    found = []
    if user.phone and user.phone_verified:
        found.append(Identifier(PHONE, user.phone))
    if user.email and user.email_verified:
        found.append(Identifier(EMAIL, user.email))
    return found


def code_factor_enable(
    *, user: User, session: DeviceSession | None, client: ClientInfo
) -> list[str] | None:
    """Turn on codes by SMS or email as a second factor (a verified address is
    needed). Returns recovery codes when this is the first factor; turning
    it on again changes nothing (``None``)."""
    reauth_require(session=session)
    if not settings.MFA_ALLOW_CODE_FACTOR:
        raise ValidationFailed.for_field("kind", _("Codes as a second factor are turned off here."))
    return retry_while_locked(_code_factor_enable, user, client)


def _code_factor_enable(user: User, client: ClientInfo) -> list[str] | None:
    if not _verified_addresses(user):
        raise ValidationFailed.for_field(
            "kind", _("Verify an email address or a phone number first.")
        )
    with transaction.atomic():
        account_lock(user)
        if Authenticator.objects.filter(user=user, kind=CODE).exists():
            return None  # already on: nothing changes, and no second set of codes
        Authenticator.objects.create(user=user, kind=CODE, confirmed=True)
        codes = recovery_codes_if_first(user)
        sync_enabled(user)
        _changed(user, kind=SecurityEvent.MFA_ENABLED, factor=CODE, client=client)
    return codes


# First factors that are a code sent to an address: that address cannot be
# the second factor too (SPEC §16, the ``code`` factor).
CODE_FIRST_FACTORS = frozenset({"code", "signup"})


def first_factor_address(first_factor: str, identifier: str | None, user: User) -> str | None:
    """The address that served as the first factor: a code sign-in's; for a
    password, the address whose reset code set it, if one did (a password
    set through a reset code is worth that code: SPEC §16.5, a reset never
    bypasses the second factor; ``User.password_reset_via``)."""
    if first_factor in CODE_FIRST_FACTORS:
        return identifier
    if first_factor == "password":
        return user.password_reset_via or None
    return None


def code_factor_destination(
    user: User, *, first_factor_identifier: str | None
) -> Identifier | None:
    """Where a second-step code goes: a verified address of the account that
    did not serve as the first factor (``first_factor_identifier``, from
    ``first_factor_address``: a code sign-in's address cannot be its own
    second factor, nor can the address that reset the password; a password
    sign-in's identifier can). The phone first."""
    for address in _verified_addresses(user):
        if address.value != first_factor_identifier:
            return address
    return None


# --- recovery codes -----------------------------------------------------------------------


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _clean_recovery(code: str) -> str:
    return "".join(c for c in str(code or "").lower() if c.isalnum())[:64]


def _make_recovery_codes(user: User) -> list[str]:
    account_lock(user)
    Authenticator.objects.filter(user=user, kind=RECOVERY_CODES).delete()
    holder = Authenticator.objects.create(user=user, kind=RECOVERY_CODES, confirmed=True)
    codes = [_new_recovery_code() for _ in range(settings.MFA_RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(
            authenticator=holder,
            code_hash=_hasher.encode(_clean_recovery(code), _hasher.salt()),
        )
        for code in codes
    )
    return codes


def account_lock(user: User) -> None:
    """Hold the account's row until the transaction ends: two requests that
    add factors at once (two tabs, a double tap) take turns, so neither sees
    "no recovery codes yet" after the other made them. SQLite's IMMEDIATE
    transactions already take turns; MariaDB needs the row lock.

    Every transaction that adds, confirms or removes a factor takes it
    before it touches an ``Authenticator`` row: the account's row, then its
    factors, always in that order (an insert's foreign key check takes a
    shared lock on the account's row, which a later exclusive lock could
    not join without a deadlock: tests/attacks/test_passkey_registration_race.py,
    test_second_factor_removal_race.py)."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def recovery_codes_if_first(user: User) -> list[str] | None:
    """Inside the caller's transaction: the account's first recovery codes,
    unless it has a set."""
    account_lock(user)
    if Authenticator.objects.filter(user=user, kind=RECOVERY_CODES).exists():
        return None
    return _make_recovery_codes(user)


def recovery_codes_regenerate(
    *, user: User, session: DeviceSession | None, client: ClientInfo
) -> list[str]:
    """A new set of recovery codes; the old set stops working."""
    reauth_require(session=session)
    if not user.mfa_enabled:
        raise ValidationFailed.for_field(
            "recovery_codes", _("Add a second factor first: recovery codes come with it.")
        )
    with transaction.atomic():
        codes = _make_recovery_codes(user)
        User.objects.filter(pk=user.pk).update(security_version=F("security_version") + 1)
        event_record(kind=SecurityEvent.RECOVERY_CODES_REGENERATED, user=user, client=client)
        notify_account(user=user, template="notice_recovery_codes_regenerated")
    return codes


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(
        authenticator__user=user,
        authenticator__kind=RECOVERY_CODES,
        used_at__isnull=True,
    ).count()


# --- the second step ------------------------------------------------------------------------


def mfa_methods(user: User, *, first_factor_identifier: str | None = None) -> list[str]:
    """The second-step methods this account can use now, in SPEC §16.1's order:
    not a factor blocked by its wrong tries (§18.3), nor passkeys while
    ``WEBAUTHN_ENABLED`` is off."""
    ceiling = settings.SIGNIN_MAX_CONSECUTIVE_FAILURES
    kinds = {
        kind
        for kind, failures in _active(user).values_list("kind", "failures")
        if failures < ceiling
    }
    methods = []
    if TOTP in kinds:
        methods.append(TOTP)
    if RECOVERY_CODES in kinds and recovery_codes_left(user):
        methods.append(RECOVERY_CODE)
    if WEBAUTHN in kinds and settings.WEBAUTHN_ENABLED:
        methods.append(WEBAUTHN)
    if (
        CODE in kinds
        and settings.MFA_ALLOW_CODE_FACTOR
        and code_factor_destination(user, first_factor_identifier=first_factor_identifier)
    ):
        methods.append(CODE)
    return methods


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def challenge_open(
    *,
    user: User,
    first_factor: str,
    identifier: str | None,
    created: bool,
    security_version: int | None = None,
) -> tuple[str, MfaChallenge]:
    """A pending second step; returns its ``mfa_token`` (shown once).
    ``security_version``: the account's when its password was checked."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    challenge = MfaChallenge.objects.create(
        token_hash=_token_hash(token),
        user=user,
        first_factor=first_factor,
        identifier=identifier or "",
        created=created,
        security_version=security_version,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.MFA_TOKEN_TTL),
    )
    return token, challenge


def challenge_data(token: str, challenge: MfaChallenge) -> dict[str, Any]:
    """What a client is told with ``mfa_required``."""
    return {
        "mfa_token": token,
        "methods": mfa_methods(
            challenge.user,
            first_factor_identifier=first_factor_address(
                challenge.first_factor, challenge.identifier, challenge.user
            ),
        ),
        "expires_in": max(0, math.ceil((challenge.expires_at - clock.now()).total_seconds())),
    }


def challenge_for(token: str | None) -> MfaChallenge:
    """The live challenge of an ``mfa_token``, with its user; else ``token_invalid``."""
    if not isinstance(token, str) or not token or len(token) > 128:
        raise TokenInvalid()
    challenge = (
        MfaChallenge.objects.select_related("user")
        .filter(
            token_hash=_token_hash(token),
            used_at__isnull=True,
            expires_at__gt=clock.now(),
            failures__lt=settings.MFA_MAX_ATTEMPTS,
        )
        .first()
    )
    if challenge is None:
        raise TokenInvalid()
    return challenge


def challenge_try_take(challenge: MfaChallenge) -> None:
    """Take one of the challenge's tries *before* its factor is checked, by
    a conditional UPDATE: of requests in flight for one token, only as many
    as it has tries left are checked (SPEC §16.1's five, under
    concurrency); the others find none and get ``token_invalid``. A try
    that checked no factor gives it back (``challenge_try_return``); a right
    one spends the challenge, whose count then includes it."""
    taken = MfaChallenge.objects.filter(
        pk=challenge.pk, used_at__isnull=True, failures__lt=settings.MFA_MAX_ATTEMPTS
    ).update(failures=F("failures") + 1)
    if not taken:
        raise TokenInvalid()


def challenge_try_return(challenge: MfaChallenge) -> None:
    MfaChallenge.objects.filter(pk=challenge.pk, failures__gt=0).update(failures=F("failures") - 1)


def challenge_tries_left(challenge: MfaChallenge) -> int:
    """The tries left after a wrong one (its try was taken before the check)."""
    challenge.refresh_from_db(fields=["failures"])
    return max(0, settings.MFA_MAX_ATTEMPTS - challenge.failures)


def challenge_spend(challenge: MfaChallenge) -> bool:
    """Spend the challenge (single use under concurrency)."""
    return bool(
        MfaChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(
            used_at=clock.now()
        )
    )


def challenge_code_subject(challenge: MfaChallenge) -> str:
    return f"mfa:{challenge.pk}"


def mfa_code_send(
    *, user: User, subject: str, first_factor_identifier: str | None, client: ClientInfo
) -> CodeSent:
    """A second-step (or re-authentication) code to the account's other
    verified address."""
    destination = code_factor_destination(user, first_factor_identifier=first_factor_identifier)
    if (
        not settings.MFA_ALLOW_CODE_FACTOR
        or destination is None
        or not Authenticator.objects.filter(user=user, kind=CODE).exists()
    ):
        # Nothing is sent that factor_check would then refuse.
        raise ValidationFailed.for_field(
            "method", _("Codes are not a second factor of this account.")
        )
    issued = code_issue_recorded(
        purpose=otp.MFA, identifier=destination, user=user, subject=subject, client=client
    )
    return code_sent(issued)


def factor_check(
    *,
    user: User,
    method: str,
    code: str | None,
    subject: str,
    first_factor_identifier: str | None,
    client: ClientInfo,
) -> str:
    """Check one second factor of ``user``. Returns the factor kind that
    matched; raises an ``AuthsiteError`` (``otp_invalid`` and kin) when it did
    not. Wrong TOTP codes count toward the factor's consecutive-failure
    ceiling (SPEC §18.3); a used recovery code is spent and the account told
    how many are left."""
    if method == TOTP:
        _totp_check(user, code or "")
        return TOTP
    if method == RECOVERY_CODE:
        _recovery_code_spend(user, code or "", client=client)
        return RECOVERY_CODES
    if method == CODE and method in mfa_methods(
        user, first_factor_identifier=first_factor_identifier
    ):
        destination = code_factor_destination(user, first_factor_identifier=first_factor_identifier)
        assert destination is not None  # mfa_methods offered it
        code_consume_recorded(
            purpose=otp.MFA,
            identifier=destination,
            code=code or "",
            user=user,
            subject=subject,
            client=client,
        )
        Authenticator.objects.filter(user=user, kind=CODE).update(last_used_at=clock.now())
        return CODE
    raise ValidationFailed.for_field("method", _("This method is not available."))


def _totp_check(user: User, code: str) -> None:
    factor = Authenticator.objects.filter(user=user, kind=TOTP, confirmed=True).first()
    if factor is None:
        raise OtpInvalid()
    # The try is taken before the code is checked: of guesses in flight, no
    # more are checked than the ceiling leaves (§18.3;
    # tests/attacks/test_second_factor_ceiling_race.py).
    last = _factor_try_take(factor)
    if last is None:
        raise OtpInvalid()  # blocked until it is set up again (§18.3)
    try:
        step = _totp_step_matched(secret_decrypt(factor.secret), code)
    except SecretUnreadable:
        step = None
    # A step already accepted is a replay: the conditional UPDATE takes each
    # step once, whatever races it. A right code gives the count back to 0.
    accepted = step is not None and bool(
        Authenticator.objects.filter(pk=factor.pk, last_step__lt=step).update(
            last_step=step, failures=0, last_used_at=clock.now()
        )
    )
    if accepted:
        return
    if last:
        _factor_blocked_told(factor, user=user, notice="notice_factor_locked")
    raise OtpInvalid()


def _factor_try_take(factor: Authenticator) -> bool | None:
    """Take one of ``factor``'s tries toward SPEC §18.3's ceiling *before*
    its code is checked, by conditional UPDATEs (concurrent tries can neither
    pass the ceiling nor all be checked): ``None`` when none is left (the
    factor is blocked, and nothing is checked), else whether this try took
    the last one — exactly one try does. A right code then sets the count
    back to 0 (wrong tries *in a row* count)."""
    ceiling = settings.SIGNIN_MAX_CONSECUTIVE_FAILURES
    rows = Authenticator.objects.filter(pk=factor.pk)
    if rows.filter(failures__lt=ceiling - 1).update(failures=F("failures") + 1):
        return False
    if rows.filter(failures=ceiling - 1).update(failures=ceiling):
        return True
    return None


def _factor_blocked_told(factor: Authenticator, *, user: User, notice: str) -> None:
    """The wrong try that took a factor's last try tells the account with
    ``notice`` — unless a right code in flight gave the count back."""
    ceiling = settings.SIGNIN_MAX_CONSECUTIVE_FAILURES
    if Authenticator.objects.filter(pk=factor.pk, failures__gte=ceiling).exists():
        notify_account(user=user, template=notice)


def _factor_failure_counted(factor: Authenticator, *, user: User, notice: str) -> None:
    """Count a wrong try on ``factor`` after the fact, in one call: the try
    that reaches the ceiling sends the account ``notice``, once, whatever the
    count ``factor`` was read with. (The checks in this module take their
    try before the check instead: ``_factor_try_take``.)"""
    if _factor_try_take(factor):
        _factor_blocked_told(factor, user=user, notice=notice)


def _recovery_shaped(cleaned: str) -> bool:
    """Whether a cleaned guess could be one of our recovery codes (no hash
    is spent on one that cannot)."""
    return len(cleaned) == _RECOVERY_LENGTH and all(c in _RECOVERY_ALPHABET for c in cleaned)


def _recovery_code_spend(user: User, code: str, *, client: ClientInfo) -> None:
    """Spend a recovery code. Wrong ones count on the account's set like a
    TOTP factor's on its app (SPEC §16.1, §18.3): at the ceiling the set is
    blocked (the account is told) until a new set is made."""
    holder = Authenticator.objects.filter(user=user, kind=RECOVERY_CODES).first()
    if holder is None:
        raise OtpInvalid()
    # Taken before the codes are compared, as for TOTP (_totp_check).
    last = _factor_try_take(holder)
    if last is None:
        raise OtpInvalid()  # blocked until a new set is made (§18.3)
    cleaned = _clean_recovery(code)
    unused = RecoveryCode.objects.filter(authenticator=holder, used_at__isnull=True)
    for row in unused if _recovery_shaped(cleaned) else ():
        if _hasher.verify(cleaned, row.code_hash):
            spent = RecoveryCode.objects.filter(pk=row.pk, used_at__isnull=True).update(
                used_at=clock.now()
            )
            if not spent:
                break  # a concurrent request spent it first
            Authenticator.objects.filter(pk=holder.pk).update(failures=0, last_used_at=clock.now())
            left = recovery_codes_left(user)
            event_record(kind=SecurityEvent.RECOVERY_CODE_USED, user=user, client=client)
            notify_account(
                user=user, template="notice_recovery_code_used", context={"remaining": left}
            )
            return
    if last:
        _factor_blocked_told(holder, user=user, notice="notice_recovery_codes_locked")
    raise OtpInvalid()


# --- trusted browsers (SPEC §16.5) -----------------------------------------------------------

_TRUST_SALT = "accounts.mfa.trusted-browser"


def trust_token_make(*, user: User) -> str | None:
    """A value for the "don't ask again on this browser" cookie, or None when
    ``MFA_TRUST_DAYS`` is 0. Bound to the user and their security version."""
    if settings.MFA_TRUST_DAYS <= 0:
        return None
    return signing.dumps({"u": user.pk, "v": user.security_version}, salt=_TRUST_SALT)


def trust_token_valid(*, user: User, token: str | None) -> bool:
    if not token or settings.MFA_TRUST_DAYS <= 0:
        return False
    try:
        data = signing.loads(token, salt=_TRUST_SALT, max_age=settings.MFA_TRUST_DAYS * 86400)
    except signing.BadSignature:
        return False
    return data == {"u": user.pk, "v": user.security_version}


# --- staff -------------------------------------------------------------------------------------


def factors_remove_by_staff(*, user: User, client: ClientInfo | None = None) -> int:
    """Account recovery: staff remove every second factor of an account."""
    with transaction.atomic():
        account_lock(user)  # first, as factor_remove
        deleted, _by_model = Authenticator.objects.filter(user=user).delete()
        sync_enabled(user)
        event_record(kind=SecurityEvent.MFA_DISABLED, user=user, client=client)
        notify_account(user=user, template="notice_mfa_removed_by_staff")
    return deleted


# --- policy (SPEC §16.5) ---------------------------------------------------------------------


def mfa_setup_required(user: User) -> bool:
    """``MFA_REQUIRED``: every account must add a second factor before it can
    do anything else."""
    return bool(settings.MFA_REQUIRED) and not user.mfa_enabled


def mfa_staff_setup_required(user: User) -> bool:
    """``MFA_REQUIRED_FOR_STAFF``: a staff account reaches no admin page
    until it has a second factor."""
    return bool(settings.MFA_REQUIRED_FOR_STAFF) and user.is_staff and not user.mfa_enabled
