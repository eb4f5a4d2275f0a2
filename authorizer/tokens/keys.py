"""A JWK becomes a public key with its algorithm pinned: the token's `alg` can only agree with it.

Algorithm confusion (RSA keys used as HMAC secrets, `none`, an ECDSA key verifying RSA) comes from
letting the token choose how it is verified. Here the key decides: its JWK `alg` (or, without one,
the only algorithm its type allows; RSA keys default to RS256), and each key verifies in exactly
one way. HMAC keys (`oct`) and `none` do not exist here. RSA keys are at least 2048 bits; ECDSA
signatures are the raw r‖s of RFC 7518 (exactly twice the coordinate size), never DER; EC points
must lie on their curve (cryptography checks). A JWK carrying private members is refused: a
published private key lets anyone sign.

Signature checks compare nothing secret (verification uses public keys only), so no constant-time
comparison is involved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from authorizer.tokens import b64

Verifier = Callable[[bytes, bytes], bool]  # (signing input, signature) → verified

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
MIN_RSA_BITS = 2048
MAX_KID_LENGTH = 256
_HASHES: dict[str, hashes.HashAlgorithm] = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
_CURVES: dict[str, tuple[ec.EllipticCurve, str, int]] = {  # crv → curve, its algorithm, coordinate bytes
    "P-256": (ec.SECP256R1(), "ES256", 32),
    "P-384": (ec.SECP384R1(), "ES384", 48),
    "P-521": (ec.SECP521R1(), "ES512", 66),
}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


class JwkError(ValueError):
    """A JWK this verifier will not use; the message names the reason, never key material."""


class PublicKey(NamedTuple):
    """One usable key: its `kid`, the one algorithm it verifies, and how.

    `material` is the key's defining members (those of its RFC 7638 thumbprint): with `alg`, it
    tells a changed key. `public` is the `cryptography` key object.
    """

    kid: str
    alg: str
    verify: Verifier
    material: tuple[str, ...]
    public: Any

    def __repr__(self) -> str:
        return f"PublicKey(kid={self.kid!r}, alg={self.alg!r})"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bytes(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    raw = b64.decode(value) if isinstance(value, str) else None
    if not raw:
        raise JwkError(f"member {name!r} is missing or not canonical base64url")
    return raw


def _rsa(jwk: Mapping[str, Any], alg: str) -> tuple[Any, Verifier]:
    n, e = (int.from_bytes(_bytes(jwk, name), "big") for name in ("n", "e"))
    if n.bit_length() < MIN_RSA_BITS:
        raise JwkError(f"RSA key of {n.bit_length()} bits (at least {MIN_RSA_BITS})")
    try:
        key = rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise JwkError(f"invalid RSA key: {exc}") from None
    digest = _HASHES[alg[2:]]
    scheme = (
        padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)  # RFC 7518 §3.5
        if alg.startswith("PS")
        else padding.PKCS1v15()
    )
    size = (n.bit_length() + 7) // 8

    def verify(data: bytes, signature: bytes) -> bool:
        if len(signature) != size:
            return False
        try:
            key.verify(signature, data, scheme, digest)
        except InvalidSignature:
            return False
        return True

    return key, verify


@cache
def _ecdsa(digest: str) -> ec.ECDSA:
    """Made on first use: its constructor imports cryptography's OpenSSL backend (~3 ms of a cold start
    that an RS256 token, or a key set that merely holds an EC key, never needs)."""
    return ec.ECDSA(_HASHES[digest])


def _ec(jwk: Mapping[str, Any], alg: str) -> tuple[Any, Verifier]:
    curve, _, size = _CURVES[jwk["crv"]]
    x, y = _bytes(jwk, "x"), _bytes(jwk, "y")
    if len(x) != size or len(y) != size:
        raise JwkError(f"coordinates of a {jwk['crv']} key are {size} bytes")
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)
    except ValueError:
        raise JwkError("the point is not on the curve") from None
    digest = alg[2:]

    def verify(data: bytes, signature: bytes) -> bool:
        if len(signature) != 2 * size:  # raw r‖s only: a DER signature has another length
            return False
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        try:
            key.verify(encode_dss_signature(r, s), data, _ecdsa(digest))
        except InvalidSignature:
            return False
        return True

    return key, verify


def _okp(jwk: Mapping[str, Any], alg: str) -> tuple[Any, Verifier]:
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519  # EdDSA key sets only: cold starts

    kinds: dict[str, tuple[Any, int, int]] = {
        "Ed25519": (ed25519.Ed25519PublicKey, 32, 64),
        "Ed448": (ed448.Ed448PublicKey, 57, 114),
    }
    kind, size, signature_size = kinds[jwk["crv"]]
    x = _bytes(jwk, "x")
    if len(x) != size:
        raise JwkError(f"an {jwk['crv']} key is {size} bytes")
    try:
        key = kind.from_public_bytes(x)
    except ValueError:
        raise JwkError("invalid EdDSA key") from None

    def verify(data: bytes, signature: bytes) -> bool:
        if len(signature) != signature_size:
            return False
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    return key, verify


def _pinned(jwk: Mapping[str, Any]) -> str:
    """The one algorithm this key verifies, from its type and its own `alg`."""
    kty, alg = jwk.get("kty"), jwk.get("alg")
    allowed: tuple[str, ...]
    if kty == "RSA":
        allowed = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
        default = "RS256"
    elif kty == "EC":
        if jwk.get("crv") not in _CURVES:
            raise JwkError(f"EC curve {_show(jwk.get('crv'))} is not supported (P-256, P-384, P-521)")
        default = _CURVES[jwk["crv"]][1]
        allowed = (default,)
    elif kty == "OKP":
        if jwk.get("crv") not in ("Ed25519", "Ed448"):
            raise JwkError(f"OKP curve {_show(jwk.get('crv'))} is not supported (Ed25519, Ed448)")
        default, allowed = "EdDSA", ("EdDSA",)
    else:
        raise JwkError(f"key type {_show(kty)} is not supported (RSA, EC, OKP; never oct)")
    if alg is None:
        return default
    if alg not in allowed:
        raise JwkError(f"alg {_show(alg)} does not fit a {kty} key")
    return str(alg)


def from_jwk(jwk: object) -> PublicKey:
    """The public key a JWK describes, its algorithm pinned; JwkError when it is not usable."""
    if not isinstance(jwk, dict):
        raise JwkError("a key is not a JSON object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH:
        raise JwkError(f"kid is missing, not a string, or longer than {MAX_KID_LENGTH} characters")
    if any(member in jwk for member in _PRIVATE_MEMBERS):
        raise JwkError("the key holds private key material")
    if jwk.get("use", "sig") != "sig":
        raise JwkError("use is not 'sig'")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise JwkError("key_ops does not include 'verify'")
    alg = _pinned(jwk)
    build = {"RSA": _rsa, "EC": _ec, "OKP": _okp}[jwk["kty"]]
    key, verify = build(jwk, alg)
    members = {"RSA": ("e", "n"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}[jwk["kty"]]
    return PublicKey(kid, alg, verify, tuple(jwk[name] for name in members), key)
