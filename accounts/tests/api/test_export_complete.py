"""The export holds everything stored about the account (SPEC §5.3, with the
per-user data of §16 to §19) and never a secret; its query count does not
grow with the rows (no N+1)."""

from __future__ import annotations

import json
import re
import uuid

import pyotp
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import (
    Authenticator,
    DeviceSession,
    KnownDevice,
    MfaChallenge,
    Passkey,
    RecoveryCode,
    SecurityEvent,
    User,
    WebAuthnChallenge,
)
from accounts.services.passkeys import passkey_offer_dismiss
from accounts.tests.helpers import assert_error, assert_ok, last_code_for
from authsite import clock as clock_module
from authsite.testing.webauthn import SoftAuthenticator
from conftest import PASSKEY_ORIGIN, STRONG_PASSWORD, CommitAPIClient
from otp.models import OneTimeCode

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relying_party")]

API = "/api/v1/auth"
EXPORT = f"{API}/account/export"
PHONE = "+919876543210"
ICLOUD = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
# What may be named like a secret in the document: flags and counts about one.
ALLOWED_KEYS = {"has_password", "password_reset_via", "password_failures"}
SECRET_WORDS = ("password", "secret", "hash", "jti", "token", "otp")
TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock_module.now().timestamp())


def sign_in(device_id: str, email: str = "alice@example.com") -> tuple[CommitAPIClient, dict]:
    client = CommitAPIClient(HTTP_X_DEVICE_ID=device_id, HTTP_USER_AGENT="Export-Test/1.0")
    session = assert_ok(
        client.post(f"{API}/login", {"email": email, "password": STRONG_PASSWORD}, format="json")
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    return client, session


def register_passkey(client, authenticator: SoftAuthenticator, name: str) -> dict:
    options = assert_ok(client.post(f"{API}/passkeys/register/options", {}, format="json"))
    body = {"credential": authenticator.create(options), "name": name}
    return assert_ok(client.post(f"{API}/passkeys/register", body, format="json"), 201)


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


def hash_parts(encoded: str) -> list[str]:
    """A stored hash and its long parts ("argon2$…$salt$hash": salt and hash)."""
    return [encoded, *(p for p in re.split(r"[$:]", encoded) if len(p) >= 16)]


@pytest.fixture
def everything(user, clock, settings):
    """``user`` with all there is to export, made through the API: a known
    device per sign-in, a pending phone, an authenticator app (blocked by a
    wrong code: the ceiling is 1 here), recovery codes (one spent), a
    passkey, and the "not now" to the passkey offer. Returns the client of
    the last sign-in (fresh, so the export needs no re-authentication) and
    everything secret the account was given."""
    settings.SIGNIN_MAX_CONSECUTIVE_FAILURES = 1
    first, first_session = sign_in("device-one-0001")
    assert_ok(
        first.post(
            f"{API}/contact/change", {"phone": PHONE, "password": STRONG_PASSWORD}, format="json"
        )
    )
    change_code = last_code_for(PHONE)
    setup = assert_ok(first.post(f"{API}/mfa/totp/setup", format="json"))
    confirmed = assert_ok(
        first.post(f"{API}/mfa/totp/confirm", {"code": totp_now(setup["secret"])}, format="json")
    )
    recovery_codes = confirmed["recovery_codes"]
    authenticator = SoftAuthenticator(origin=PASSKEY_ORIGIN, aaguid=uuid.UUID(ICLOUD).bytes)
    passkey = register_passkey(first, authenticator, "My phone")
    passkey_offer_dismiss(user)  # "Not now" is a page's button (accounts.views)

    # A second sign-in, from another device: a wrong app code (which blocks
    # the app at this ceiling), then a recovery code.
    clock.advance(60)
    second = CommitAPIClient(HTTP_X_DEVICE_ID="device-two-0002", HTTP_USER_AGENT="Export-Test/2.0")
    body = assert_error(
        second.post(
            f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        ),
        401,
        "mfa_required",
    )
    mfa_token = body["data"]["mfa_token"]
    wrong = f"{(int(totp_now(setup['secret'])) + 1) % 10**6:06d}"
    assert_error(
        second.post(
            f"{API}/mfa/verify",
            {"mfa_token": mfa_token, "method": "totp", "code": wrong},
            format="json",
        ),
        400,
        "otp_invalid",
    )
    session = assert_ok(
        second.post(
            f"{API}/mfa/verify",
            {"mfa_token": mfa_token, "method": "recovery_code", "code": recovery_codes[0]},
            format="json",
        )
    )
    second.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    secrets = {
        "totp": setup["secret"],
        "otpauth_uri": setup["otpauth_uri"],
        "recovery_codes": recovery_codes,
        "tokens": [first_session["access"], first_session["refresh"], session["access"]],
        "refresh": session["refresh"],
        "mfa_token": mfa_token,
        "codes": [change_code],
        "device_ids": ["device-one-0001", "device-two-0002"],
    }
    return second, session, passkey, authenticator, secrets


def test_the_export_holds_every_kind_of_row(user, everything):
    client, session, passkey, _authenticator, _secrets = everything
    data = assert_ok(client.get(EXPORT))

    account = data["account"]
    assert account["id"] == user.id and account["email"] == "alice@example.com"
    assert account["pending_phone"] == PHONE and account["pending_email"] is None
    assert account["phone"] is None  # not verified yet
    assert account["has_password"] is True and account["mfa_enabled"] is True
    assert account["passkey_offer_dismissed_at"] is not None
    assert account["is_staff"] is False and account["groups"] == []
    assert account["security_version"] >= 1

    factors = {f["kind"]: f for f in data["second_factors"]}
    assert set(factors) == {"totp", "recovery_codes", "webauthn"}
    totp = factors["totp"]
    assert totp["confirmed"] is True and totp["created_at"]
    assert totp["failures"] == 1 and totp["blocked"] is True  # the ceiling is 1 here
    assert factors["recovery_codes"]["last_used_at"] is not None
    assert data["recovery_codes"]["left"] == 9
    assert len(data["recovery_codes"]["used_at"]) == 1

    [exported] = data["passkeys"]
    assert exported["id"] == passkey["id"] == factors["webauthn"]["id"]
    assert exported["name"] == "My phone"
    assert exported["aaguid"] == ICLOUD and exported["authenticator_name"] == "iCloud Keychain"
    assert exported["transports"] == ["internal"]
    assert exported["created_at"] and exported["last_used_at"] is None
    stored = Passkey.objects.get(pk=passkey["id"])
    assert exported["credential_id"] == stored.credential_id
    assert exported["public_key"] and exported["sign_count"] == 0

    assert len(data["known_devices"]) == 2
    assert all(d["first_seen_at"] and d["last_seen_at"] for d in data["known_devices"])
    assert len(data["sessions"]) == 2
    assert session["session_id"] in {s["id"] for s in data["sessions"]}

    codes = [c for c in data["codes"] if c["purpose"] == "contact_change"]
    assert [c["destination"] for c in codes] == [PHONE]
    assert codes[0]["channel"] == "sms" and codes[0]["consumed_at"] is None

    [challenge] = data["mfa_challenges"]
    assert challenge["first_factor"] == "password" and challenge["used_at"] is not None
    assert challenge["tries"] == 2  # the wrong app code, then the recovery code
    assert [c["ceremony"] for c in data["passkey_challenges"]] == ["registration"]

    kinds = {e["kind"] for e in data["security_events"]}
    assert {"mfa_enabled", "passkey_added", "recovery_code_used", "login_success"} <= kinds


def test_no_secret_goes_out(user, everything):
    client, session, _passkey, _authenticator, secrets = everything
    response = client.get(EXPORT)
    document = assert_ok(response)
    text = response.content.decode()
    user.refresh_from_db()

    # No key names a secret, anywhere in the document.
    named = {k for k in keys_of(document) if any(w in k.lower() for w in SECRET_WORDS)}
    assert named <= ALLOWED_KEYS, named

    forbidden = [
        *hash_parts(user.password),
        STRONG_PASSWORD,
        secrets["totp"],
        secrets["otpauth_uri"],
        secrets["mfa_token"],
        secrets["refresh"],
        *secrets["device_ids"],
    ]
    for token in secrets["tokens"]:
        forbidden += token.split(".")
    forbidden += session["refresh"].split(".")
    for code in secrets["recovery_codes"]:
        forbidden += [code, code.replace("-", "")]
    forbidden += (
        Authenticator.objects.filter(user=user).exclude(secret="").values_list("secret", flat=True)
    )
    for encoded in RecoveryCode.objects.filter(authenticator__user=user).values_list(
        "code_hash", flat=True
    ):
        forbidden += hash_parts(encoded)
    for refresh_jti, previous_jti in DeviceSession.objects.filter(user=user).values_list(
        "refresh_jti", "previous_jti"
    ):
        forbidden += [j for j in (refresh_jti, previous_jti) if j]
    forbidden += OneTimeCode.objects.values_list("code_hash", flat=True)
    forbidden += Passkey.objects.values_list("credential_hash", flat=True)
    forbidden += KnownDevice.objects.values_list("device_hash", flat=True)
    forbidden += MfaChallenge.objects.values_list("token_hash", flat=True)
    forbidden += WebAuthnChallenge.objects.values_list("challenge_hash", flat=True)
    forbidden += SecurityEvent.objects.exclude(identifier_digest="").values_list(
        "identifier_digest", flat=True
    )
    forbidden = [f for f in forbidden if f]
    assert len(forbidden) > 30  # the setup made what this test looks for
    leaked = [f for f in forbidden if f in text]
    assert not leaked, leaked

    # Six-digit codes, away from the microseconds of timestamps.
    without_times = TIMESTAMP_RE.sub("", text)
    for code in secrets["codes"]:
        assert not re.search(rf"(?<!\d){code}(?!\d)", without_times), code
    # The passkey's private half never reached the server; its public key is
    # public by design (and documented as exported).
    assert json.loads(text)["data"]["passkeys"][0]["public_key"]


def _export_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert_ok(client.get(EXPORT))
    return len(queries)


def passkey_sign_in(device_id: str, authenticator: SoftAuthenticator) -> CommitAPIClient:
    client = CommitAPIClient(HTTP_X_DEVICE_ID=device_id, HTTP_USER_AGENT="Export-Test/3.0")
    options = assert_ok(client.post(f"{API}/passkeys/login/options", {}, format="json"))
    session = assert_ok(
        client.post(
            f"{API}/passkeys/login", {"credential": authenticator.get(options)}, format="json"
        )
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    return client


def _more_rows(user, client, key: SoftAuthenticator, n: int, start: int) -> CommitAPIClient:
    """``n`` more sign-ins with the passkey ``key`` (each a session, events
    and a known device) and ``n`` more passkeys, through the API; ``n`` more
    codes as the otp service stores them."""
    for i in range(start, start + n):
        client = passkey_sign_in(f"device-more-{i:04d}", key)
    for i in range(start, start + n):
        register_passkey(client, SoftAuthenticator(origin=PASSKEY_ORIGIN), f"Key {i}")
    now = clock_module.now()
    for i in range(start, start + n):
        OneTimeCode.objects.create(
            purpose="login",
            channel="email",
            destination=user.email,
            code_hash=f"{i:064x}",
            created_at=now,
            expires_at=now,
        )
    return client


def test_the_query_count_does_not_grow_with_the_rows(user, clock, django_assert_max_num_queries):
    client, _session = sign_in("device-first-0000")
    key = SoftAuthenticator(origin=PASSKEY_ORIGIN)
    register_passkey(client, key, "First key")
    client = _more_rows(user, client, key, 1, 0)
    few = _export_queries(client)
    client = _more_rows(user, client, key, 6, 100)
    assert DeviceSession.objects.filter(user=user).count() == 8
    assert Passkey.objects.filter(authenticator__user=user).count() == 8
    assert KnownDevice.objects.filter(user=user).count() == 8
    many = _export_queries(client)
    assert many == few
    with django_assert_max_num_queries(16):
        data = assert_ok(client.get(EXPORT))
    assert len(data["passkeys"]) == 8 and len(data["known_devices"]) == 8
    assert len(data["sessions"]) == 8 and len(data["codes"]) == 7
    assert len(data["security_events"]) > 16


def test_an_account_with_nothing_added_exports_empty_lists(auth_client, user):
    data = assert_ok(auth_client.get(EXPORT))
    assert data["second_factors"] == [] and data["passkeys"] == []
    assert data["recovery_codes"] is None
    assert data["account"]["pending_phone"] is None
    assert data["account"]["passkey_offer_dismissed_at"] is None
    assert User.objects.filter(pk=user.pk).exists()
