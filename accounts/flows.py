"""The state of a flow that spans pages (sign-up → verify, code sign-in,
forgot → verify → reset, address change, deletion by code), kept in the
browser's Django session under one key per flow.

It holds the normalised identifier, where the code went (masked, as the pages
show it), when a new code may be sent, the sign-up's ``signup_token``, and for
the reset flow whether the verify step accepted the code (the code itself
rides in a signed cookie, never in server-side storage). It ends with the
flow, or after ``FLOW_LIFETIME`` seconds.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest

from accounts.identifiers import Identifier
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
    started = now()
    request.session[_flow_key(name)] = {
        "kind": identifier.kind,
        "value": identifier.value,
        "channel": channel,
        "destination": destination,
        "resend_at": started + max(0, resend_in),
        "started_at": started,
        **extra,
    }


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
    """What a code page shows: where the code went and when a new one may be sent."""
    return {
        "flow": name,
        "channel": state["channel"],
        "destination": state["destination"],
        "resend_in": max(0, math.ceil(float(state["resend_at"]) - now())),
    }
