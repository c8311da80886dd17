""" "Send a new code" for every purpose, one entry point for both doors."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.identifiers import ONE_ADDRESS, Identifier
from accounts.models import User
from accounts.services.codes import CodeSent
from accounts.services.contact import contact_change_resend
from accounts.services.password import password_forgot
from accounts.services.signin import login_code_request
from accounts.services.signup import signup_resend
from authsite.client import ClientInfo
from authsite.errors import NotAuthenticated, ValidationFailed
from otp import services as otp


def resend_needs_account(purpose: str) -> bool:
    """Whether a resend for ``purpose`` acts for a signed-in account (its
    bearer token then matters; for the other purposes it is ignored)."""
    return purpose == otp.CONTACT_CHANGE


def code_resend(
    *,
    purpose: str,
    client: ClientInfo,
    identifier: Identifier | None = None,
    signup_token: str | None = None,
    user: User | None = None,
) -> CodeSent:
    """Send a new code for ``purpose`` (the cooldown and hourly cap apply).

    The answer does not tell whether an account exists: a request that cannot
    lead anywhere writes the same row and sends nothing. A sign-up's code is
    re-sent for its attempt (``signup_token``); ``contact_change`` belongs to
    a signed-in user (``user``) and is bound to that account.
    """
    if purpose == otp.SIGNUP:
        return signup_resend(signup_token=signup_token, client=client)
    if identifier is None:
        raise ValidationFailed.for_field("email", str(ONE_ADDRESS))
    if purpose == otp.LOGIN:
        return login_code_request(identifier=identifier, client=client)
    if purpose == otp.PASSWORD_RESET:
        return password_forgot(identifier=identifier, client=client)
    if resend_needs_account(purpose):
        if user is None:
            raise NotAuthenticated()
        return contact_change_resend(user=user, identifier=identifier, client=client)
    raise ValidationFailed.for_field("purpose", _("Unknown purpose."))
