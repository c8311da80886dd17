"""Change or add an email address or phone number (SPEC §5.3, §14 rule 10)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.identifiers import EMAIL, ONE_ADDRESS, PHONE, Identifier
from accounts.models import DeviceSession, SecurityEvent, User
from accounts.services.codes import (
    CodeSent,
    code_consume_recorded,
    code_issue_recorded,
    code_sent,
    user_code_subject,
)
from accounts.services.events import event_record
from accounts.services.stepup import reauth_inline_password
from authsite import clock
from authsite.client import ClientInfo
from authsite.errors import AccountExists, NotFound, OtpInvalid, ValidationFailed
from otp import services as otp
from otp.destinations import mask_destination


def contact_change_start(
    *,
    user: User,
    identifier: Identifier,
    password: str | None,
    client: ClientInfo,
    session: DeviceSession | None = None,
) -> CodeSent:
    """Send a code to the new address.

    Needs the password, or a recent authentication (SPEC §16.4). An address that belongs to another
    account gets the same answer as a free one, but no code is sent to it: the
    person asking learns nothing about who owns it, and its owner is not
    bothered. The code is bound to this account (SPEC §22.7): another
    account asking for the same address neither kills it nor spends its cap.
    The address is the account's pending one until its code is entered.
    """
    if identifier.kind not in (EMAIL, PHONE):
        raise ValidationFailed.for_field("email", str(ONE_ADDRESS))
    # The password re-authenticates inline; without it, a recent
    # authentication of this session is needed (SPEC §16.4).
    reauth_inline_password(user=user, session=session, password=password, client=client)
    current = user.email if identifier.kind == EMAIL else user.phone
    if current == identifier.value:
        # 409, as for an address another account holds at sign-up: the
        # request is well formed, the account's state refuses it.
        message = _("This is already the address of your account.")
        raise AccountExists(message, errors={identifier.kind: [message]})
    sent = _contact_code_send(user=user, identifier=identifier, client=client)
    pending_field = f"pending_{identifier.kind}"
    User.objects.filter(pk=user.pk).update(**{pending_field: identifier.value})
    setattr(user, pending_field, identifier.value)
    return sent


def _is_pending(user: User, identifier: Identifier) -> bool:
    return identifier.kind in (EMAIL, PHONE) and (
        getattr(user, f"pending_{identifier.kind}") == identifier.value
    )


def contact_change_resend(*, user: User, identifier: Identifier, client: ClientInfo) -> CodeSent:
    """A new code for the change under way — to the account's *pending*
    address only, which ``contact_change_start`` set after checking the
    password. Any other address is refused: "send a new code" must not be a
    way to start a change without the password (a stolen access token would
    move the account to the thief's address)."""
    if not _is_pending(user, identifier):
        # 404: there is no change to this address to send a code for.
        message = _("No change to this address is under way. Start it again with your password.")
        raise NotFound(message, errors={identifier.kind: [message]})
    return _contact_code_send(user=user, identifier=identifier, client=client)


def _contact_code_send(*, user: User, identifier: Identifier, client: ClientInfo) -> CodeSent:
    """A code for ``user``'s change to ``identifier`` (first send or resend)."""
    owned_by_other = (
        User.objects.filter(**{identifier.kind: identifier.value}).exclude(pk=user.pk).exists()
    )
    issued = code_issue_recorded(
        purpose=otp.CONTACT_CHANGE,
        identifier=identifier,
        user=user,
        subject=user_code_subject(user),
        deliver=not owned_by_other,
        client=client,
    )
    return code_sent(issued)


def contact_change_verify(
    *, user: User, identifier: Identifier, code: str, client: ClientInfo
) -> User:
    """Enter the code sent to the new address: it becomes the account's,
    verified. The old address (if any) gets a notice. Only the pending
    address can be confirmed (the one a password-checked change started)."""
    if not _is_pending(user, identifier):
        raise OtpInvalid()
    code_consume_recorded(
        purpose=otp.CONTACT_CHANGE,
        identifier=identifier,
        code=code,
        user=user,
        client=client,
        subject=user_code_subject(user),
        bound_user=user,
    )
    field = identifier.kind
    old = getattr(user, field)
    now = clock.now()
    try:
        with transaction.atomic():
            setattr(user, field, identifier.value)
            setattr(user, f"{field}_verified_at", now)
            fields = [field, f"{field}_verified_at"]
            if getattr(user, f"pending_{field}") == identifier.value:
                setattr(user, f"pending_{field}", None)
                fields.append(f"pending_{field}")
            user.save(update_fields=fields)
            event_record(
                kind=SecurityEvent.CONTACT_CHANGED,
                user=user,
                identifier=identifier.value,
                client=client,
            )
            if old:
                otp.message_send(
                    destination=old,
                    template="notice_contact_changed",
                    context={"new_destination": mask_destination(identifier.value)},
                    user=user,
                )
    except IntegrityError:
        # Taken by another account since the code was sent.
        user.refresh_from_db()
        raise OtpInvalid() from None
    return user
