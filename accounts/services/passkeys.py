"""Passkeys (SPEC §17), with py_webauthn.

- **Challenges** are made here, 32 random bytes, kept on the server
  (``WebAuthnChallenge``: a SHA-256 of them), bound to their ceremony
  (registration, login, the second step, re-authentication) and to what asked
  for them (the account, the ``MfaChallenge``, the session), single use —
  spent by a conditional UPDATE before the response is checked — and five
  minutes long. Nothing about a challenge is taken from the client but the
  challenge the authenticator signed.
- **Registration** asks for a discoverable credential (resident key
  required), user verification preferred, no attestation, and excludes the
  account's existing passkeys. Kept: credential id, public key, sign count,
  transports, AAGUID, backup flags, name, created, last used.
- **Assertions** must come from an allowed origin (``WEBAUTHN_ORIGINS``,
  native apps' included) for ``WEBAUTHN_RP_ID``, with user verification; a
  sign count that goes backwards (both non-zero) is refused and recorded.
- A passkey is an ``Authenticator`` of kind ``webauthn`` too, so it counts as
  a second factor (``accounts.services.mfa``) and its changes bump the
  account's security version, record an event and send a notice.

Every way a ceremony can fail answers ``passkey_invalid``, never a 500.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.models import (
    Authenticator,
    DeviceSession,
    Passkey,
    SecurityEvent,
    User,
    WebAuthnChallenge,
)
from accounts.services import mfa
from accounts.services.events import event_record
from accounts.services.notices import notify_account
from accounts.services.stepup import reauth_require
from authsite import clock
from authsite.client import ClientInfo
from authsite.errors import NotFound, PasskeyInvalid, ValidationFailed

CHALLENGE_TTL = 300  # seconds
Ceremony = WebAuthnChallenge.Ceremony

# AAGUIDs of common passkey providers (a friendly default name; not a check).
KNOWN_AUTHENTICATORS = {
    "fbfc3007-154e-4ecc-8c0b-6e020557d7bd": "iCloud Keychain",
    "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": "Google Password Manager",
    "adce0002-35bc-c60a-648b-0b25f1f05503": "Chrome on Mac",
    "08987058-cadc-4b81-b6e1-30de50dcbe96": "Windows Hello",
    "9ddd1817-af5a-4672-a2b9-3e3dd95000a9": "Windows Hello",
    "6028b017-b1d4-4c02-b4b3-afcdafc96bb2": "Windows Hello",
    "bada5566-a7aa-401f-bd96-45619a55120d": "1Password",
    "d548826e-79b4-db40-a3d8-11116f7e8349": "Bitwarden",
    "531126d6-e717-415c-9320-3d9aa6981239": "Dashlane",
    "b84e4048-15dc-4dd0-8640-f4f60813c8af": "NordPass",
    "53414d53-554e-4700-0000-000000000000": "Samsung Pass",
}
NAME_MAX = 64
# What a malformed credential raises on its way through the parsers: JSON
# nested thousands deep is a RecursionError, not a ValueError.
MALFORMED = (WebAuthnException, ValueError, KeyError, TypeError, RecursionError)


def _hash(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def _user_handle(user: User) -> bytes:
    """The WebAuthn user id: the account's random id, nothing personal."""
    return user.pk.to_bytes(8, "big")


def _enabled() -> None:
    if not settings.WEBAUTHN_ENABLED:
        raise PasskeyInvalid(_("Passkeys are turned off here."))


# --- challenges ---------------------------------------------------------------------------------


def _challenge_new(*, ceremony: str, user: User | None, bound_to: str = "") -> bytes:
    challenge = secrets.token_bytes(32)
    now = clock.now()
    WebAuthnChallenge.objects.create(
        challenge_hash=_hash(challenge),
        ceremony=ceremony,
        user=user,
        bound_to=bound_to,
        created_at=now,
        expires_at=now + timedelta(seconds=CHALLENGE_TTL),
    )
    return challenge


def _challenge_spend(
    *, signed: bytes, ceremony: str, user: User | None, bound_to: str = ""
) -> bytes:
    """Spend the challenge the authenticator signed: it must be one we made,
    for this ceremony (and account, and second step or session), unused and
    unexpired. Spent before the response is checked: a replay finds it used."""
    rows = WebAuthnChallenge.objects.filter(
        challenge_hash=_hash(signed),
        ceremony=ceremony,
        bound_to=bound_to,
        used_at__isnull=True,
        expires_at__gt=clock.now(),
    )
    if user is not None:
        rows = rows.filter(user=user)
    if not rows.update(used_at=clock.now()):
        raise PasskeyInvalid()
    return signed


def _signed_challenge(client_data_json: bytes) -> bytes:
    try:
        return parse_client_data_json(client_data_json).challenge
    except MALFORMED:
        raise PasskeyInvalid() from None


def _options_json(options: Any) -> dict[str, Any]:
    return json.loads(options_to_json(options))


def _parse(credential: Any, parser):
    """The browser's (or platform's) credential JSON, parsed; else passkey_invalid."""
    if isinstance(credential, str):
        raw = credential
    else:
        try:
            raw = json.dumps(credential)
        except (TypeError, ValueError):
            raise PasskeyInvalid() from None
    if len(raw) > 64 * 1024:
        raise PasskeyInvalid()
    try:
        return parser(raw)
    except (*MALFORMED, AttributeError):
        raise PasskeyInvalid() from None


# --- what an account has ------------------------------------------------------------------------


@dataclass(frozen=True)
class PasskeyInfo:
    id: int
    name: str
    created_at: Any
    last_used_at: Any
    aaguid: str
    authenticator_name: str | None
    backed_up: bool


def _info(passkey: Passkey) -> PasskeyInfo:
    factor = passkey.authenticator
    return PasskeyInfo(
        id=factor.pk,
        name=factor.name,
        created_at=factor.created_at,
        last_used_at=factor.last_used_at,
        aaguid=passkey.aaguid,
        authenticator_name=KNOWN_AUTHENTICATORS.get(passkey.aaguid),
        backed_up=passkey.backed_up,
    )


def passkeys_list(*, user: User) -> list[PasskeyInfo]:
    return [
        _info(p)
        for p in Passkey.objects.filter(authenticator__user=user)
        .select_related("authenticator")
        .order_by("authenticator__created_at", "authenticator__id")
    ]


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    found = []
    for passkey in Passkey.objects.filter(authenticator__user=user):
        transports = []
        for value in passkey.transports or []:
            try:
                transports.append(AuthenticatorTransport(value))
            except ValueError:
                continue
        found.append(
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(passkey.credential_id), transports=transports or None
            )
        )
    return found


# --- registration ---------------------------------------------------------------------------------


def passkey_registration_options(*, user: User, session: DeviceSession | None) -> dict[str, Any]:
    """Creation options for a new passkey of ``user`` (needs a recent authentication)."""
    _enabled()
    reauth_require(session=session)
    challenge = _challenge_new(ceremony=Ceremony.REGISTRATION, user=user)
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=_user_handle(user),
        user_name=user.email or user.phone or user.username or str(user.pk),
        user_display_name=user.email or user.phone or user.username or "",
        challenge=challenge,
        timeout=CHALLENGE_TTL * 1000,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(user),
    )
    return _options_json(options)


def passkey_register(
    *,
    user: User,
    session: DeviceSession | None,
    credential: Any,
    name: str | None,
    client: ClientInfo,
) -> tuple[PasskeyInfo, list[str] | None]:
    """Add the passkey the browser made for our options. Returns it, and the
    recovery codes when it is the account's first second factor."""
    _enabled()
    reauth_require(session=session)
    parsed = _parse(credential, parse_registration_credential_json)
    challenge = _challenge_spend(
        signed=_signed_challenge(parsed.response.client_data_json),
        ceremony=Ceremony.REGISTRATION,
        user=user,
    )
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=list(settings.WEBAUTHN_ORIGINS),
            require_user_verification=False,
        )
    except MALFORMED:
        raise PasskeyInvalid() from None
    credential_id = bytes_to_base64url(verified.credential_id)
    aaguid = verified.aaguid or ""
    label = (name or "").strip()[:NAME_MAX] or KNOWN_AUTHENTICATORS.get(aaguid) or _("Passkey")
    try:
        with transaction.atomic():
            # The account's row first: the insert below takes a shared lock on
            # it (MariaDB's foreign key check) and the recovery codes then an
            # exclusive one; two registrations at once each held the shared
            # lock and waited for the other's (1213, a 503):
            # tests/attacks/test_passkey_registration_race.py.
            mfa.account_lock(user)
            factor = Authenticator.objects.create(
                user=user, kind=Authenticator.Kind.WEBAUTHN, name=label, confirmed=True
            )
            passkey = Passkey.objects.create(
                authenticator=factor,
                credential_hash=_hash(verified.credential_id),
                credential_id=credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=[t.value for t in (parsed.response.transports or [])],
                aaguid=aaguid,
                backup_eligible=verified.credential_device_type == "multi_device",
                backed_up=bool(verified.credential_backed_up),
            )
            codes = mfa.recovery_codes_if_first(user)
            mfa.sync_enabled(user)
            event_record(kind=SecurityEvent.PASSKEY_ADDED, user=user, client=client)
            notify_account(user=user, template="notice_mfa_enabled", context={"factor": label})
    except IntegrityError:
        raise ValidationFailed.for_field(
            "credential", _("This passkey is already registered.")
        ) from None
    passkey.authenticator = factor
    return _info(passkey), codes


def passkey_rename(*, user: User, passkey_id: int, name: str) -> PasskeyInfo:
    label = (name or "").strip()[:NAME_MAX]
    if not label:
        raise ValidationFailed.for_field("name", _("Give the passkey a name."))
    updated = Authenticator.objects.filter(
        pk=passkey_id, user=user, kind=Authenticator.Kind.WEBAUTHN
    ).update(name=label)
    found = Passkey.objects.select_related("authenticator").filter(authenticator_id=passkey_id)
    passkey = found.first() if updated else None
    if passkey is None:  # not the account's, or removed meanwhile
        raise NotFound()
    return _info(passkey)


def passkey_remove(
    *, user: User, session: DeviceSession | None, passkey_id: int, client: ClientInfo
) -> None:
    """Remove a passkey (needs a recent authentication)."""
    reauth_require(session=session)
    with transaction.atomic():
        mfa.account_lock(user)  # first, as every change of the account's factors
        deleted, _by_model = Authenticator.objects.filter(
            pk=passkey_id, user=user, kind=Authenticator.Kind.WEBAUTHN
        ).delete()
        if not deleted:
            raise NotFound()
        mfa.sync_enabled(user)
        event_record(kind=SecurityEvent.PASSKEY_REMOVED, user=user, client=client)
        notify_account(
            user=user, template="notice_mfa_disabled", context={"factor": _("a passkey")}
        )


def passkey_remove_by_staff(*, passkey_id: int, client: ClientInfo | None = None) -> bool:
    """Account recovery: staff remove one passkey (a lost phone, a shared
    laptop). The owner gets an event and a notice naming it. Returns whether
    it was there."""
    owner = (
        Authenticator.objects.filter(pk=passkey_id, kind=Authenticator.Kind.WEBAUTHN)
        .select_related("user")
        .first()
    )
    if owner is None:
        return False
    with transaction.atomic():
        # The account's row before the factor's, as every change of the
        # account's factors takes them (mfa.account_lock).
        mfa.account_lock(owner.user)
        factor = (
            Authenticator.objects.select_for_update()
            .select_related("user")
            .filter(pk=passkey_id, kind=Authenticator.Kind.WEBAUTHN, user=owner.user)
            .first()
        )
        if factor is None:
            return False
        user, name = factor.user, factor.name
        factor.delete()
        mfa.sync_enabled(user)
        event_record(kind=SecurityEvent.PASSKEY_REMOVED, user=user, client=client)
        notify_account(
            user=user, template="notice_passkey_removed_by_staff", context={"name": name}
        )
    return True


def passkey_challenges_purge() -> int:
    """Delete the challenges that can no longer be used (spent or expired);
    returns how many. Every options call makes one, the login page's
    autofill on every view."""
    deleted, _by_model = WebAuthnChallenge.objects.filter(
        Q(expires_at__lte=clock.now()) | Q(used_at__isnull=False)
    ).delete()
    return deleted


# --- the offer after a password sign-in --------------------------------------------------------

OFFER_SNOOZE = timedelta(days=30)


def passkey_offer_due(user: User) -> bool:
    """Offer a passkey after a password sign-in: passkeys on, the account has
    none, and no "not now" in the last 30 days."""
    if not settings.WEBAUTHN_ENABLED:
        return False
    dismissed = user.passkey_offer_dismissed_at
    if dismissed is not None and clock.now() - dismissed < OFFER_SNOOZE:
        return False
    return not Authenticator.objects.filter(user=user, kind=Authenticator.Kind.WEBAUTHN).exists()


def passkey_offer_dismiss(user: User) -> None:
    """ "Not now": no offer for 30 days."""
    now = clock.now()
    User.objects.filter(pk=user.pk).update(passkey_offer_dismissed_at=now)
    user.passkey_offer_dismissed_at = now


# --- assertions: login, second step, re-authentication ------------------------------------------------


def passkey_request_options(
    *, ceremony: str, user: User | None = None, bound_to: str = ""
) -> dict[str, Any]:
    """Request options: for a discoverable login no ``allowCredentials``
    (the authenticator offers its passkeys for this site, no identifier
    needed); for the second step and re-authentication, the account's."""
    _enabled()
    challenge = _challenge_new(ceremony=ceremony, user=user, bound_to=bound_to)
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        challenge=challenge,
        timeout=CHALLENGE_TTL * 1000,
        allow_credentials=_descriptors(user) if user is not None else [],
        user_verification=(
            UserVerificationRequirement.REQUIRED
            if ceremony == Ceremony.LOGIN
            else UserVerificationRequirement.PREFERRED
        ),
    )
    return _options_json(options)


def passkey_assert(
    *,
    credential: Any,
    ceremony: str,
    client: ClientInfo,
    user: User | None = None,
    bound_to: str = "",
) -> Passkey:
    """Check an assertion; returns the passkey (with its account) that made
    it. For a login the passkey names the account; otherwise it must be one
    of ``user``'s. A login needs user verification (it stands for both
    factors)."""
    _enabled()
    parsed = _parse(credential, parse_authentication_credential_json)
    challenge = _challenge_spend(
        signed=_signed_challenge(parsed.response.client_data_json),
        ceremony=ceremony,
        user=user if ceremony != Ceremony.LOGIN else None,
        bound_to=bound_to,
    )
    passkey = (
        Passkey.objects.select_related("authenticator__user")
        .filter(credential_hash=_hash(parsed.raw_id))
        .first()
    )
    if passkey is None or (user is not None and passkey.authenticator.user_id != user.pk):
        raise PasskeyInvalid()
    owner = passkey.authenticator.user
    handle = parsed.response.user_handle
    if handle is not None and handle != _user_handle(owner):
        raise PasskeyInvalid()
    try:
        # The counter is checked below, once the signature is known to be the
        # passkey's: an unsigned claim must not put an event on the account.
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=list(settings.WEBAUTHN_ORIGINS),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=0,
            require_user_verification=ceremony == Ceremony.LOGIN,
        )
    except MALFORMED:
        raise PasskeyInvalid() from None
    claimed = verified.new_sign_count
    if (claimed or passkey.sign_count) and claimed <= passkey.sign_count:
        # A signed counter that went backwards: the key may have been cloned.
        event_record(kind=SecurityEvent.PASSKEY_CLONED, user=owner, client=client)
        raise PasskeyInvalid()
    now = clock.now()
    # The counter moves forward only (a concurrent use of the same
    # assertion already failed on its spent challenge).
    Passkey.objects.filter(pk=passkey.pk, sign_count__lt=verified.new_sign_count).update(
        sign_count=verified.new_sign_count, backed_up=bool(verified.credential_backed_up)
    )
    Authenticator.objects.filter(pk=passkey.pk).update(last_used_at=now)
    return passkey
