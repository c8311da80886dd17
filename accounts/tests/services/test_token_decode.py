"""The HMAC check of access and refresh tokens (``tokens._hmac_claims``, in
place of ``jwt.decode`` on the hot path, issue 21) refuses every token PyJWT
refuses: each forged or malformed token below is signed with the real key
where a signature matters, so only the rule under test can refuse it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from rest_framework_simplejwt.state import token_backend

from accounts.services import tokens
from accounts.services.tokens import session_authenticate, session_open
from authsite.client import ClientInfo
from authsite.errors import TokenInvalid

pytestmark = pytest.mark.django_db


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign(header: bytes, payload: bytes, *, digest=hashlib.sha256) -> str:
    key = token_backend.get_verifying_key(None)
    signing_input = b64(header) + b"." + b64(payload)
    signature = hmac.new(key, signing_input, digest).digest()
    return (signing_input + b"." + b64(signature)).decode()


@pytest.fixture
def access(user):
    pair = session_open(user=user, client=ClientInfo())
    claims = jwt.decode(pair.access, options={"verify_signature": False})
    return pair.access, claims


def reissue(claims: dict, header: dict | None = None, **changes) -> str:
    head = json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode()
    return sign(head, json.dumps({**claims, **changes}).encode())


def refused(token) -> bool:
    with pytest.raises(TokenInvalid):
        session_authenticate(raw_access=token)
    return True


def test_our_own_token_and_a_faithful_copy_are_accepted(access, user):
    raw, claims = access
    assert session_authenticate(raw_access=raw)[0] == user
    assert session_authenticate(raw_access=reissue(claims))[0] == user


def test_pyjwt_and_the_fast_check_read_the_same_claims(access):
    raw = access[0]
    key = token_backend.get_verifying_key(raw)
    assert tokens._hmac_claims(raw, key, "HS256") == jwt.decode(
        raw, key, algorithms=["HS256"], options={"verify_exp": False}
    )


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none"},
        {"alg": "HS512"},
        {"alg": "RS256"},
        {"typ": "JWT"},
        {"alg": "HS256", "crit": ["exp"]},
        {"alg": "HS256", "b64": False},
    ],
)
def test_a_header_asking_for_anything_else_is_refused(access, header):
    assert refused(reissue(access[1], header=header))


def test_another_hmac_algorithm_with_the_same_key_is_refused(access):
    head = json.dumps({"alg": "HS512", "typ": "JWT"}).encode()
    assert refused(sign(head, json.dumps(access[1]).encode(), digest=hashlib.sha512))


def test_alg_none_without_a_signature_is_refused(access):
    head = b64(json.dumps({"alg": "none"}).encode())
    body = b64(json.dumps(access[1]).encode())
    assert refused((head + b"." + body + b".").decode())


@pytest.mark.parametrize("claim", ["exp", "iat", "jti", "token_type", "sid", "user_id"])
def test_a_missing_or_null_claim_is_refused(access, claim):
    claims = dict(access[1])
    assert refused(reissue(claims, **{claim: None}))
    del claims[claim]
    assert refused(reissue(claims))


def test_an_edited_payload_or_signature_is_refused(access):
    raw, claims = access
    header, payload, signature = raw.split(".")
    other = b64(json.dumps({**claims, "user_id": claims["user_id"] + 1}).encode()).decode()
    assert refused(f"{header}.{other}.{signature}")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert refused(f"{header}.{payload}.{flipped}")


@pytest.mark.parametrize(
    "shape",
    [
        lambda h, p, s: f"{h}.{p}",  # two segments
        lambda h, p, s: f"{h}.{p}.{s}.{s}",  # four
        lambda h, p, s: f"{h}==.{p}.{s}",  # padding
        lambda h, p, s: f"{h}.{p}.{s}=",
        lambda h, p, s: f"{h}.{p}+.{s}",  # not the url-safe alphabet
        lambda h, p, s: f"{h}.{p}.{s[:-1]}",  # a signature cut short
        lambda h, p, s: f"{h}.{p}.{s}\u00e9",  # not ASCII
        lambda h, p, s: f" {h}.{p}.{s}",
        lambda h, p, s: "",
    ],
)
def test_malformed_tokens_are_refused(access, shape):
    header, payload, signature = access[0].split(".")
    assert refused(shape(header, payload, signature))


def test_a_signature_with_trailing_bits_set_is_refused(access):
    # base64url of 32 bytes ends in a character carrying 2 unused bits; another
    # character with the same 4 used bits decodes to the same signature.
    raw = access[0]
    head, payload, signature = raw.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    twin = alphabet[last ^ 1]
    assert refused(f"{head}.{payload}.{signature[:-1]}{twin}")


@pytest.mark.parametrize(
    "body", [b"[]", b"null", b"42", b'"text"', b"{", b"[" * 3000 + b"]" * 3000]
)
def test_a_payload_that_is_not_a_json_object_is_refused(body):
    assert refused(sign(json.dumps({"alg": "HS256"}).encode(), body))


@pytest.mark.parametrize("header", [b"[]", b"null", b"{", b"[" * 3000 + b"]" * 3000])
def test_a_header_that_is_not_a_json_object_is_refused(access, header):
    assert refused(sign(header, json.dumps(access[1]).encode()))


def test_tokens_are_signed_exactly_as_simplejwt_signs_them(user):
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken()
    refresh["user_id"] = user.pk
    refresh["sid"] = "0f8fad5b-d9cb-469f-a165-70867728950e"
    refresh["email"], refresh["phone"], refresh["username"] = user.email, None, "al\u00efce"
    for token in (refresh, refresh.access_token):
        assert tokens._signed(token) == str(token)
