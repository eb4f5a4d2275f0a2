"""Wycheproof's signature vectors through the verifier's own keys (tests/fixtures/wycheproof/SOURCES.md).

Each group's public key is read from its JWK by `keys.from_jwk` (and must be pinned to the file's algorithm),
and every vector goes through the pinned verifier: valid ones must verify, invalid ones must not
(edge-case signatures, malleability, wrong lengths, modified padding, r or s out of range, ...).
"acceptable" vectors (legacy encodings some libraries allow) must not raise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from authorizer.tokens.keys import from_jwk

FOLDER = Path(__file__).resolve().parent / "fixtures" / "wycheproof"
FILES = {
    "rsa_signature_2048_sha256_test.json": "RS256",
    "rsa_signature_2048_sha384_test.json": "RS384",
    "rsa_signature_2048_sha512_test.json": "RS512",
    "rsa_pss_2048_sha256_mgf1_32_test.json": "PS256",
    "rsa_pss_2048_sha384_mgf1_48_test.json": "PS384",
    "rsa_pss_4096_sha512_mgf1_64_test.json": "PS512",
    "ecdsa_secp256r1_sha256_p1363_test.json": "ES256",
    "ecdsa_secp384r1_sha384_p1363_test.json": "ES384",
    "ecdsa_secp521r1_sha512_p1363_test.json": "ES512",
    "ed25519_test.json": "EdDSA",
}


def _jwk(group: dict[str, Any]) -> dict[str, Any]:
    jwk = group.get("publicKeyJwk") or group["keyJwk"]
    return {k: v for k, v in jwk.items() if k != "kid"} | {"kid": "wycheproof"}


@pytest.mark.parametrize("name", sorted(FILES))
def test_wycheproof_vectors(name: str) -> None:
    alg = FILES[name]
    document = json.loads((FOLDER / name).read_text())
    counts = {"valid": 0, "invalid": 0, "acceptable": 0}
    wrong = []
    for group in document["testGroups"]:
        key = from_jwk(_jwk(group))
        assert key.alg == alg  # RSA JWKs name theirs; EC and OKP keys are pinned by their curve
        for case in group["tests"]:
            verified = key.verify(bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"]))
            counts[case["result"]] += 1
            if case["result"] != "acceptable" and verified != (case["result"] == "valid"):
                wrong.append((case["tcId"], case["result"], case["comment"], case["flags"]))
    assert not wrong, f"{name}: {len(wrong)} vectors decided wrongly: {wrong[:5]}"
    assert counts["valid"] and counts["invalid"], counts  # the file was read: both kinds exercised
