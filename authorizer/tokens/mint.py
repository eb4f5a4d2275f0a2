"""Development keys and tokens: for test suites, local serving and the attack battery.

`DevKey.generate()` makes a key pair; `jwks(...)`/`write_jwks` publish its public half as a key
set an issuer configuration can package; `mint(key, claims)` signs a token, `mint_for(config,
key, claims)` one that issuer would accept. `KeyFolder` keeps one development key per issuer name
in a folder (`authorizer token mint` and `authorizer serve` share `DEV_KEYS`, `.authorizer/dev-keys/`; test
suites use a temporary one per run). Tokens are built with the same compact form the verifier
reads (raw r‖s for ECDSA). Never a production signer: the private key lives in memory, or in the
PEM file you choose to write.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from authorizer.tokens import b64
from authorizer.tokens.verify import IssuerConfig

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_CURVES: dict[str, tuple[type[ec.EllipticCurve], str]] = {
    "ES256": (ec.SECP256R1, "P-256"),
    "ES384": (ec.SECP384R1, "P-384"),
    "ES512": (ec.SECP521R1, "P-521"),
}
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey


def _uint(value: int, size: int | None = None) -> str:
    return b64.encode(value.to_bytes(size or max(1, (value.bit_length() + 7) // 8), "big"))


class DevKey:
    """A private key, the algorithm it signs with, and its kid."""

    def __init__(self, private_key: PrivateKey, alg: str, kid: str) -> None:
        self.private_key = private_key
        self.alg = alg
        self.kid = kid

    def __repr__(self) -> str:
        return f"DevKey(alg={self.alg!r}, kid={self.kid!r})"  # never the key

    @classmethod
    def generate(
        cls, alg: str = "RS256", kid: str | None = None, *, rsa_bits: int = 2048, crv: str = "Ed25519"
    ) -> DevKey:
        """A new key pair for `alg` (EdDSA: `crv` Ed25519 or Ed448); the kid defaults to its thumbprint."""
        private_key: PrivateKey
        if alg[:2] in ("RS", "PS"):
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
        elif alg in _CURVES:
            private_key = ec.generate_private_key(_CURVES[alg][0]())
        elif alg == "EdDSA":
            private_key = ed25519.Ed25519PrivateKey.generate() if crv == "Ed25519" else ed448.Ed448PrivateKey.generate()
        else:
            raise ValueError(f"no development keys for {alg!r}")
        key = cls(private_key, alg, kid or "")
        if not kid:
            key.kid = key.thumbprint()
        return key

    @classmethod
    def from_pem(cls, pem: bytes, alg: str, kid: str) -> DevKey:
        private_key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private_key, PrivateKey):
            raise ValueError("not an RSA, EC or EdDSA private key")
        return cls(private_key, alg, kid)

    def with_alg(self, alg: str) -> DevKey:
        """The same key signing with another algorithm (attacks on algorithm pinning)."""
        return DevKey(self.private_key, alg, self.kid)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_jwk(self) -> dict[str, str]:
        public = self.private_key.public_key()
        jwk: dict[str, str]
        if isinstance(public, rsa.RSAPublicKey):
            numbers = public.public_numbers()
            jwk = {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e)}
        elif isinstance(public, ec.EllipticCurvePublicKey):
            size = (public.curve.key_size + 7) // 8
            point = public.public_numbers()
            crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[public.curve.name]
            jwk = {"kty": "EC", "crv": crv, "x": _uint(point.x, size), "y": _uint(point.y, size)}
        else:
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            crv = "Ed25519" if isinstance(public, ed25519.Ed25519PublicKey) else "Ed448"
            jwk = {"kty": "OKP", "crv": crv, "x": b64.encode(raw)}
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def thumbprint(self) -> str:
        """RFC 7638: SHA-256 of the required public members, in order."""
        required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
        jwk = self.public_jwk()
        members = {name: jwk[name] for name in required[jwk["kty"]]}
        return b64.encode(hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest())

    def sign(self, data: bytes) -> bytes:
        """The JWS signature of `data` with this key and algorithm (raw r‖s for ECDSA)."""
        key = self.private_key
        if isinstance(key, rsa.RSAPrivateKey):
            digest = _HASHES[self.alg[2:]]()
            if self.alg.startswith("PS"):
                return key.sign(data, padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)
            return key.sign(data, padding.PKCS1v15(), digest)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(_HASHES[self.alg[2:]]())))
            size = (key.curve.key_size + 7) // 8
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        return key.sign(data)


def jwks(keys: Iterable[DevKey]) -> dict[str, Any]:
    """A JWKS document publishing the public halves of `keys`."""
    return {"keys": [key.public_jwk() for key in keys]}


def write_jwks(path: Path, keys: Iterable[DevKey]) -> None:
    path.write_text(json.dumps(jwks(keys), indent=2) + "\n")


def _part(value: Mapping[str, Any] | bytes) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode()
    return b64.encode(raw)


def compact(
    header: Mapping[str, Any] | bytes, payload: Mapping[str, Any] | bytes, sign: Callable[[bytes], bytes]
) -> str:
    """`header.payload.signature`; mappings are serialized as JSON, bytes are taken as they are."""
    signing_input = f"{_part(header)}.{_part(payload)}"
    return f"{signing_input}.{b64.encode(sign(signing_input.encode('ascii')))}"


def mint(
    key: DevKey,
    claims: Mapping[str, Any],
    *,
    now: float | None = None,
    expires_in: float | None = 3600,
    header: Mapping[str, Any] | None = None,
) -> str:
    """A token signed by `key`; `iat` and `exp` (now + expires_in; None: no exp) are added unless in `claims`."""
    issued = int(time.time() if now is None else now)
    body = {"iat": issued, **({} if expires_in is None else {"exp": issued + int(expires_in)}), **claims}
    return compact({"alg": key.alg, "kid": key.kid, "typ": "JWT", **(header or {})}, body, key.sign)


def mint_for(
    config: IssuerConfig,
    key: DevKey,
    claims: Mapping[str, Any],
    *,
    now: float | None = None,
    expires_in: float = 3600,
) -> str:
    """A token `config`'s issuer accepts when `key` is among its keys: `iss`, the first audience as the
    issuer checks it (`client_id` for a Cognito access token, else `aud`), `token_use` when configured,
    then `claims` over them (a None value removes one)."""
    audience = "client_id" if config.token_use == "access" else "aud"
    standard: dict[str, Any] = {"iss": config.issuer, audience: config.audiences[0] if config.audiences else None}
    if config.token_use is not None:
        standard["token_use"] = config.token_use
    issued = int(time.time() if now is None else now)
    body = {"iat": issued, "exp": issued + int(expires_in), **standard, **claims}
    return mint(key, {k: v for k, v in body.items() if v is not None}, now=issued, expires_in=None)


class KeyFolder:
    """Development keys kept in a folder, one per issuer name and algorithm: `NAME.ALG.pem` (the private
    key, readable by its owner only) and `NAME.ALG.jwks.json` (its public half, the issuer's key set)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __repr__(self) -> str:
        return f"KeyFolder({str(self.folder)!r})"

    def _path(self, name: str, alg: str, suffix: str) -> Path:
        return self.folder / (f"{name}.{alg}".replace(":", "_").replace("/", "_") + suffix)

    def key(self, name: str, alg: str) -> DevKey:
        """The issuer's development key for `alg`, made (and written) on first use; kid: its thumbprint."""
        pem = self._path(name, alg, ".pem")
        if pem.is_file():
            key = DevKey.from_pem(pem.read_bytes(), alg, "")
            key.kid = key.thumbprint()
            return key
        key = DevKey.generate(alg)
        self.folder.mkdir(parents=True, exist_ok=True)
        pem.touch(mode=0o600)
        pem.write_bytes(key.private_pem())
        write_jwks(self._path(name, alg, ".jwks.json"), [key])
        return key

    def jwks(self, name: str, config: IssuerConfig) -> Path:
        """The key set of the issuer's development key (for its first algorithm): what replaces its own."""
        alg = config.algorithms[0] if config.algorithms else "RS256"
        self.key(name, alg)
        return self._path(name, alg, ".jwks.json")
