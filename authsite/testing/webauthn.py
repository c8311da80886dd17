"""A software passkey authenticator (SPEC §17 tests, ``make bench``).

It makes real WebAuthn responses — ES256 keys from ``cryptography``,
attestation ``none``, user presence and verification flags, a signature
counter — for options the server gives, as a browser's or a phone's
authenticator would, so the API's ceremonies are tested end to end without
a browser. ``origin`` is what the client would put in ``clientDataJSON``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, encode_cbor

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


@dataclass
class SoftCredential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    origin: str
    aaguid: bytes = b"\x00" * 16
    user_verification: bool = True
    backup: bool = False
    credentials: list[SoftCredential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode()

    def _flags(self, *extra: int) -> int:
        flags = UP | (UV if self.user_verification else 0)
        if self.backup:
            flags |= BE | BS
        for bit in extra:
            flags |= bit
        return flags

    def create(self, options: dict, *, origin: str | None = None, rp_id: str | None = None) -> dict:
        """A RegistrationResponseJSON for creation options."""
        rp = rp_id or options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        credential = SoftCredential(
            credential_id=secrets.token_bytes(32),
            private_key=key,
            rp_id=options["rp"]["id"],
            user_handle=base64url_to_bytes(options["user"]["id"]),
        )
        cose_key = {
            1: 2,  # kty: EC2
            3: -7,  # alg: ES256
            -1: 1,  # crv: P-256
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([self._flags(AT)])
            + (0).to_bytes(4, "big")
            + self.aaguid
            + len(credential.credential_id).to_bytes(2, "big")
            + credential.credential_id
            + encode_cbor(cose_key)
        )
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        self.credentials.append(credential)
        cid = bytes_to_base64url(credential.credential_id)
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        credential: SoftCredential | None = None,
        sign_count: int | None = None,
    ) -> dict:
        """An AuthenticationResponseJSON for request options: with the given
        credential, else one the options allow, else (discoverable) the newest
        for the options' relying party."""
        if credential is None:
            allowed = {base64url_to_bytes(c["id"]) for c in options.get("allowCredentials") or []}
            candidates = [
                c
                for c in self.credentials
                if c.rp_id == options.get("rpId") and (not allowed or c.credential_id in allowed)
            ]
            if not candidates:
                raise LookupError("no credential of this authenticator fits the options")
            credential = candidates[-1]
        credential.sign_count = sign_count if sign_count is not None else credential.sign_count + 1
        rp = rp_id or credential.rp_id
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([self._flags()])
            + credential.sign_count.to_bytes(4, "big")
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        cid = bytes_to_base64url(credential.credential_id)
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": bytes_to_base64url(credential.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
