import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError


@pytest.mark.parametrize(
    "weak", ["alllowercase-1", "ALLUPPER-1", "NoDigits-here", "NoSymbol123abc"]
)
def test_composition_rule_refuses_with_a_reason(weak):
    with pytest.raises(ValidationError) as excinfo:
        validate_password(weak)
    assert any("must contain" in message for message in excinfo.value.messages)


def test_composition_rule_can_be_switched_off(settings):
    settings.PASSWORD_REQUIRE_COMPLEXITY = False
    validate_password("correct horse battery staple")


def test_django_validators_still_apply():
    with pytest.raises(ValidationError):
        validate_password("Ab1!")  # too short
    with pytest.raises(ValidationError):
        validate_password("12345678901")  # all digits, common


def test_a_128_character_password_is_accepted():
    validate_password("Aa1!" + "x" * 124)


def test_an_over_long_password_is_refused_with_a_reason():
    with pytest.raises(ValidationError) as excinfo:
        validate_password("Aa1!" + "x" * 5000)
    assert any("too long" in message for message in excinfo.value.messages)
