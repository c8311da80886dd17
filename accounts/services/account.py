"""The account as a whole: "this wasn't me", export, deletion, deactivation."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.identifiers import Identifier
from accounts.models import (
    Authenticator,
    DeviceSession,
    KnownDevice,
    MfaChallenge,
    Passkey,
    RecoveryCode,
    SecurityEvent,
    User,
    WebAuthnChallenge,
)
from accounts.services.codes import code_consume_recorded
from accounts.services.events import event_record, events_scrub
from accounts.services.mfa import account_lock
from accounts.services.newdevice import not_me_link_read
from accounts.services.passkeys import KNOWN_AUTHENTICATORS
from accounts.services.password import password_forgot
from accounts.services.stepup import reauth_inline_password, reauth_require
from accounts.services.tokens import sessions_revoke_all
from authsite.client import ClientInfo
from authsite.errors import NotFound, RetryLater, ValidationFailed
from otp import services as otp
from otp.destinations import channel_for, mask_destination
from otp.models import OneTimeCode
from profiles.services import EDITABLE_FIELDS


@dataclass(frozen=True)
class ResetStarted:
    """Where "this wasn't me" sent the reset code, and when another may be
    asked for (a code sent moments before still holds the cooldown)."""

    identifier: Identifier  # the account's primary address
    channel: str
    destination: str  # masked
    resend_in: int


def event_not_me(*, user: User, event_id: int, client: ClientInfo) -> ResetStarted:
    """ "This wasn't me" on one of the user's events: every session (token and
    web) is revoked and a password reset starts (a code to the account's
    primary address)."""
    if not SecurityEvent.objects.filter(pk=event_id, user=user).exists():
        raise NotFound()
    with transaction.atomic():
        sessions_revoke_all(user=user, client=client, reason="not_me", record=False)
        event_record(kind=SecurityEvent.NOT_ME, user=user, client=client)
    primary = user.primary_identifier
    try:
        sent = password_forgot(identifier=primary, client=client)
    except RetryLater as exc:
        # A reset code went out moments ago: that one stands, the sessions are gone anyway.
        return ResetStarted(
            identifier=primary,
            channel=channel_for(primary.value),
            destination=mask_destination(primary.value),
            resend_in=exc.retry_after or 0,
        )
    return ResetStarted(
        identifier=primary,
        channel=sent.channel,
        destination=sent.destination,
        resend_in=sent.resend_in,
    )


def user_deactivate(*, user: User, client: ClientInfo | None = None) -> None:
    """Staff action: the account can no longer sign in; every session ends now."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        sessions_revoke_all(user=user, client=client, reason="deactivated", record=False)
        event_record(kind=SecurityEvent.DEACTIVATED, user=user, client=client)


def account_export(*, user: User, session: DeviceSession | None) -> dict[str, Any]:
    """Everything stored about the user, as one JSON-ready document (SPEC
    §5.3 and the per-user data of §16 to §19). Needs a recent authentication
    (SPEC §16.4).

    The rule, field by field: **what is stored about the person goes out;
    what proves or could stand in for a secret never does.** A secret is a
    password or its hash, a TOTP secret (encrypted or not), a recovery code
    or its hash, a token, a token's hash or ``jti``, a code or its hash, a
    challenge's hash and any keyed hash (HMAC) made from a secret or a
    device cookie. Hashes are left out even where their input is exported
    (a passkey's ``credential_hash``): a hash is a lookup key, never data
    of the person's. So:

    - ``account`` — every column of ``User`` but ``password`` (only
      ``has_password``); with the pending addresses, the second-factor flag,
      ``security_version`` (a counter, what a trusted-browser cookie names),
      ``password_reset_via`` (one of the account's own addresses),
      ``password_failures``, ``passkey_offer_dismissed_at``, the language
      (SPEC §21), and the staff flags, group names and directly granted
      permissions.
    - ``profile`` — every column.
    - ``sessions`` — every column but ``refresh_jti`` / ``previous_jti``
      (they identify the live refresh token).
    - ``security_events`` — every column but ``identifier_digest`` (a hash).
    - ``second_factors`` — every factor, passkeys included: kind, name,
      confirmed, created, last used, wrong tries and whether they blocked it
      (SPEC §18.3). Never ``secret`` (the encrypted TOTP secret); not
      ``last_step`` (TOTP's replay marker: ``last_used_at`` in 30-second
      steps, nothing more).
    - ``recovery_codes`` — how many are left and when each used one was
      used; never a code or its hash. ``null`` without a set.
    - ``passkeys`` — name, created, last used, AAGUID and the authenticator
      it names, transports, sign count, backup flags, and the credential id
      and public key (base64url). Both are public by design (the id is sent
      to the browser in ``allowCredentials``, the key can only verify), both
      are stored about the user, and the id is what tells the person which
      entry of their password manager a row is. Never ``credential_hash``.
    - ``known_devices`` (SPEC §18.4) — first and last seen; never
      ``device_hash`` (a keyed hash of the device cookie / ``X-Device-Id``).
    - ``codes`` — the one-time codes bound to the account or sent to one of
      its addresses: purpose, channel, destination, sent, expiry, wrong
      tries, consumed, delivery status. Never ``code_hash``; not
      ``subject`` (an internal binding to an account or sign-up attempt)
      nor ``delivery_error`` (the provider's own diagnostic, for operators).
      A code bound to another account is theirs, even when it went to one of
      these addresses.
    - ``mfa_challenges`` (second steps of sign-in) and ``passkey_challenges``
      — what was asked and when; never ``token_hash`` / ``challenge_hash``,
      nor ``bound_to`` (an internal link to a session or second step).

    Sign-up attempts (``SignupAttempt``) belong to no account: they hold a
    password hash and may be anyone's, so they are not part of it. A
    trusted-browser cookie (SPEC §16.5) is signed, never stored, so nothing
    of it can go out.

    A fixed number of queries, however many rows: one per kind of row.
    """
    reauth_require(session=session)
    profile = getattr(user, "profile", None)
    sessions = DeviceSession.objects.filter(user=user).order_by("-created_at")
    events = selectors.events_for_user(user=user)
    factors = list(
        Authenticator.objects.filter(user=user)
        .select_related("passkey")
        .order_by("created_at", "id")
    )
    recovery_used = list(
        RecoveryCode.objects.filter(
            authenticator__user=user, authenticator__kind=Authenticator.Kind.RECOVERY_CODES
        )
        .order_by("used_at", "id")
        .values_list("used_at", flat=True)
    )
    devices = KnownDevice.objects.filter(user=user).order_by("first_seen_at", "id")
    addresses = [a for a in (user.email, user.phone) if a]
    codes = OneTimeCode.objects.filter(
        Q(user=user) | Q(user__isnull=True, destination__in=addresses)
    ).order_by("-created_at", "-id")
    mfa_challenges = MfaChallenge.objects.filter(user=user).order_by("-created_at")
    passkey_challenges = WebAuthnChallenge.objects.filter(user=user).order_by("-created_at", "-id")
    ceiling = settings.SIGNIN_MAX_CONSECUTIVE_FAILURES
    has_recovery = any(f.kind == Authenticator.Kind.RECOVERY_CODES for f in factors)
    return {
        "account": {
            "id": user.id,
            "email": user.email,
            "phone": user.phone,
            "username": user.username,
            "pending_email": user.pending_email,
            "pending_phone": user.pending_phone,
            "email_verified_at": user.email_verified_at,
            "phone_verified_at": user.phone_verified_at,
            "has_password": user.has_usable_password(),
            "is_active": user.is_active,
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "permissions": sorted(
                f"{app_label}.{codename}"
                for app_label, codename in user.user_permissions.values_list(
                    "content_type__app_label", "codename"
                )
            ),
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "language": user.language,
            "mfa_enabled": user.mfa_enabled,
            "security_version": user.security_version,
            "password_reset_via": user.password_reset_via or None,
            "password_failures": user.password_failures,
            "passkey_offer_dismissed_at": user.passkey_offer_dismissed_at,
        },
        "profile": (
            {field: getattr(profile, field) for field in EDITABLE_FIELDS}
            | {"updated_at": profile.updated_at}
            if profile is not None
            else None
        ),
        "sessions": [
            {
                "id": str(s.id),
                "kind": s.kind,
                "created_at": s.created_at,
                "authenticated_at": s.authenticated_at,
                "last_used_at": s.last_used_at,
                "rotated_at": s.rotated_at,
                "refresh_grace_used": s.grace_used,
                "expires_at": s.expires_at,
                "revoked_at": s.revoked_at,
                "revoked_reason": s.revoked_reason,
                "ip": s.ip,
                "user_agent": s.user_agent,
            }
            for s in sessions
        ],
        "security_events": [
            {
                "id": e.id,
                "kind": e.kind,
                "identifier": e.identifier,
                "ip": e.ip,
                "user_agent": e.user_agent,
                "created_at": e.created_at,
            }
            for e in events
        ],
        "second_factors": [
            {
                "id": f.pk,
                "kind": f.kind,
                "name": f.name,
                "confirmed": f.confirmed,
                "created_at": f.created_at,
                "last_used_at": f.last_used_at,
                "failures": f.failures,
                "blocked": f.failures >= ceiling,
            }
            for f in factors
        ],
        "recovery_codes": (
            {
                "left": sum(1 for used_at in recovery_used if used_at is None),
                "used_at": [used_at for used_at in recovery_used if used_at is not None],
            }
            if has_recovery
            else None
        ),
        "passkeys": [
            _passkey_export(f, f.passkey)
            for f in factors
            if getattr(f, "passkey", None) is not None
        ],
        "known_devices": [
            {"id": d.pk, "first_seen_at": d.first_seen_at, "last_seen_at": d.last_seen_at}
            for d in devices
        ],
        "codes": [
            {
                "id": c.pk,
                "purpose": c.purpose,
                "channel": c.channel,
                "destination": c.destination,
                "created_at": c.created_at,
                "expires_at": c.expires_at,
                "attempts": c.attempts,
                "consumed_at": c.consumed_at,
                "delivery_status": c.delivery_status,
            }
            for c in codes
        ],
        "mfa_challenges": [
            {
                "first_factor": m.first_factor,
                "identifier": m.identifier,
                "account_created": m.created,
                "tries": m.failures,  # taken before the check: a right one counts too
                "created_at": m.created_at,
                "expires_at": m.expires_at,
                "used_at": m.used_at,
            }
            for m in mfa_challenges
        ],
        "passkey_challenges": [
            {
                "ceremony": w.ceremony,
                "created_at": w.created_at,
                "expires_at": w.expires_at,
                "used_at": w.used_at,
            }
            for w in passkey_challenges
        ],
    }


def _base64url(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")


def _passkey_export(factor: Authenticator, passkey: Passkey) -> dict[str, Any]:
    return {
        "id": factor.pk,
        "name": factor.name,
        "created_at": factor.created_at,
        "last_used_at": factor.last_used_at,
        "aaguid": passkey.aaguid or None,
        "authenticator_name": KNOWN_AUTHENTICATORS.get(passkey.aaguid),
        "transports": list(passkey.transports or []),
        "sign_count": passkey.sign_count,
        "backup_eligible": passkey.backup_eligible,
        "backed_up": passkey.backed_up,
        "credential_id": passkey.credential_id,
        "public_key": _base64url(bytes(passkey.public_key)),
    }


def account_delete(
    *,
    user: User,
    password: str | None = None,
    code: str | None = None,
    client: ClientInfo,
    session: DeviceSession | None = None,
) -> None:
    """Delete the account: confirmed by the password, or for an account without
    one by a fresh sign-in code (``/auth/otp/request``) sent to its primary
    address, or by a recent authentication of this session (SPEC §16.4).
    User, profile, sessions and codes are removed; the security events stay
    for the record but lose every personal detail."""
    if code and user.has_usable_password():
        # Not a way to confirm for this account: refused rather than ignored
        # (a code sent within the step-up window would otherwise pass unread).
        raise ValidationFailed.for_field(
            "otp", _("This account has a password: confirm with it instead.")
        )
    if code and not password:
        code_consume_recorded(
            purpose=otp.LOGIN,
            identifier=user.primary_identifier,
            code=code,
            user=user,
            client=client,
        )
    else:
        reauth_inline_password(user=user, session=session, password=password, client=client)
    account_remove(user=user)


def account_remove(*, user: User) -> None:
    """Remove the account with no confirmation asked: the last step of
    ``account_delete`` and the staff admin's delete. User, profile, sessions
    and codes go; the security events stay but lose every personal detail,
    and the account's addresses get a notice."""
    addresses = [a for a in (user.email, user.phone) if a]
    with transaction.atomic():
        # Held first, in the order a code request takes them (its address,
        # then the account's row): a row that refers to the account (a code
        # request's event, say) waits until the account is gone, rather than
        # slipping in between the scrub and the removal and failing the
        # deletion; nor do the two deadlock.
        otp.destinations_lock(addresses)
        account_lock(user)
        events_scrub(user=user, identifiers=[*addresses, user.username or ""])
        otp.otp_delete_for(destinations=addresses, user=user)
        for address in addresses:
            otp.message_send(destination=address, template="notice_account_deleted", user=user)
        user.delete()
        event_record(kind=SecurityEvent.ACCOUNT_DELETED, user=None, identifier=None, client=None)


def new_device_not_me(*, token: str, client: ClientInfo) -> ResetStarted | None:
    """The "this wasn't me" link of a new-device notice (SPEC §18.4): the
    same as the event's own — every session ends and a password reset starts.
    None when the link is not (or no longer) valid."""
    found = not_me_link_read(token)
    if found is None:
        return None
    user, event_id = found
    try:
        return event_not_me(user=user, event_id=event_id, client=client)
    except NotFound:
        return None


def new_device_link_valid(*, token: str) -> bool:
    return not_me_link_read(token) is not None
