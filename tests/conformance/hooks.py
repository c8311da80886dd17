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
  or a phone number of the right shape that is no number of its country
  (``format: phone``; the coverage phase builds values from the pattern and
  ignores the format's strategy); never for anything else.
"""

from __future__ import annotations

import json
import os
import random
import string
import urllib.request

import phonenumbers
import schemathesis
from hypothesis import strategies as st

# --- formats -----------------------------------------------------------------------------


def _valid_numbers() -> list[str]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                numbers.append(
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                )
    return sorted(set(numbers))


_SYMBOLS = "!#$%&*+-.?@^_~"


def _strong(parts: tuple[str, str, str, str, str], seed: int) -> str:
    chars = list("".join(parts))
    random.Random(seed).shuffle(chars)
    return "".join(chars)


PASSWORDS = st.builds(
    _strong,
    st.tuples(
        st.text(string.ascii_uppercase, min_size=1, max_size=4),
        st.text(string.ascii_lowercase, min_size=3, max_size=12),
        st.text(string.digits, min_size=1, max_size=4),
        st.text(_SYMBOLS, min_size=1, max_size=3),
        st.text(string.ascii_letters + string.digits + _SYMBOLS, max_size=16),
    ),
    st.integers(0, 2**32),
)

schemathesis.openapi.format("phone", st.sampled_from(_valid_numbers()))
schemathesis.openapi.format("password", PASSWORDS)


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
            field in SECRET_FIELDS or (field in PHONE_FIELDS and messages == [NOT_A_NUMBER])
            for field, messages in errors.items()
        )
    ):
        return None
    fields = set(errors)
    raise AssertionError(
        f"A request the schema allows was refused for its shape: {code} "
        f"on {sorted(fields) or 'the body'}: {body.get('errors')}"
    )
