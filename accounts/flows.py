"""The state of a flow that spans pages (sign-up → verify, code sign-in,
forgot → verify → reset, address change, deletion by code, the second step
of sign-in, re-authentication), kept in the browser's Django session under
one key per flow.

It holds the normalised identifier, where the code went (masked, as the pages
show it), when a new code may be sent, the sign-up's ``signup_token``, and for
the reset flow whether the verify step accepted the code (the code itself
rides in a signed cookie, never in server-side storage). The second step of
sign-in (``mfa_flow_start``) holds the pipeline's single-use ``mfa_token``
(encrypted), the methods it offers and where to go afterwards. It ends with
the flow, or after ``FLOW_LIFETIME`` seconds.

Secrets a page shows once — an authenticator app's secret until it is
confirmed, recovery codes just made — are kept with ``secret_keep``: encrypted
(``accounts.crypto``, the key of the TOTP secrets), so the session table never
holds them in the clear, and each with its own short lifetime.
"""

from __future__ import annotations

import json
import math
from typing import Any

import phonenumbers
from django.http import HttpRequest

from accounts.crypto import SecretUnreadable, secret_decrypt, secret_encrypt
from accounts.identifiers import PHONE, Identifier
from authsite import clock
from otp import services as otp

FLOW_LIFETIME = 60 * 60
FLOW_PURPOSES = {
    "signup": otp.SIGNUP,
    "login": otp.LOGIN,
    "reset": otp.PASSWORD_RESET,
    "contact": otp.CONTACT_CHANGE,
    "delete": otp.LOGIN,  # an account without a password confirms with a sign-in code
}
FLOW_PAGES = {
    "signup": "accounts:verify",
    "login": "accounts:login_code_verify",
    "reset": "accounts:password_forgot_verify",
    "contact": "accounts:contact_verify",
    "delete": "accounts:delete",
}
FLOW_STARTS = {
    "signup": "accounts:signup",
    "login": "accounts:login_code",
    "reset": "accounts:password_forgot",
    "contact": "accounts:contact",
    "delete": "accounts:delete",
}
SIGNED_IN_FLOWS = {"contact", "delete"}


def _flow_key(name: str) -> str:
    return f"accounts_flow_{name}"


def now() -> float:
    """Seconds since the epoch, from the project's clock."""
    return clock.now().timestamp()


def flow_open(request: HttpRequest, name: str, **state: Any) -> None:
    """Start (or restart) a flow with this state."""
    request.session[_flow_key(name)] = {"started_at": now(), **state}


def flow_start(
    request: HttpRequest,
    name: str,
    *,
    identifier: Identifier,
    channel: str,
    destination: str,
    resend_in: int,
    **extra: Any,
) -> None:
    """Start a flow whose code went to ``identifier``."""
    flow_open(
        request,
        name,
        kind=identifier.kind,
        value=identifier.value,
        channel=channel,
        destination=destination,
        resend_at=now() + max(0, resend_in),
        **extra,
    )


def flow_get(request: HttpRequest, name: str) -> dict[str, Any] | None:
    state = request.session.get(_flow_key(name))
    if not isinstance(state, dict):
        return None
    if now() - float(state.get("started_at", 0)) > FLOW_LIFETIME:
        flow_end(request, name)
        return None
    return state


def flow_update(request: HttpRequest, name: str, **changes: Any) -> None:
    state = flow_get(request, name)
    if state is not None:
        request.session[_flow_key(name)] = {**state, **changes}


def flow_end(request: HttpRequest, name: str) -> None:
    request.session.pop(_flow_key(name), None)


def flow_identifier(state: dict[str, Any]) -> Identifier:
    return Identifier(state["kind"], state["value"])


def flow_context(name: str, state: dict[str, Any]) -> dict[str, Any]:
    """What a code page shows: where the code went and when a new one may be
    sent. ``address`` is the address unmasked, for a flow whose first step
    the person typed it into on this browser (sign-up, an address change), so
    that they can spot a typo; every other flow shows only the masked
    ``destination``. ``own_address``: the code went to the signed-in
    account's own address (not to whatever was typed), so the page need not
    speak as if no account might use it."""
    return {
        "flow": name,
        "channel": state["channel"],
        "destination": state["destination"],
        "address": address_shown(state) if state.get("typed") else "",
        "own_address": bool(state.get("own_address")),
        "resend_in": resend_in(state),
    }


def address_shown(state: dict[str, Any]) -> str:
    """The flow's address as a person reads it: an email as stored, a phone
    number grouped the international way (+91 98765 43210)."""
    value = str(state.get("value", ""))
    if state.get("kind") != PHONE:
        return value
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def resend_in(state: dict[str, Any]) -> int:
    """Seconds until the flow's code may be sent again (0: now)."""
    return max(0, math.ceil(float(state.get("resend_at", 0)) - now()))


# --- the sign-in page, prefilled once --------------------------------------------------------

LOGIN_PREFILL = "accounts_login_prefill"


def login_prefill_keep(request: HttpRequest, identifier: Identifier) -> None:
    """What the sign-in page shows in its identifier field next time (after a
    password reset: the address the reset was for)."""
    request.session[LOGIN_PREFILL] = identifier.value


def login_prefill_take(request: HttpRequest) -> str:
    value = request.session.pop(LOGIN_PREFILL, "")
    return value if isinstance(value, str) else ""


# --- the second step of sign-in ----------------------------------------------------------

MFA_FLOW = "mfa"
# Where to go once a second factor is added, for a browser sent to add one.
MFA_SETUP_FLOW = "mfa_setup"


def mfa_flow_start(
    request: HttpRequest,
    *,
    mfa_token: str,
    methods: list[str],
    expires_in: int,
    next_url: str,
    admin: bool = False,
) -> None:
    """A first factor asked for a second (``MfaRequired``): keep its token for
    the second-step page, and where to go once it is done (``admin``: the
    sign-in came through the admin's page, which a dead token returns to)."""
    flow_open(
        request,
        MFA_FLOW,
        # Encrypted like the secrets below: the pipeline keeps only a hash of
        # it, and the session table should hold no more.
        mfa_token_box=secret_encrypt(mfa_token),
        methods=list(methods),
        expires_at=now() + max(0, int(expires_in)),
        next=next_url,
        admin=admin,
    )


def mfa_flow_get(request: HttpRequest) -> dict[str, Any] | None:
    """The pending second step, unless its token has expired by the clock
    (the pipeline remains the judge: a spent or dead token is refused there)."""
    state = flow_get(request, MFA_FLOW)
    if state is None or now() >= float(state.get("expires_at", 0)):
        return None
    try:
        token = secret_decrypt(str(state.get("mfa_token_box", "")))
    except SecretUnreadable:
        return None
    return {**state, "mfa_token": token} if token else None


# --- secrets shown once ------------------------------------------------------------------

TOTP_SETUP = "totp_setup"
RECOVERY_CODES = "recovery_codes"
SECRET_LIFETIMES = {TOTP_SETUP: FLOW_LIFETIME, RECOVERY_CODES: 10 * 60}


def _secret_key(name: str) -> str:
    return f"accounts_secret_{name}"


def secret_keep(request: HttpRequest, name: str, value: Any) -> None:
    """Keep a JSON-able ``value`` encrypted in the session until it is taken."""
    request.session[_secret_key(name)] = {
        "box": secret_encrypt(json.dumps(value)),
        "kept_at": now(),
    }


def secret_peek(request: HttpRequest, name: str) -> Any | None:
    """The kept value, left in place; None when absent, too old or unreadable."""
    kept = request.session.get(_secret_key(name))
    if not isinstance(kept, dict):
        return None
    if now() - float(kept.get("kept_at", 0)) > SECRET_LIFETIMES[name]:
        secret_drop(request, name)
        return None
    try:
        return json.loads(secret_decrypt(str(kept.get("box", ""))))
    except (SecretUnreadable, ValueError):
        secret_drop(request, name)
        return None


def secret_take(request: HttpRequest, name: str) -> Any | None:
    """The kept value, removed: it is shown this once."""
    value = secret_peek(request, name)
    secret_drop(request, name)
    return value


def secret_drop(request: HttpRequest, name: str) -> None:
    request.session.pop(_secret_key(name), None)
