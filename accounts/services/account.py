"""The account as a whole: "this wasn't me", export, deletion, deactivation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.identifiers import Identifier
from accounts.models import DeviceSession, SecurityEvent, User
from accounts.services.codes import code_consume_recorded
from accounts.services.events import event_record, events_scrub
from accounts.services.newdevice import not_me_link_read
from accounts.services.password import password_forgot
from accounts.services.stepup import reauth_inline_password, reauth_require
from accounts.services.tokens import sessions_revoke_all
from authsite.client import ClientInfo
from authsite.errors import NotFound, RetryLater, ValidationFailed
from otp import services as otp
from otp.destinations import channel_for, mask_destination
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
    """Everything stored about the user, as one JSON-ready document (no
    password hash, no codes, no token strings). Needs a recent
    authentication (SPEC §16.4)."""
    reauth_require(session=session)
    profile = getattr(user, "profile", None)
    sessions = DeviceSession.objects.filter(user=user).order_by("-created_at")
    events = selectors.events_for_user(user=user)
    return {
        "account": {
            "id": user.id,
            "email": user.email,
            "phone": user.phone,
            "username": user.username,
            "email_verified_at": user.email_verified_at,
            "phone_verified_at": user.phone_verified_at,
            "has_password": user.has_usable_password(),
            "is_active": user.is_active,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
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
                "last_used_at": s.last_used_at,
                "expires_at": s.expires_at,
                "revoked_at": s.revoked_at,
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
        events_scrub(user=user, identifiers=[*addresses, user.username or ""])
        otp.otp_delete_for(destinations=addresses, user=user)
        for address in addresses:
            otp.message_send(destination=address, template="notice_account_deleted")
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
