"""ECDSA over P-256 with SHA-256 (JWS ES256) in pure Python, deterministic nonces (RFC 6979).

Used to sign client assertions with EC agent keys. Like the Ed25519 module it is NOT hardened
against timing side channels.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

__all__ = ["public_key", "sign", "verify"]

_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_A = _P - 3
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)

_Jacobian = tuple[int, int, int]
_INF: _Jacobian = (1, 1, 0)


def _double(p: _Jacobian) -> _Jacobian:
    x, y, z = p
    if z == 0 or y == 0:
        return _INF
    ysq = y * y % _P
    s = 4 * x * ysq % _P
    zsq = z * z % _P
    m = (3 * x * x + _A * zsq * zsq) % _P
    nx = (m * m - 2 * s) % _P
    ny = (m * (s - nx) - 8 * ysq * ysq) % _P
    nz = 2 * y * z % _P
    return (nx, ny, nz)


def _add(p: _Jacobian, q: _Jacobian) -> _Jacobian:
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    z1sq = p[2] * p[2] % _P
    z2sq = q[2] * q[2] % _P
    u1 = p[0] * z2sq % _P
    u2 = q[0] * z1sq % _P
    s1 = p[1] * z2sq * q[2] % _P
    s2 = q[1] * z1sq * p[2] % _P
    if u1 == u2:
        return _double(p) if s1 == s2 else _INF
    h = (u2 - u1) % _P
    r = (s2 - s1) % _P
    h2 = h * h % _P
    h3 = h * h2 % _P
    u1h2 = u1 * h2 % _P
    nx = (r * r - h3 - 2 * u1h2) % _P
    ny = (r * (u1h2 - nx) - s1 * h3) % _P
    nz = h * p[2] * q[2] % _P
    return (nx, ny, nz)


def _mul(k: int, point: tuple[int, int]) -> tuple[int, int] | None:
    result = _INF
    addend: _Jacobian = (point[0], point[1], 1)
    while k > 0:
        if k & 1:
            result = _add(result, addend)
        addend = _double(addend)
        k >>= 1
    return _affine(result)


def _affine(p: _Jacobian) -> tuple[int, int] | None:
    if p[2] == 0:
        return None
    zinv = pow(p[2], -1, _P)
    zinv2 = zinv * zinv % _P
    return (p[0] * zinv2 % _P, p[1] * zinv2 * zinv % _P)


def _on_curve(point: tuple[int, int]) -> bool:
    x, y = point
    return 0 <= x < _P and 0 <= y < _P and (y * y - (x * x * x + _A * x + _B)) % _P == 0


def public_key(d: int) -> tuple[int, int]:
    """The public point (x, y) of the private scalar `d`."""
    if not 1 <= d < _N:
        raise ValueError("a P-256 private key must be between 1 and n-1")
    point = _mul(d, _G)
    assert point is not None
    return point


def _bits2int(data: bytes) -> int:
    # SHA-256 output and n are both 256 bits: no truncation needed
    return int.from_bytes(data, "big")


def _nonce(d: int, digest: bytes) -> Iterator[int]:
    """RFC 6979 section 3.2 deterministic k candidates for HMAC-SHA256."""
    x = d.to_bytes(32, "big")
    h1 = (_bits2int(digest) % _N).to_bytes(32, "big")
    v = b"\x01" * 32
    k = b"\x00" * 32
    k = hmac.new(k, v + b"\x00" + x + h1, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    k = hmac.new(k, v + b"\x01" + x + h1, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    while True:
        v = hmac.new(k, v, hashlib.sha256).digest()
        candidate = _bits2int(v)
        if 1 <= candidate < _N:
            yield candidate
        k = hmac.new(k, v + b"\x00", hashlib.sha256).digest()
        v = hmac.new(k, v, hashlib.sha256).digest()


def sign(d: int, message: bytes) -> bytes:
    """The ES256 signature (r || s, 64 bytes) of `message` with the private scalar `d`."""
    if not 1 <= d < _N:
        raise ValueError("a P-256 private key must be between 1 and n-1")
    digest = hashlib.sha256(message).digest()
    e = _bits2int(digest) % _N
    for k in _nonce(d, digest):
        point = _mul(k, _G)
        if point is None:
            continue
        r = point[0] % _N
        if r == 0:
            continue
        s = pow(k, -1, _N) * (e + r * d) % _N
        if s == 0:
            continue
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    raise AssertionError("unreachable")


def verify(public: tuple[int, int], message: bytes, signature: bytes) -> bool:
    """Checks an ES256 signature (r || s) against the public point."""
    if len(signature) != 64 or not _on_curve(public):
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (1 <= r < _N and 1 <= s < _N):
        return False
    e = _bits2int(hashlib.sha256(message).digest()) % _N
    w = pow(s, -1, _N)
    p1 = _mul(e * w % _N, _G)
    p2 = _mul(r * w % _N, public)
    total = _add(
        (p1[0], p1[1], 1) if p1 else _INF,
        (p2[0], p2[1], 1) if p2 else _INF,
    )
    point = _affine(total)
    return point is not None and point[0] % _N == r
