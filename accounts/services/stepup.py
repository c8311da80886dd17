"""Recent authentication, "step-up" (SPEC §16.4).

Sensitive changes — second factors, passkeys, an email or phone change, the
export and the deletion of the account — need someone to have proved who
they are on *this* session within ``REAUTH_WINDOW`` seconds: its sign-in, or
a re-authentication (``accounts.services.reauth``) by password, by a code
sent to the account's primary address, by a second factor or by a passkey.
Without one they answer ``reauthentication_required`` (the pages send the
browser to ``/accounts/reauthenticate/?next=…``). The session row keeps when
(``DeviceSession.authenticated_at``); nothing is kept in the client.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import DeviceSession, SecurityEvent, User
from accounts.services.events import event_record
from accounts.services.lockout import password_confirm
from authsite import clock
from authsite.client import ClientInfo
from authsite.errors import CurrentPasswordIncorrect, ReauthenticationRequired, ValidationFailed


def reauth_is_recent(*, session: DeviceSession | None) -> bool:
    if session is None or session.authenticated_at is None:
        return False
    window = timedelta(seconds=settings.REAUTH_WINDOW)
    return clock.now() - session.authenticated_at <= window


def reauth_require(*, session: DeviceSession | None) -> None:
    """Raise ``reauthentication_required`` unless this session proved who it
    is within ``REAUTH_WINDOW``."""
    if not reauth_is_recent(session=session):
        raise ReauthenticationRequired()


def reauth_mark(*, user: User, session: DeviceSession, client: ClientInfo) -> None:
    now = clock.now()
    DeviceSession.objects.filter(pk=session.pk, user=user).update(authenticated_at=now)
    session.authenticated_at = now
    event_record(kind=SecurityEvent.REAUTHENTICATED, user=user, client=client)


def reauth_inline_password(
    *, user: User, session: DeviceSession | None, password: str | None, client: ClientInfo
) -> None:
    """The ``password`` field that address change and deletion always took:
    given, it re-authenticates on the spot (a wrong one is
    ``current_password_incorrect``, under the sign-in lockout); not given, a
    recent authentication is needed."""
    if password:
        if not user.has_usable_password():
            raise ValidationFailed.for_field(
                "password", _("This account has no password: confirm with a code instead.")
            )
        if not password_confirm(user=user, password=password):
            raise CurrentPasswordIncorrect(
                errors={"password": [str(CurrentPasswordIncorrect.default_message)]}
            )
        if session is not None:
            reauth_mark(user=user, session=session, client=client)
        return
    reauth_require(session=session)
