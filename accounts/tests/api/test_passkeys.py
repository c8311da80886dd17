"""Passkeys through the API (SPEC §17) with a software authenticator: register,
sign in without an identifier, second factor, re-authentication, removal; and
every way a ceremony must fail, each a clear envelope error."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.models import Passkey, SecurityEvent, WebAuthnChallenge
from accounts.tests.helpers import assert_error, assert_ok
from authsite.testing.webauthn import SoftAuthenticator
from conftest import PASSKEY_ORIGIN as ORIGIN
from conftest import STRONG_PASSWORD, CommitAPIClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relying_party")]

API = "/api/v1/auth"


def signed_in(user) -> CommitAPIClient:
    client = CommitAPIClient()
    session = assert_ok(
        client.post(
            f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        )
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    return client


def register(client, authenticator: SoftAuthenticator, name: str | None = None) -> dict:
    options = assert_ok(client.post(f"{API}/passkeys/register/options", {}, format="json"))
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["attestation"] == "none"
    body = {"credential": authenticator.create(options)}
    if name:
        body["name"] = name
    return assert_ok(client.post(f"{API}/passkeys/register", body, format="json"), 201)


def login_options(client) -> dict:
    return assert_ok(client.post(f"{API}/passkeys/login/options", {}, format="json"))


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


@pytest.fixture
def registered(user, authenticator):
    client = signed_in(user)
    added = register(client, authenticator, name="My phone")
    return client, added


def test_register_then_sign_in_without_an_identifier(user, registered, authenticator, api_client):
    _client, added = registered
    assert added["name"] == "My phone"
    assert len(added["recovery_codes"]) == settings.MFA_RECOVERY_CODES  # the first factor
    user.refresh_from_db()
    assert user.mfa_enabled
    options = login_options(api_client)
    assert options.get("allowCredentials", []) == []
    assert options["userVerification"] == "required"
    session = assert_ok(
        api_client.post(
            f"{API}/passkeys/login", {"credential": authenticator.get(options)}, format="json"
        )
    )
    assert session["user"]["id"] == user.id
    kinds = list(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert "passkey_added" in kinds and "passkey_login" in kinds


def test_existing_credentials_are_excluded_at_registration(registered):
    client, _added = registered
    options = assert_ok(client.post(f"{API}/passkeys/register/options", {}, format="json"))
    assert len(options["excludeCredentials"]) == 1


def test_a_passkey_is_a_second_factor_of_a_password_sign_in(
    user, registered, authenticator, api_client
):
    body = assert_error(
        api_client.post(
            f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        ),
        401,
        "mfa_required",
    )
    token = body["data"]["mfa_token"]
    assert "webauthn" in body["data"]["methods"]
    options = assert_ok(
        api_client.post(
            f"{API}/mfa/challenge", {"mfa_token": token, "method": "webauthn"}, format="json"
        )
    )
    assert len(options["allowCredentials"]) == 1
    session = assert_ok(
        api_client.post(
            f"{API}/mfa/verify",
            {"mfa_token": token, "method": "webauthn", "credential": authenticator.get(options)},
            format="json",
        )
    )
    assert session["user"]["id"] == user.id


def test_reauthenticate_with_a_passkey_then_remove_it(user, registered, authenticator, clock):
    client, added = registered
    clock.advance(settings.REAUTH_WINDOW + 1)
    assert_error(client.delete(f"{API}/passkeys/{added['id']}"), 401, "reauthentication_required")
    options = assert_ok(client.post(f"{API}/reauthenticate/passkey/options", format="json"))
    assert_ok(
        client.post(
            f"{API}/reauthenticate",
            {"method": "webauthn", "credential": authenticator.get(options)},
            format="json",
        )
    )
    assert_ok(client.delete(f"{API}/passkeys/{added['id']}"))
    assert not Passkey.objects.exists()
    user.refresh_from_db()
    assert not user.mfa_enabled


def test_list_and_rename(registered):
    client, added = registered
    listed = assert_ok(client.get(f"{API}/passkeys"))
    assert [p["name"] for p in listed] == ["My phone"]
    renamed = assert_ok(
        client.patch(f"{API}/passkeys/{added['id']}", {"name": "Laptop"}, format="json")
    )
    assert renamed["name"] == "Laptop"
    assert_error(
        client.patch(f"{API}/passkeys/999999", {"name": "x"}, format="json"), 404, "not_found"
    )


# --- what must fail -------------------------------------------------------------------------------


def _login(api_client, credential):
    return api_client.post(f"{API}/passkeys/login", {"credential": credential}, format="json")


def test_a_replayed_assertion_is_refused(registered, authenticator, api_client):
    credential = authenticator.get(login_options(api_client))
    assert_ok(_login(api_client, credential))
    assert_error(_login(api_client, credential), 400, "passkey_invalid")


def test_a_challenge_of_another_ceremony_is_refused(registered, authenticator, api_client):
    client, _added = registered
    # A registration challenge signed as if it were a login.
    options = assert_ok(client.post(f"{API}/passkeys/register/options", {}, format="json"))
    forged = {"challenge": options["challenge"], "rpId": "auth.example.com"}
    assert_error(_login(api_client, authenticator.get(forged)), 400, "passkey_invalid")


def test_an_expired_challenge_is_refused(registered, authenticator, api_client, clock):
    options = login_options(api_client)
    clock.advance(301)
    assert_error(_login(api_client, authenticator.get(options)), 400, "passkey_invalid")


def test_a_challenge_the_server_never_made_is_refused(registered, authenticator, api_client):
    forged = {
        "challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "rpId": "auth.example.com",
    }
    assert_error(_login(api_client, authenticator.get(forged)), 400, "passkey_invalid")


def test_a_wrong_origin_is_refused(registered, authenticator, api_client):
    options = login_options(api_client)
    credential = authenticator.get(options, origin="https://evil.example")
    assert_error(_login(api_client, credential), 400, "passkey_invalid")


def test_a_native_apps_origin_is_accepted(registered, authenticator, api_client):
    options = login_options(api_client)
    credential = authenticator.get(options, origin="android:apk-key-hash:abc123")
    assert_ok(_login(api_client, credential))


def test_a_wrong_relying_party_is_refused(registered, authenticator, api_client):
    options = login_options(api_client)
    credential = authenticator.get(options, rp_id="evil.example")
    assert_error(_login(api_client, credential), 400, "passkey_invalid")


def test_another_accounts_credential_is_refused_as_a_second_factor(
    user, make_user, registered, authenticator, api_client
):
    other = make_user(email="other@example.com")
    other_key = SoftAuthenticator(origin=ORIGIN)
    register(signed_in(other), other_key)
    body = assert_error(
        api_client.post(
            f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        ),
        401,
        "mfa_required",
    )
    token = body["data"]["mfa_token"]
    options = assert_ok(
        api_client.post(
            f"{API}/mfa/challenge", {"mfa_token": token, "method": "webauthn"}, format="json"
        )
    )
    # The other account's passkey, on this account's challenge.
    wrong = other_key.get(options, credential=other_key.credentials[0])
    assert_error(
        api_client.post(
            f"{API}/mfa/verify",
            {"mfa_token": token, "method": "webauthn", "credential": wrong},
            format="json",
        ),
        400,
        "passkey_invalid",
    )


def test_a_sign_count_that_goes_backwards_is_refused_and_recorded(
    user, registered, authenticator, api_client
):
    assert_ok(_login(api_client, authenticator.get(login_options(api_client), sign_count=5)))
    cloned = authenticator.get(login_options(api_client), sign_count=3)
    assert_error(_login(api_client, cloned), 400, "passkey_invalid")
    assert SecurityEvent.objects.filter(user=user, kind="passkey_counter_went_back").exists()


@pytest.mark.parametrize(
    "credential",
    [
        "not json",
        {},
        {"id": "x", "rawId": "x", "type": "public-key", "response": {}},
        {"id": "x", "rawId": "x", "type": "public-key", "response": {"clientDataJSON": "!!!"}},
        [1, 2, 3],
        "x" * 70000,
    ],
)
def test_garbage_credentials_are_clear_errors(registered, api_client, credential):
    response = _login(api_client, credential)
    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("passkey_invalid", "validation_error")


def test_a_challenge_is_single_use_even_when_the_assertion_fails(
    registered, authenticator, api_client
):
    options = login_options(api_client)
    assert_error(
        _login(api_client, authenticator.get(options, origin="https://evil.example")),
        400,
        "passkey_invalid",
    )
    assert_error(_login(api_client, authenticator.get(options)), 400, "passkey_invalid")
    assert WebAuthnChallenge.objects.filter(used_at__isnull=False).count() >= 1


def test_passkey_login_takes_at_most_eight_queries(
    registered, authenticator, api_client, django_assert_max_num_queries
):
    assert_ok(_login(api_client, authenticator.get(login_options(api_client))))  # device known
    credential = authenticator.get(login_options(api_client))
    with django_assert_max_num_queries(8):
        assert_ok(_login(api_client, credential))


# --- native apps ----------------------------------------------------------------------------------


def test_the_well_known_files_name_the_configured_apps(client, settings):
    assert client.get("/.well-known/assetlinks.json").status_code == 404
    assert client.get("/.well-known/apple-app-site-association").status_code == 404
    settings.WEBAUTHN_ANDROID_APPS = ["com.example.app:aa:bb:cc"]
    settings.WEBAUTHN_IOS_APPS = ["TEAM123.com.example.app"]
    links = client.get("/.well-known/assetlinks.json")
    assert links["Content-Type"] == "application/json"
    (statement,) = links.json()
    assert "delegate_permission/common.get_login_creds" in statement["relation"]
    assert statement["target"] == {
        "namespace": "android_app",
        "package_name": "com.example.app",
        "sha256_cert_fingerprints": ["AA:BB:CC"],
    }
    apple = client.get("/.well-known/apple-app-site-association").json()
    assert apple == {"webcredentials": {"apps": ["TEAM123.com.example.app"]}}


@pytest.mark.parametrize("credential", [None, "a string", [1, 2, 3], 42])
def test_a_credential_that_is_not_an_object_is_a_field_error(api_client, credential):
    # The schema says object: anything else is refused on the field, not as
    # a failed signature (and never reaches the ceremony).
    response = _login(api_client, credential)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["errors"]) == {"credential"}


def test_lengths_count_as_sent_as_the_schema_counts_them(registered, api_client):
    """Found by the schema fuzz: DRF counted a name's length after trimming,
    the schema's maxLength before — 64 characters and padding got through."""
    client, added = registered
    padded = "n" * 64 + "\u00a0\u00a0"
    assert_error(
        client.patch(f"{API}/passkeys/{added['id']}", {"name": padded}, format="json"),
        400,
        "validation_error",
    )
    assert_ok(client.patch(f"{API}/passkeys/{added['id']}", {"name": "n" * 64}, format="json"))
    # The unused identifier of the login options has no limit to disagree about.
    long = " " * 300 + "x" * 300
    assert_ok(api_client.post(f"{API}/passkeys/login/options", {"identifier": long}, format="json"))
