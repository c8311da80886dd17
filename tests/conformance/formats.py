"""Values for the formats the document names but JSON Schema cannot check:
``phone`` (a number valid for its country) and ``password`` (one the password
rules accept: not common, not like the account's addresses). Used by the
conformance run's hooks and by the in-process fuzz (tests/schema)."""

from __future__ import annotations

import random
import string

import phonenumbers
import schemathesis
from hypothesis import strategies as st

_SYMBOLS = "!#$%&*+-.?@^_~"


def valid_numbers() -> list[str]:
    """One mobile and one fixed-line number of every region, E.164."""
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                numbers.append(
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                )
    return sorted(set(numbers))


def _strong(parts: tuple[str, ...], seed: int) -> str:
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


def register_formats() -> None:
    schemathesis.openapi.format("phone", st.sampled_from(valid_numbers()))
    schemathesis.openapi.format("password", PASSWORDS)
