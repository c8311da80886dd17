"""Token confusion on the API's three token doors — the bearer header
(``/auth/me``), ``/auth/token/refresh`` and ``/auth/token/verify`` (SPEC §5.2,
§14.8).

Two kinds of attack:

- Without the key: a token of the other type, and every other secret the
  service hands out (an ``mfa_token``, a ``signup_token``, a web session's
  id, a reset code, a passkey challenge) sent where a token goes. Each is
  refused with 401, never a 500.
- With the key (a token we did not mint but that verifies — what a leaked
  key, or a bug in minting, would give): the session row is the authority,
  not the claims. A token naming a *web* session, or a valid session of
  another user, or an expiry that never comes, is refused on every door.
  ``/auth/token/verify`` vouched for the first two (found here: its lookup
  took any kind of session and never compared ``user_id``), and every door
  took a non-finite ``exp`` (``1e999`` reads as infinity, ``NaN`` compares
  false with everything) as a token that never expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pyotp
import pytest
from rest_framework_simplejwt.state import token_backend

from accounts.models import DeviceSession
from accounts.services.tokens import session_open
from accounts.services.websessions import web_session_open
from accounts.tests.helpers import assert_error, assert_ok
from authsite import clock
from authsite.client import ClientInfo
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(claims: dict | str, header: dict | str | None = None) -> str:
    """A token signed with the real key: only the rule under test refuses it."""
    head = (
        header if isinstance(header, str) else json.dumps(header or {"alg": "HS256", "typ": "JWT"})
    )
    body = claims if isinstance(claims, str) else json.dumps(claims)
    signing_input = f"{_b64(head.encode())}.{_b64(body.encode())}"
    key = token_backend.get_verifying_key(None)
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _me(client, token: str):
    return client.get(f"{API}/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def _refresh(client, token: str):
    return client.post(f"{API}/token/refresh", {"refresh": token}, format="json")


def _verify(client, token: str):
    return client.post(f"{API}/token/verify", {"token": token}, format="json")


def _refused(response) -> bool:
    assert response.status_code == 401, (response.status_code, response.content[:300])
    assert response.json()["code"] in ("token_invalid", "not_authenticated")
    return True


def _refused_or_too_long(response) -> bool:
    """A body field over its length is the serializer's 400, before any token code."""
    if response.status_code == 400:
        assert response.json()["code"] == "validation_error"
        return True
    return _refused(response)


@pytest.fixture
def pair(victim):
    return session_open(user=victim, client=ClientInfo(ip="127.0.0.1", user_agent="pytest"))


def test_each_type_is_refused_at_the_other_door(api_client, pair):
    """Guard: fails when ``_decode`` stops comparing ``token_type``."""
    assert _me(api_client, pair.access).status_code == 200
    assert _refused(_me(api_client, pair.refresh))
    assert _refused(_refresh(api_client, pair.access))
    # And neither was spent or revoked by being tried at the wrong door.
    assert _refresh(api_client, pair.refresh).status_code == 200


def test_other_secrets_of_the_service_are_no_tokens(api_client, victim):
    """Guard: every secret the service hands out, sent where a token goes, is a
    401 (never a 500) on all three doors; fails (500) when ``_decode`` stops
    translating the parse errors (``ValueError``) into ``token_invalid``."""
    signup = api_client.post(
        f"{API}/signup",
        {"email": "new.person@service.example.com", "password": "Fresh-Sign-Up-Pass-4"},
        format="json",
    )
    assert signup.status_code in (200, 201), signup.content
    signup_token = signup.json()["data"]["signup_token"]
    web = web_session_open(user=victim, client=ClientInfo())
    passkey_challenge = api_client.post(f"{API}/passkeys/login/options", {}, format="json")
    challenge = (passkey_challenge.json().get("data") or {}).get("challenge") or _b64(b"c" * 32)
    secrets = [
        signup_token,
        str(web.pk),
        web.pk.hex,
        "123456",  # a code
        challenge,
        "a.b.c",
        "..",
        "e30.e30.",
        "e30.e30.e30",
    ]
    for secret in secrets:
        assert _refused(_me(api_client, secret)), secret
        assert _refused(_refresh(api_client, secret)), secret
        assert _refused(_verify(api_client, secret)), secret


def test_an_mfa_token_is_no_token(api_client, user):
    """Guard: the ``mfa_token`` of a sign-in waiting at its second step opens
    nothing on the token doors (it is random, not a JWT: fails with a 500 when
    ``_decode`` stops translating parse errors)."""
    access = assert_ok(
        api_client.post(
            f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        )
    )["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    setup = assert_ok(api_client.post(f"{API}/mfa/totp/setup", format="json"))
    code = pyotp.TOTP(setup["secret"]).at(clock.now().timestamp())
    assert_ok(api_client.post(f"{API}/mfa/totp/confirm", {"code": code}, format="json"))
    api_client.credentials()
    body = assert_error(
        api_client.post(
            f"{API}/login", {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        ),
        401,
        "mfa_required",
    )
    token = body["data"]["mfa_token"]
    assert _refused(_me(api_client, token))
    assert _refused(_refresh(api_client, token))
    assert _refused(_verify(api_client, token))


def test_a_token_naming_a_web_session_is_refused_on_every_door(api_client, victim, pair):
    """Fix (``/auth/token/verify``) and guard (``/auth/me``, refresh): a token
    whose ``sid`` is a web session's — signed with the real key — is refused;
    fails when the lookups stop filtering ``kind``."""
    web = web_session_open(user=victim, client=ClientInfo())
    for raw in (pair.access, pair.refresh):
        claims = {**_claims(raw), "sid": str(web.pk)}
        if claims["token_type"] == "refresh":
            DeviceSession.objects.filter(pk=web.pk).update(refresh_jti=claims["jti"])
        forged = _signed(claims)
        assert _refused(_verify(api_client, forged)), claims["token_type"]
        door = _me if claims["token_type"] == "access" else _refresh
        assert _refused(door(api_client, forged))


def test_a_token_naming_another_users_session_is_refused_on_every_door(
    api_client, victim, attacker, pair
):
    """Fix (``/auth/token/verify``) and guard (``/auth/me``, refresh): the
    victim's live ``sid`` with the attacker's ``user_id`` (and the reverse),
    signed with the real key, is refused; fails when the doors stop comparing
    the session's user with ``user_id``."""
    for raw in (pair.access, pair.refresh):
        claims = {**_claims(raw), "user_id": attacker.pk}
        forged = _signed(claims)
        assert _refused(_verify(api_client, forged)), claims["token_type"]
        door = _me if claims["token_type"] == "access" else _refresh
        assert _refused(door(api_client, forged))
    # The victim's session was not touched by any of it.
    assert _me(api_client, pair.access).status_code == 200


@pytest.mark.parametrize(
    "exp",
    ["1e999", "-1e999", "NaN", "Infinity", '"9999999999"', "true", "[9999999999]", "null"],
)
def test_an_expiry_that_is_no_time_is_refused_on_every_door(api_client, pair, exp):
    """Fix: ``exp`` must be a finite number. ``1e999`` (infinity) and ``NaN``
    were taken on every door as a token that never expires; fails when
    ``_decode`` stops requiring a finite number."""
    for raw in (pair.access, pair.refresh):
        claims = _claims(raw)
        body = json.dumps({**claims, "exp": "@EXP@"}).replace('"@EXP@"', exp)
        forged = _signed(body)
        assert _refused(_verify(api_client, forged)), (exp, claims["token_type"])
        door = _me if claims["token_type"] == "access" else _refresh
        assert _refused(door(api_client, forged)), (exp, claims["token_type"])


def test_a_huge_integer_expiry_is_no_500(api_client, pair):
    """Guard: an ``exp`` of 400 digits (a Python int no float holds) is
    compared, not converted: no ``OverflowError`` (a 500) on any door. The
    session's own end still bounds the token."""
    huge = "1" + "0" * 400
    for raw in (pair.access, pair.refresh):
        claims = _claims(raw)
        forged = _signed(json.dumps({**claims, "exp": "@EXP@"}).replace('"@EXP@"', huge))
        door = _me if claims["token_type"] == "access" else _refresh
        for response in (door(api_client, forged), _verify(api_client, forged)):
            assert response.status_code in (200, 401), response.content[:300]


@pytest.mark.parametrize(
    "header",
    [
        '{"alg":"HS256","alg":"none"}',  # duplicate keys: the last one counts
        '{"alg":"none","typ":"JWT"}',
        '{"alg":"HS384","typ":"JWT"}',
        '{"alg":"RS256","typ":"JWT"}',
        '{"alg":"HS256","crit":["kid"],"kid":"x"}',
        '{"alg":"HS256","b64":false}',
        '["HS256"]',
        '"HS256"',
    ],
)
def test_a_header_we_do_not_mint_is_refused_even_signed_with_the_key(api_client, pair, header):
    """Guard: fails when the header check (pinned ``alg``, no ``crit``, no
    unencoded payload, a JSON object) is taken out of ``_hmac_claims``."""
    forged = _signed(_claims(pair.access), header=header)
    assert _refused(_me(api_client, forged))
    assert _refused(_verify(api_client, forged))


def test_a_key_url_in_the_header_fetches_nothing_and_a_foreign_key_signs_nothing(api_client, pair):
    """Guard: ``kid``/``jku``/``x5u`` name keys we never look up; a token
    signed with the attacker's own key and pointing at it is a bad signature;
    fails when the signature comparison is taken out."""
    header = {"alg": "HS256", "kid": "../../attacker", "jku": "https://evil.example/k"}
    header["x5u"] = "https://evil.example/cert"
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(_claims(pair.access)).encode())
    signature = hmac.new(b"attacker-key", f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert _refused(_me(api_client, f"{head}.{body}.{_b64(signature)}"))


@pytest.mark.parametrize(
    "shape",
    [
        lambda t: t + "=",
        lambda t: t.replace(".", ". ", 1),
        lambda t: t[:10] + "\u00a0" + t[10:],
        lambda t: t[:10] + "\u0430" + t[10:],  # a Cyrillic letter
        lambda t: t.replace(".", "\uff0e", 1),  # a full-width dot
        lambda t: t + "." + t.split(".")[1],
    ],
)
def test_padding_whitespace_and_lookalikes_in_a_segment_are_refused(api_client, pair, shape):
    """Guard: fails when ``_segment`` stops refusing what is not canonical
    base64url (its alphabet check and its re-encoding check are each enough;
    both taken out, a padded segment passes), or when the signature check goes."""
    raw = shape(pair.access)
    assert _refused(_me(api_client, raw))
    assert _refused(_refresh(api_client, shape(pair.refresh)))
    assert _refused(_verify(api_client, raw))


def test_a_token_of_100_kb_is_a_fast_401(api_client, pair):
    """Guard: a 100 kB token — a deeply nested JSON header, and an ordinary
    one padded out — is a quick 401 (a 400 for a body field over its length),
    never a 500; fails (500) when ``token_malformed`` stops catching the
    nested header's ``RecursionError``, or when ``_decode`` loses its length
    cap (the padded token, signed with the key, is then accepted)."""
    nested = _b64(b"[" * 100_000)
    padded = _signed({**_claims(pair.access), "pad": "x" * 75_000})
    for raw in (f"{nested}.e30.e30", padded):
        started = time.perf_counter()
        assert _refused(_me(api_client, raw))
        assert _refused_or_too_long(_refresh(api_client, raw))
        assert _refused_or_too_long(_verify(api_client, raw))
        assert time.perf_counter() - started < 2.0
