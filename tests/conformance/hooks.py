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
  fetched again the way a user would: sign in with the password.
- **One check of our own**, ``refusals_concern_secrets``: a request the schema
  allows may still be refused with a 400, but only over a value that only the
  server knows — a code, a sign-up token, the current password (the fuzzer
  cannot guess them; ``positive_data_acceptance`` is told 400 is expected) —
  or over the rule of a format that no pattern can state: a phone number of
  the right shape that is no number of its country (``format: phone``), a new
  password the password rules refuse (``format: password``). The coverage
  phase builds values from patterns and lengths and ignores the formats'
  strategies, so it sends such values. Never for anything else.
"""

from __future__ import annotations

import json
import os
import urllib.request

import schemathesis

from tests.conformance.formats import register_formats

# --- formats -----------------------------------------------------------------------------

register_formats()


# --- auth --------------------------------------------------------------------------------


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@schemathesis.auth()
class SignInAgain:
    """The run's account: its first token from sign-up, later ones from sign-in."""

    def __init__(self) -> None:
        self.first = os.environ.get("CONFORMANCE_ACCESS", "")

    def get(self, case, ctx) -> str:
        if self.first:
            token, self.first = self.first, ""
            return token
        body = _post(
            os.environ["CONFORMANCE_BASE_URL"] + "/api/v1/auth/login",
            {
                "email": os.environ["CONFORMANCE_EMAIL"],
                "password": os.environ["CONFORMANCE_PASSWORD"],
            },
        )
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
