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
@given(generated=NEGATIVE)
@hypothesis_settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_negative_body_the_schema_accepts_is_judged_as_a_valid_one(
    generated, fuzz_settings, keep_test_connection
):
    # What the generator made when it broke the date branch of `date_of_birth`:
    # "", which the schema's other branch allows ("empty means no date").
    case = _as_generated(
        generated, {"email": "blank-date@example.com", "password": STRONG, "date_of_birth": ""}
    )
    response = case.call_and_validate()
    assert response.status_code == 201
    assert not case.meta.is_negative_at(ParameterLocation.BODY)


@pytest.mark.django_db
@given(generated=NEGATIVE)
@hypothesis_settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_negative_body_the_schema_refuses_stays_negative(
    generated, fuzz_settings, keep_test_connection
):
    case = _as_generated(
        generated,
        {"email": "bad-date@example.com", "password": STRONG, "date_of_birth": "yesterday"},
    )
    response = case.call_and_validate()
    assert response.status_code == 400
    assert case.meta.is_negative_at(ParameterLocation.BODY)
