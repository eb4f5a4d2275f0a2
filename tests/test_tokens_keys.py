"""JWKs become keys with one pinned algorithm; everything else in a key set is refused, with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authorizer.tokens import b64
from authorizer.tokens.jwks import parse_jwks
from authorizer.tokens.keys import JwkError, from_jwk
from authorizer.tokens.mint import DevKey
from tests.tokens_support import dev_key


def _rsa_1024() -> dict[str, Any]:
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_numbers()
    n = numbers.n.to_bytes(128, "big")
    return {"kty": "RSA", "kid": "weak", "n": b64.encode(n), "e": "AQAB"}


def test_algorithms_are_pinned_by_the_key() -> None:
    rsa_jwk = {k: v for k, v in dev_key("RS256").public_jwk().items() if k != "alg"}
    assert from_jwk(rsa_jwk).alg == "RS256"  # RSA without alg: RS256
    assert from_jwk({**rsa_jwk, "alg": "PS512"}).alg == "PS512"
    for alg in ("ES256", "ES384", "ES512", "EdDSA"):
        jwk = {k: v for k, v in dev_key(alg).public_jwk().items() if k != "alg"}
        assert from_jwk(jwk).alg == alg  # the curve decides


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kty": "oct", "k": "c2VjcmV0"}, "private key material"),
        ({"kty": "oct"}, "key type 'oct' is not supported"),
        ({"alg": "HS256"}, "alg 'HS256' does not fit"),
        ({"alg": "none"}, "alg 'none' does not fit"),
        ({"alg": "ES256"}, "alg 'ES256' does not fit"),
        ({"use": "enc"}, "use is not 'sig'"),
        ({"key_ops": ["encrypt"]}, "key_ops"),
        ({"d": "AQAB"}, "private key material"),
        ({"kid": ""}, "kid"),
        ({"kid": 7}, "kid"),
        ({"kid": "k" * 257}, "kid"),
        ({"n": "AQAB="}, "canonical base64url"),
        ({"e": None}, "'e' is missing"),
    ],
)
def test_unusable_rsa_jwks_are_refused(change: dict[str, Any], message: str) -> None:
    jwk = {**dev_key("RS256").public_jwk(), **change}
    with pytest.raises(JwkError, match=message):
        from_jwk({k: v for k, v in jwk.items() if v is not None})


def test_rsa_keys_under_2048_bits_are_refused() -> None:
    with pytest.raises(JwkError, match="RSA key of 1024 bits"):
        from_jwk(_rsa_1024())


def test_ec_keys_must_be_on_their_curve_with_exact_coordinates() -> None:
    jwk = dev_key("ES256").public_jwk()
    y = b64.decode(jwk["y"]) or b""
    with pytest.raises(JwkError, match="not on the curve"):
        from_jwk({**jwk, "y": b64.encode(y[:-1] + bytes([y[-1] ^ 1]))})
    with pytest.raises(JwkError, match="32 bytes"):
        from_jwk({**jwk, "x": b64.encode(b"\x00" + (b64.decode(jwk["x"]) or b""))})
    with pytest.raises(JwkError, match="curve 'secp256k1' is not supported"):
        from_jwk({**jwk, "crv": "secp256k1"})
    with pytest.raises(JwkError, match="alg 'ES384' does not fit"):
        from_jwk({**jwk, "alg": "ES384"})


def test_a_pinned_key_verifies_its_own_algorithm_only() -> None:
    """The same RSA key published as PS256 refuses an RS256 signature of the same bytes, and back."""
    signer = dev_key("RS256")
    data = b"header.payload"
    as_rs256 = from_jwk(signer.public_jwk())
    as_ps256 = from_jwk({**signer.public_jwk(), "alg": "PS256"})
    assert as_rs256.verify(data, signer.sign(data)) and not as_ps256.verify(data, signer.sign(data))
    pss = signer.with_alg("PS256").sign(data)
    assert as_ps256.verify(data, pss) and not as_rs256.verify(data, pss)


def test_ecdsa_signatures_are_raw_r_and_s_never_der() -> None:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    signer = dev_key("ES256")
    key = from_jwk(signer.public_jwk())
    data = b"header.payload"
    raw = signer.sign(data)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    assert key.verify(data, raw) and not key.verify(data, der)
    assert not key.verify(data, bytes(64))  # r = s = 0 ("psychic signatures")


def test_a_key_set_keeps_usable_keys_and_says_why_it_dropped_the_others() -> None:
    good, other = dev_key("RS256"), dev_key("ES256")
    twin = DevKey.generate("ES256", kid=good.kid)
    document = {
        "keys": [
            good.public_jwk(),
            _rsa_1024(),
            {"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
            other.public_jwk(),
            twin.public_jwk(),
            "junk",
        ]
    }
    keys, problems = parse_jwks(json.dumps(document).encode())
    assert list(keys) == [other.kid]  # the kid held by two keys is dropped: which one is meant?
    assert len(problems) == 4
    assert any("1024 bits" in p for p in problems) and any("private key material" in p for p in problems)
    assert any("used by another key" in p for p in problems) and any("not a JSON object" in p for p in problems)


@pytest.mark.parametrize(
    "raw", [b"", b"[]", b'{"keys": {}}', b'{"keys": [], "keys": []}', b"\xff", b'{"keys": [NaN]}', b"[" * 100_000]
)
def test_what_is_not_a_key_set_is_an_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_jwks(raw)
