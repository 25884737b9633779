"""Ed25519 (RFC 8032 test vectors), ES256 (RFC 6979 test vectors), JWS and client assertions."""

import json
import unittest
import uuid

import support

from alter_sdk import AlterConfigurationError, ed25519, p256
from alter_sdk.jwt import SigningKey, b64url_decode, b64url_encode, client_assertion, sign_jwt

# RFC 8032 section 7.1: TEST 1, TEST 2, TEST 3 (secret key, public key, message, signature)
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]

# RFC 6979 A.2.5, P-256 with SHA-256
P256_D = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
P256_PUBLIC = (
    0x60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6,
    0x7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299,
)
P256_VECTORS = [
    (b"sample",
     "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"),
    (b"test",
     "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"),
]


class Ed25519Test(unittest.TestCase):
    def test_rfc8032_vectors(self):
        for secret, public, message, signature in RFC8032:
            with self.subTest(public=public[:8]):
                sk, msg = bytes.fromhex(secret), bytes.fromhex(message)
                self.assertEqual(ed25519.public_key(sk).hex(), public)
                self.assertEqual(ed25519.sign(sk, msg).hex(), signature)
                self.assertTrue(ed25519.verify(bytes.fromhex(public), msg, bytes.fromhex(signature)))

    def test_verify_rejects_tampering(self):
        secret, public, _, _ = RFC8032[1]
        sig = ed25519.sign(bytes.fromhex(secret), b"hello")
        self.assertTrue(ed25519.verify(bytes.fromhex(public), b"hello", sig))
        self.assertFalse(ed25519.verify(bytes.fromhex(public), b"hellp", sig))
        self.assertFalse(ed25519.verify(bytes.fromhex(public), b"hello", sig[:-1] + bytes([sig[-1] ^ 1])))
        self.assertFalse(ed25519.verify(bytes.fromhex(RFC8032[0][1]), b"hello", sig))

    def test_bad_seed_length(self):
        with self.assertRaises(ValueError):
            ed25519.sign(b"short", b"x")


class P256Test(unittest.TestCase):
    def test_public_key(self):
        self.assertEqual(p256.public_key(P256_D), P256_PUBLIC)

    def test_rfc6979_vectors(self):
        for message, signature in P256_VECTORS:
            with self.subTest(message=message):
                self.assertEqual(p256.sign(P256_D, message).hex(), signature)
                self.assertTrue(p256.verify(P256_PUBLIC, message, bytes.fromhex(signature)))
                self.assertFalse(p256.verify(P256_PUBLIC, message + b"!", bytes.fromhex(signature)))


class JwsTest(unittest.TestCase):
    def test_base64url(self):
        self.assertEqual(b64url_encode(b"\xfb\xff"), "-_8")
        self.assertEqual(b64url_decode("-_8"), b"\xfb\xff")
        with self.assertRaises(ValueError):
            b64url_decode("+/8=")

    def test_client_assertion_shape_and_signature(self):
        key = SigningKey.from_jwk(support.TEST_JWK)
        token = client_assertion(key, "agt_abc", "http://issuer.test", now=1_700_000_000)
        parts = token.split(".")
        self.assertEqual(len(parts), 3)
        for part in parts:
            self.assertNotIn("=", part)
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        self.assertEqual(header, {"alg": "EdDSA", "kid": "test-kid", "typ": "JWT"})
        self.assertEqual(claims["iss"], "agt_abc")
        self.assertEqual(claims["sub"], "agt_abc")
        self.assertEqual(claims["aud"], "http://issuer.test")
        self.assertEqual(claims["iat"], 1_700_000_000)
        self.assertEqual(claims["exp"], 1_700_000_060)
        uuid.UUID(claims["jti"])
        self.assertTrue(ed25519.verify(support.TEST_PUBLIC, f"{parts[0]}.{parts[1]}".encode(), b64url_decode(parts[2])))
        other = client_assertion(key, "agt_abc", "http://issuer.test", now=1_700_000_000)
        self.assertNotEqual(json.loads(b64url_decode(other.split(".")[1]))["jti"], claims["jti"])

    def test_no_kid(self):
        jwk = {k: v for k, v in support.TEST_JWK.items() if k not in ("kid", "alg")}
        header = json.loads(b64url_decode(sign_jwt(SigningKey.from_jwk(jwk), {"a": 1}).split(".")[0]))
        self.assertEqual(header, {"alg": "EdDSA", "typ": "JWT"})

    def test_es256(self):
        d = P256_D.to_bytes(32, "big")
        jwk = {"kty": "EC", "crv": "P-256", "d": b64url_encode(d),
               "x": b64url_encode(P256_PUBLIC[0].to_bytes(32, "big")), "y": b64url_encode(P256_PUBLIC[1].to_bytes(32, "big"))}
        token = sign_jwt(SigningKey.from_jwk(jwk), {"iss": "x"})
        head, body, sig = token.split(".")
        self.assertEqual(json.loads(b64url_decode(head))["alg"], "ES256")
        self.assertEqual(len(b64url_decode(sig)), 64)
        self.assertTrue(p256.verify(P256_PUBLIC, f"{head}.{body}".encode(), b64url_decode(sig)))

    def test_key_refusals(self):
        public_only = {k: v for k, v in support.TEST_JWK.items() if k != "d"}
        with self.assertRaises(AlterConfigurationError):
            SigningKey.from_jwk(public_only)
        with self.assertRaises(AlterConfigurationError):  # x does not match d
            SigningKey.from_jwk(dict(support.TEST_JWK, x=b64url_encode(bytes(32))))
        with self.assertRaises(AlterConfigurationError):
            SigningKey.from_jwk(dict(support.TEST_JWK, alg="ES256"))
        with self.assertRaises(NotImplementedError):
            SigningKey.from_jwk({"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"})
        with self.assertRaises(NotImplementedError):
            SigningKey.from_jwk({"kty": "EC", "crv": "P-384", "d": "AQAB"})
        self.assertNotIn(support.TEST_JWK["d"], repr(SigningKey.from_jwk(support.TEST_JWK)))


if __name__ == "__main__":
    unittest.main()
