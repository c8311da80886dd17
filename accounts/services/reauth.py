"""Re-authenticating a session (SPEC §16.4): by password, by a code sent to
the account's primary address, or by a second factor. What needs one is
``accounts.services.stepup``'s."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounts.models import DeviceSession, User
from accounts.services import mfa, passkeys
from accounts.services.codes import CodeSent, code_consume_recorded, code_issue_recorded, code_sent
from accounts.services.lockout import password_confirm
from accounts.services.stepup import reauth_mark
from authsite.client import ClientInfo
from authsite.errors import CurrentPasswordIncorrect, ValidationFailed
from otp import services as otp


def reauthenticate(
    *,
    user: User,
    session: DeviceSession,
    client: ClientInfo,
    password: str | None = None,
    code: str | None = None,
    method: str | None = None,
    credential: Any = None,
) -> None:
    """Prove who you are again on this session: the ``password``; or a
    ``code`` from ``reauth_code_send``; or a second factor (``method`` =
    ``totp`` / ``recovery_code`` with its ``code``)."""
    if password:
        if not user.has_usable_password() or not password_confirm(user=user, password=password):
            raise CurrentPasswordIncorrect(
                errors={"password": [str(CurrentPasswordIncorrect.default_message)]}
            )
    elif method == mfa.WEBAUTHN:
        passkeys.passkey_assert(
            credential=credential,
            ceremony=passkeys.Ceremony.REAUTHENTICATION,
            user=user,
            bound_to=_subject(session),
            client=client,
        )
    elif method in (mfa.TOTP, mfa.RECOVERY_CODE):
        mfa.factor_check(
            user=user,
            method=method,
            code=code,
            subject="",
            first_factor_identifier=None,
            client=client,
        )
    elif code:
        code_consume_recorded(
            purpose=otp.REAUTHENTICATION,
            identifier=user.primary_identifier,
            code=code,
            user=user,
            subject=_subject(session),
            bound_user=user,
            client=client,
        )
    else:
        message = _("Give your password, a code we sent you, or a second factor.")
        raise ValidationFailed(errors={"password": [message], "code": [message]})
    reauth_mark(user=user, session=session, client=client)


def _subject(session: DeviceSession) -> str:
    return f"reauth:{session.pk}"


def reauth_passkey_options(*, user: User, session: DeviceSession) -> dict[str, Any]:
    """Request options to re-authenticate this session with a passkey."""
    return passkeys.passkey_request_options(
        ceremony=passkeys.Ceremony.REAUTHENTICATION, user=user, bound_to=_subject(session)
    )


def reauth_code_send(*, user: User, session: DeviceSession, client: ClientInfo) -> CodeSent:
    """A code to the account's primary address, to re-authenticate this
    session with (the cooldown and hourly cap of codes apply)."""
    issued = code_issue_recorded(
        purpose=otp.REAUTHENTICATION,
        identifier=user.primary_identifier,
        user=user,
        subject=_subject(session),
        client=client,
    )
    return code_sent(issued)
