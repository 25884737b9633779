"""Private JWKs, compact JWS signing and RFC 7523 client assertions."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from . import ed25519, p256
from .errors import AlterConfigurationError

__all__ = ["SigningKey", "b64url_encode", "b64url_decode", "sign_jwt", "client_assertion", "ASSERTION_LIFETIME"]

#: Seconds a client assertion lives (the server accepts at most 300).
ASSERTION_LIFETIME = 60

_ED25519_ALGS = ("EdDSA", "Ed25519")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decodes base64url with or without padding; refuses other alphabets."""
    if not isinstance(text, str) or any(c in text for c in "+/ \n\r\t"):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _member(jwk: Mapping[str, Any], name: str, what: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise AlterConfigurationError(f"private_key: the {what} JWK has no \"{name}\" member")
    try:
        return b64url_decode(value)
    except ValueError:
        raise AlterConfigurationError(f"private_key: the \"{name}\" member is not base64url") from None


class SigningKey:
    """A private JWK ready to sign JWS: Ed25519 (EdDSA) or P-256 (ES256)."""

    def __init__(self, alg: str, kid: str | None, sign_fn: Any) -> None:
        self.alg = alg
        self.kid = kid
        self._sign = sign_fn

    def sign(self, data: bytes) -> bytes:
        return self._sign(data)

    def __repr__(self) -> str:  # never show key material
        return f"SigningKey(alg={self.alg!r}, kid={self.kid!r})"

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> SigningKey:
        """Accepts a private JWK (extra members such as client_id or issuer are ignored)."""
        if not isinstance(jwk, Mapping):
            raise AlterConfigurationError("private_key must be a private JWK (a dict)")
        kty, crv, alg = jwk.get("kty"), jwk.get("crv"), jwk.get("alg")
        kid = jwk.get("kid") if isinstance(jwk.get("kid"), str) and jwk.get("kid") else None
        if "d" not in jwk:
            raise AlterConfigurationError("private_key is a public key: signing needs the private JWK (with \"d\")")
        if alg is not None and not isinstance(alg, str):
            raise AlterConfigurationError("private_key: \"alg\" must be a string")

        if kty == "OKP" and crv == "Ed25519":
            if alg is not None and alg not in _ED25519_ALGS:
                raise AlterConfigurationError(f"private_key: an Ed25519 key signs with EdDSA, not {alg}")
            seed = _member(jwk, "d", "Ed25519")
            if len(seed) != 32:
                raise AlterConfigurationError("private_key: an Ed25519 \"d\" is 32 bytes")
            public = ed25519.public_key(seed)
            if "x" in jwk and _member(jwk, "x", "Ed25519") != public:
                raise AlterConfigurationError("private_key: \"x\" is not the public key of \"d\" (a damaged key file?)")
            return cls(alg or "EdDSA", kid, lambda data: ed25519.sign(seed, data))

        if kty == "EC" and crv == "P-256":
            if alg is not None and alg != "ES256":
                raise AlterConfigurationError(f"private_key: a P-256 key signs with ES256, not {alg}")
            d_bytes = _member(jwk, "d", "P-256")
            if len(d_bytes) != 32:
                raise AlterConfigurationError("private_key: a P-256 \"d\" is 32 bytes")
            d = int.from_bytes(d_bytes, "big")
            try:
                x, y = p256.public_key(d)
            except ValueError as err:
                raise AlterConfigurationError(f"private_key: {err}") from None
            if "x" in jwk and "y" in jwk:
                if _member(jwk, "x", "P-256") != x.to_bytes(32, "big") or _member(jwk, "y", "P-256") != y.to_bytes(32, "big"):
                    raise AlterConfigurationError("private_key: \"x\"/\"y\" are not the public key of \"d\" (a damaged key file?)")
            return cls("ES256", kid, lambda data: p256.sign(d, data))

        if kty == "EC":
            raise NotImplementedError(
                f"private_key: EC curve {crv!r} is not supported by the Python SDK; use an Ed25519 (EdDSA) or P-256 (ES256) key"
            )
        if kty == "RSA":
            raise NotImplementedError(
                "private_key: RSA keys are not supported by the Python SDK (standard library only); "
                "use an Ed25519 key (alter agent create writes one)"
            )
        raise AlterConfigurationError(f"private_key: unsupported key type kty={kty!r} crv={crv!r}; use an Ed25519 JWK")


def sign_jwt(key: SigningKey, claims: Mapping[str, Any], *, typ: str = "JWT") -> str:
    """A compact JWS: header {alg, kid?, typ}, the claims as JSON, base64url without padding."""
    header: dict[str, Any] = {"alg": key.alg}
    if key.kid:
        header["kid"] = key.kid
    header["typ"] = typ
    encode = lambda value: b64url_encode(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))  # noqa: E731
    signing_input = f"{encode(header)}.{encode(dict(claims))}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def client_assertion(key: SigningKey, client_id: str, audience: str, *, lifetime: int = ASSERTION_LIFETIME, now: int | None = None) -> str:
    """An RFC 7523 client assertion: iss = sub = client_id, aud = the issuer, a fresh jti."""
    issued = int(time.time()) if now is None else int(now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "iat": issued,
        "exp": issued + lifetime,
    }
    return sign_jwt(key, claims)
