"""The attack battery: tokens every verifier of an issuer must refuse, by name.

`battery(issuer, public_jwk)` yields `(attack name, token)` pairs aimed at one issuer and one of its
keys: algorithm confusion (`none`, HS256 keyed with the public key, an algorithm other than the
key's, another key type), key injection through the header (`jwk`, `jku`, `x5u`, `x5c`), unknown
and path-like `kid`s, `crit`, JWE, nested tokens, duplicate or non-numeric `exp`, non-canonical
base64, tampered signatures and payloads, weak keys and wrong curves, issuer and audience
near-misses, future `nbf`/`iat`, oversized and doubled tokens. With `signer` (the issuer's own
development key for that kid) the flawed tokens are otherwise validly signed, so each one fails
for its own flaw; without it they are signed by an attacker's key. Every token must fail. `claims`
adds the claims a policy's rules look for (groups, tenant, ...), so that each attack would open what
a valid token opens; the claims the attacks are about (iss, aud, client_id, exp, nbf, iat,
token_use) stay the battery's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from authorizer.tokens import b64
from authorizer.tokens.jose import MAX_TOKEN_LENGTH
from authorizer.tokens.keys import from_jwk
from authorizer.tokens.mint import DevKey, compact
from authorizer.tokens.verify import IssuerConfig


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _raw(*pairs: tuple[str, str]) -> bytes:
    """A JSON object written member by member (names may repeat, values are JSON text)."""
    return ("{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in pairs) + "}").encode()


def _hs256(secret: bytes) -> Any:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def _noncanonical(token: str) -> str | None:
    """The token with unused trailing bits set in one part (the same bytes decoded leniently), if a part has them."""
    parts = token.split(".")
    for index in (2, 1, 0):
        part = parts[index]
        if len(part) % 4 in (2, 3):
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            parts[index] = part[:-1] + alphabet[alphabet.index(part[-1]) | 1]
            return ".".join(parts)
    return None


_ABOUT = frozenset({"iss", "aud", "client_id", "exp", "nbf", "iat", "token_use"})  # what the attacks vary


def battery(
    issuer: IssuerConfig,
    public_jwk: Mapping[str, Any],
    *,
    signer: DevKey | None = None,
    now: float | None = None,
    claims: Mapping[str, Any] | None = None,
) -> Iterator[tuple[str, str]]:
    """(attack name, token) pairs against `issuer` and its key `public_jwk`; all must be refused."""
    extra = {name: value for name, value in (claims or {}).items() if name not in _ABOUT}
    now = time.time() if now is None else now
    target = from_jwk(dict(public_jwk))
    kid, alg = target.kid, target.alg
    legit = signer or DevKey.generate(alg, kid)  # without the issuer's key: an attacker's, under its kid
    attacker = DevKey.generate(alg, "attacker")
    aud = issuer.audiences[0] if issuer.audiences else "audience"
    body: dict[str, Any] = {
        "iss": issuer.issuer,
        "aud": aud,
        "sub": "attacker",
        "iat": int(now),
        "exp": int(now) + 600,
        **extra,
    }
    if issuer.token_use:
        body["token_use"] = issuer.token_use
    header = {"alg": alg, "kid": kid, "typ": "JWT"}
    late = int(now) + 3600  # beyond any leeway (at most 300 s)

    def signed(
        extra_header: Mapping[str, Any] | None = None,
        payload: Mapping[str, Any] | bytes | None = None,
        key: DevKey = legit,
        head: Mapping[str, Any] | bytes | None = None,
    ) -> str:
        if head is None:
            head = {**header, "alg": key.alg, **(extra_header or {})}
        return compact(head, body if payload is None else payload, key.sign)

    def changed(**members: Any) -> dict[str, Any]:
        return {name: value for name, value in {**body, **members}.items() if value is not None}

    good = signed()
    public_pem = from_jwk_pem(public_jwk)
    # algorithm confusion
    yield "alg_none", compact({"alg": "none", "kid": kid}, body, lambda data: b"")
    yield "alg_none_capitalised", compact({"alg": "None", "kid": kid}, body, lambda data: b"")
    yield "alg_hs256_public_key_pem", compact({"alg": "HS256", "kid": kid}, body, _hs256(public_pem))
    yield "alg_hs256_public_key_jwk", compact({"alg": "HS256", "kid": kid}, body, _hs256(_json(public_jwk)))
    other = {
        "RS256": "RS512",
        "RS384": "RS256",
        "RS512": "RS256",
        "PS256": "RS256",
        "PS384": "PS256",
        "PS512": "PS256",
        "ES256": "ES384",
        "ES384": "ES256",
        "ES512": "ES256",
        "EdDSA": "ES256",
    }[alg]
    if alg != "EdDSA":
        yield "alg_other_than_the_key", signed(key=legit.with_alg(other))
    stranger = DevKey.generate("RS256" if alg.startswith("ES") else "ES256", kid)
    yield "key_type_other_than_the_key", signed(key=stranger)
    # keys named or carried by the token
    yield "kid_unknown", signed({"kid": "unknown-kid"}, key=attacker)
    yield "kid_path", signed({"kid": "../../../../../../dev/null"}, key=attacker)
    yield "kid_url", signed({"kid": "http://127.0.0.1:1/jwks.json"}, key=attacker)
    yield "kid_missing", signed(head={"alg": alg, "typ": "JWT"})
    yield "kid_not_a_string", signed({"kid": [kid]})
    yield "header_jwk", signed({"jwk": attacker.public_jwk()}, key=attacker.with_alg(alg))
    yield "header_jku", signed({"jku": "http://127.0.0.1:1/jwks.json"}, key=attacker)
    yield "header_x5u", signed({"x5u": "http://127.0.0.1:1/cert.pem"}, key=attacker)
    yield "header_x5c", signed({"x5c": [base64.b64encode(b"not the issuer's certificate").decode()]}, key=attacker)
    weak = DevKey.generate("RS256", "rsa-1024", rsa_bits=1024)
    yield "rsa_1024_key", signed({"jwk": weak.public_jwk()}, key=weak)
    yield "rsa_1024_key_under_the_kid", signed(key=DevKey(weak.private_key, "RS256", kid))
    # header members never honoured
    yield "header_crit", signed({"crit": ["exp"]})
    yield "header_b64_false", signed({"b64": False, "crit": ["b64"]})
    yield "header_zip", signed({"zip": "DEF"})
    yield "cty_jwt", signed({"cty": "JWT"})
    yield "nested_jwt", signed({"cty": "JWT"}, payload=good.encode())
    yield (
        "jwe_five_parts",
        ".".join([b64.encode(_json({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": kid}))] + ["AAAA"] * 4),
    )
    yield "jwe_header_in_three_parts", signed({"enc": "A256GCM"})
    # JSON and base64 tricks
    payload_members = [(name, json.dumps(value)) for name, value in body.items() if name != "exp"]
    yield "exp_duplicate", signed(payload=_raw(("exp", str(int(now) - 3600)), *payload_members, ("exp", str(late))))
    yield "alg_duplicate", signed(head=_raw(("alg", '"none"'), ("kid", json.dumps(kid)), ("alg", json.dumps(alg))))
    yield "exp_nan", signed(payload=_raw(*payload_members, ("exp", "NaN")))
    yield "exp_infinity", signed(payload=_raw(*payload_members, ("exp", "1e999")))
    yield "exp_boolean", signed(payload=changed(exp=True))
    yield "exp_string", signed(payload=changed(exp=str(late)))
    yield "exp_missing", signed(payload=changed(exp=None))
    yield "exp_passed", signed(payload=changed(exp=int(now) - 3600))
    yield "payload_not_an_object", signed(payload=b"[]")
    yield "payload_utf16", signed(payload=json.dumps(body).encode("utf-16"))
    noncanonical = _noncanonical(good)
    if noncanonical:
        yield "base64_noncanonical_bits", noncanonical
    yield "base64_padding", ".".join(part + "=" * (-len(part) % 4 or 4) for part in good.split("."))
    yield (
        "base64_standard_alphabet",
        good.rsplit(".", 1)[0] + "." + base64.b64encode(b64.decode(good.split(".")[2]) or b"").decode(),
    )
    yield "nul_byte", good[:10] + "\x00" + good[10:]
    yield "two_tokens", f"{good}, {good}"
    yield "two_tokens_space", f"{good} {good}"
    # tampering
    head, payload, signature = good.split(".")
    raw_signature = b64.decode(signature) or b""
    flipped = raw_signature[:-1] + bytes([raw_signature[-1] ^ 1])
    yield "signature_bit_flip", f"{head}.{payload}.{b64.encode(flipped)}"
    yield "signature_empty", f"{head}.{payload}."
    yield "signature_truncated", f"{head}.{payload}.{b64.encode(raw_signature[:-1])}"
    yield "signature_from_attacker", signed(key=attacker.with_alg(alg) if alg != "EdDSA" else attacker)
    forged = b64.encode(_json(changed(sub="admin")))
    yield "payload_tampered", f"{head}.{forged}.{signature}"
    if alg.startswith("ES"):
        size = len(raw_signature) // 2
        r, s = int.from_bytes(raw_signature[:size], "big"), int.from_bytes(raw_signature[size:], "big")
        yield "ecdsa_der_signature", f"{head}.{payload}.{b64.encode(encode_dss_signature(r, s))}"
        yield "ecdsa_zero_signature", f"{head}.{payload}.{b64.encode(bytes(2 * size))}"
        curve = "ES384" if alg != "ES384" else "ES256"
        yield "ecdsa_wrong_curve", signed(key=DevKey(ec.generate_private_key(_curve(curve)), alg, kid))
    # claims
    yield "iss_trailing_slash", signed(payload=changed(iss=_toggle_slash(issuer.issuer)))
    yield "iss_other_case", signed(payload=changed(iss=issuer.issuer.swapcase()))
    yield "iss_missing", signed(payload=changed(iss=None))
    yield "aud_empty_list", signed(payload=changed(aud=[]))
    yield "aud_empty_string", signed(payload=changed(aud=""))
    yield "aud_other", signed(payload=changed(aud=aud + "-other"))
    yield "aud_missing_without_client_id", signed(payload=changed(aud=None))
    yield "nbf_future", signed(payload=changed(nbf=late))
    yield "iat_future", signed(payload=changed(iat=late))
    if issuer.token_use:
        yield "token_use_other", signed(payload=changed(token_use="id" if issuer.token_use == "access" else "access"))
    yield "oversized", signed(payload=changed(padding="x" * MAX_TOKEN_LENGTH))


def _toggle_slash(issuer: str) -> str:
    return issuer[:-1] if issuer.endswith("/") else issuer + "/"


def _curve(alg: str) -> ec.EllipticCurve:
    return ec.SECP384R1() if alg == "ES384" else ec.SECP256R1()


def from_jwk_pem(public_jwk: Mapping[str, Any]) -> bytes:
    """The PEM text of a public JWK: the classic HS256 secret of algorithm-confusion attacks."""
    return from_jwk(dict(public_jwk)).public.public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
