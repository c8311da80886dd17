"""The fuzz judges a negative body by what it sends (tests/conformance/negatives.py)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.core.parameters import ParameterLocation

from tests.schema.test_openapi import STRONG, schema

pytestmark = pytest.mark.schema

SIGNUP = schema["/api/v1/auth/signup"]["POST"]
# Sign-up examples whose body the generator made invalid, as a JSON object.
NEGATIVE = SIGNUP.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE).filter(
    lambda case: case.meta.is_negative_at(ParameterLocation.BODY) and isinstance(case.body, dict)
)


def _as_generated(case: schemathesis.Case, body: dict) -> schemathesis.Case:
    """``case`` as if the generator had made ``body``: changed in place before
    the call, which schemathesis takes as the generated state."""
    case.body.clear()
    case.body.update(body)
    return case


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("date_of_birth", "status", "negative"),
    [
        # What the generator made when it broke the date branch: "", which
        # the schema's other branch allows ("empty means no date").
        ("", 201, False),
        # A body the schema refuses stays negative (and ST201 holds for it).
        ("yesterday", 400, True),
    ],
)
@given(generated=NEGATIVE)
@hypothesis_settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_negative_body_is_judged_by_what_is_sent(
    generated, date_of_birth, status, negative, fuzz_settings, keep_test_connection
):
    case = _as_generated(
        generated,
        {"email": "dob@example.com", "password": STRONG, "date_of_birth": date_of_birth},
    )
    response = case.call_and_validate()
    assert response.status_code == status
    assert case.meta.is_negative_at(ParameterLocation.BODY) is negative
