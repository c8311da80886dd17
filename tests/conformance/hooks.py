"""Schemathesis hooks of the external conformance run (``make conformance``).

Loaded by the schemathesis CLI (``schemathesis.toml`` beside this file names
it); nothing here runs inside the app.

- **Formats.** The document marks phone numbers ``format: phone`` and
  passwords ``format: password``: shapes a pattern can state, but whose last
  rule it cannot (a number valid for its country; a password that is not
  common nor like the account's addresses). These strategies give schemathesis
  values of that kind, as a client has them: real numbers of many countries,
  strong random passwords.
- **Auth.** Every request carries the bearer token of the account made for
  the run through sign-up and its code (``serve.py``). When an answer is 401
  (the fuzzer signed that session out: logout, "this wasn't me"), the token is
  fetched again the way a user would: sign in with the password (and the
  second step, when the fuzzer turned one on), or, once the fuzzer deleted
  the account, sign up again.
- **One check of our own**, ``refusals_concern_secrets``: a request the schema
  allows may still be refused with a 400, but only over a value that only the
  server knows — a code, a sign-up token, the current password (the fuzzer
  cannot guess them; ``positive_data_acceptance`` is told 400 is expected) —
  or over the rule of a format that no pattern can state: a phone number of
  the right shape that is no number of its country (``format: phone``), a new
  password the password rules refuse (``format: password``). The coverage
  phase builds values from patterns and lengths and ignores the formats'
  strategies, so it sends such values. Never for anything else.
- **Negative bodies judged as sent** (``negatives.py``): a body generated as
  invalid that the schema accepts after all is checked as a valid one.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request

import schemathesis

from tests.conformance.formats import register_formats
from tests.conformance.negatives import register_negative_body_check

# --- formats -----------------------------------------------------------------------------

register_formats()

# A negative body is judged by what is sent (tests/conformance/negatives.py).
register_negative_body_check()


# --- auth --------------------------------------------------------------------------------


def _post(path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        os.environ["CONFORMANCE_BASE_URL"] + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@schemathesis.auth()
class SignInAgain:
    """The run's account: its first token from sign-up, later ones from sign-in.

    The fuzzer may do to the account what its owner may: turn on codes as a
    second factor (then sign-in goes through the second step, with the code
    the development server exposes, as a person reads it from the message),
    or delete it with a fresh session (then a new account is made the same
    way as the first)."""

    def __init__(self) -> None:
        self.first = os.environ.get("CONFORMANCE_ACCESS", "")
        self.email = os.environ["CONFORMANCE_EMAIL"]
        self.password = os.environ["CONFORMANCE_PASSWORD"]

    def get(self, case, ctx) -> str:
        if self.first:
            token, self.first = self.first, ""
            return token
        status, body = _post("/api/v1/auth/login", {"email": self.email, "password": self.password})
        if status == 200:
            return body["data"]["access"]
        if body.get("code") == "mfa_required":
            token = self._second_step(body["data"]["mfa_token"])
            if token:
                return token
        return self._sign_up()

    def _second_step(self, mfa_token: str) -> str | None:
        status, sent = _post(
            "/api/v1/auth/mfa/challenge", {"mfa_token": mfa_token, "method": "code"}
        )
        if status != 200 or "otp" not in sent["data"]:
            return None
        status, body = _post(
            "/api/v1/auth/mfa/verify",
            {"mfa_token": mfa_token, "method": "code", "code": sent["data"]["otp"]},
        )
        return body["data"]["access"] if status == 200 else None

    def _sign_up(self) -> str:
        self.email = f"run-{secrets.token_hex(4)}@example.com"
        status, started = _post(
            "/api/v1/auth/signup", {"email": self.email, "password": self.password}
        )
        assert status == 201, started
        status, body = _post(
            "/api/v1/auth/signup/verify",
            {"signup_token": started["data"]["signup_token"], "otp": started["data"]["otp"]},
        )
        assert status == 200, body
        return body["data"]["access"]

    def set(self, case, data, ctx) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# --- our check ---------------------------------------------------------------------------

SECRET_FIELDS = {"otp", "signup_token", "password", "current_password"}
NEW_PASSWORD_FIELDS = {"password", "new_password"}
PHONE_FIELDS = {"phone", "identifier"}
NOT_A_NUMBER = "Enter a valid phone number."
SECRET_CODES = {
    "otp_invalid",
    "otp_attempts_exceeded",
    "current_password_incorrect",
    "password_unchanged",
    # A passkey's signature: only the authenticator can make one.
    "passkey_invalid",
}


@schemathesis.check
def refusals_concern_secrets(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    body = response.json()
    code = body.get("code")
    if code in SECRET_CODES:
        return None
    errors = body.get("errors") or {}
    if (
        code == "validation_error"
        and errors
        and all(
            field in SECRET_FIELDS
            or field in NEW_PASSWORD_FIELDS
            or (field in PHONE_FIELDS and messages == [NOT_A_NUMBER])
            for field, messages in errors.items()
        )
    ):
        return None
    fields = set(errors)
    raise AssertionError(
        f"A request the schema allows was refused for its shape: {code} "
        f"on {sorted(fields) or 'the body'}: {body.get('errors')}"
    )
