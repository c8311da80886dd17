"""SPEC §19.3: GET /api/v1/config says what this deployment offers."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_config_is_public_and_cacheable(client):
    response = client.get("/api/v1/config")
    assert response.status_code == 200
    cache_control = {p.strip() for p in response["Cache-Control"].split(",")}
    assert cache_control == {"public", "max-age=300"}
    assert "no-store" not in response["Cache-Control"]
    # Its message follows the language (SPEC §21): one cached copy per language.
    vary = {p.strip().lower() for p in response["Vary"].split(",")}
    assert {"accept-language", "cookie"} <= vary
    in_hindi = client.get("/api/v1/config", HTTP_ACCEPT_LANGUAGE="hi").json()["message"]
    assert in_hindi != response.json()["message"]


def test_config_describes_the_deployment(client):
    data = client.get("/api/v1/config").json()["data"]
    assert data == {
        "signin_methods": ["password", "code", "passkey"],
        "second_factors": ["totp", "recovery_codes", "webauthn", "code"],
        "passkeys": True,
        "code": {
            "length": 6,
            "lifetime": 600,
            "resend_cooldown": 30,
            "max_attempts": 5,
            "max_sends_per_hour": 4,
        },
        "password": {
            "min_length": 8,
            "max_length": 1024,
            "require_complexity": True,
            "breach_check": "off",
        },
        "languages": [{"code": "en", "name": "English"}, {"code": "hi", "name": "हिन्दी"}],
        "signup": {
            "channels": ["email", "phone"],
            "code_login_creates_account": True,
            "sms_countries": [],
        },
    }


@override_settings(
    OTP_LENGTH=8,
    OTP_TTL=300,
    OTP_RESEND_COOLDOWN=45,
    PASSWORD_REQUIRE_COMPLEXITY=False,
    PASSWORD_BREACH_CHECK="fail_closed",
    OTP_LOGIN_CREATES_ACCOUNT=False,
    SMS_ALLOWED_COUNTRIES=["IN", "GB"],
    AUTH_PASSWORD_VALIDATORS=[
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 12},
        }
    ],
)
def test_config_follows_the_settings(client):
    data = client.get("/api/v1/config").json()["data"]
    assert data["code"]["length"] == 8
    assert data["code"]["lifetime"] == 300
    assert data["code"]["resend_cooldown"] == 45
    assert data["password"]["min_length"] == 12
    assert data["password"]["require_complexity"] is False
    assert data["password"]["breach_check"] == "fail_closed"
    assert data["signup"]["code_login_creates_account"] is False
    assert data["signup"]["sms_countries"] == ["IN", "GB"]


@override_settings(WEBAUTHN_ENABLED=False, MFA_ALLOW_CODE_FACTOR=False)
def test_second_factors_and_passkeys_follow_the_settings(client):
    data = client.get("/api/v1/config").json()["data"]
    assert data["signin_methods"] == ["password", "code"]
    assert data["second_factors"] == ["totp", "recovery_codes"]
    assert data["passkeys"] is False


@override_settings(WEBAUTHN_ENABLED=False, MFA_ALLOW_CODE_FACTOR=False)
def test_what_config_leaves_out_is_refused(auth_client):
    # The config is not a brochure: what it leaves out really is off.
    passkey = auth_client.post("/api/v1/auth/passkeys/register/options")
    assert (passkey.status_code, passkey.json()["code"]) == (400, "passkey_invalid")
    code = auth_client.post("/api/v1/auth/mfa/code")
    assert (code.status_code, code.json()["code"]) == (400, "validation_error")


def test_config_is_in_the_schema(client):
    document = client.get("/api/v1/schema?format=json").json()
    operation = document["paths"]["/api/v1/config"]["get"]
    assert "security" not in operation or {} in operation["security"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    data = document["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["data"]
    config = document["components"]["schemas"][data["$ref"].rsplit("/", 1)[1]]
    assert set(config["properties"]) == {
        "signin_methods",
        "second_factors",
        "passkeys",
        "code",
        "password",
        "languages",
        "signup",
    }
    factors = config["properties"]["second_factors"]["items"]
    enum = document["components"]["schemas"][factors["$ref"].rsplit("/", 1)[1]]["enum"]
    assert enum == ["totp", "recovery_codes", "webauthn", "code"]
