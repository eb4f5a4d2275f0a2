"""Differential tests: the verifier against two independent JOSE libraries, PyJWT and joserfc.

On random valid tokens (every algorithm, random claims) all three accept with the same claims. On
mutated tokens (a character changed, dropped or added, parts swapped between tokens, re-signed with
another key or algorithm, a header member added) the verifier may be stricter than the libraries,
but never more lenient: whenever it accepts, both accept with the same claims; whenever a library
accepts what it refuses, the refusal is one of its documented extra rules (canonical base64url,
refused header members). `make soak` runs many more examples (@pytest.mark.slow).
"""

from __future__ import annotations

import json
import time
import warnings
from collections import Counter
from typing import Any

import jwt as pyjwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwk as joserfc_jwk
from joserfc import jwt as joserfc_jwt

from authorizer.tokens import b64
from authorizer.tokens.mint import compact, mint
from authorizer.tokens.reasons import Failure
from authorizer.tokens.verify import Issuers, Verified
from tests.tokens_support import ALGS, AUDIENCE, ISSUER, dev_key, issuers

NOW = int(time.time())  # the libraries read the real clock: tokens are valid for hours around it
STRICTER = {"token.malformed", "token.header"}  # what the verifier may refuse that a library accepts
OUTCOMES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> Issuers:
    keys = [dev_key(alg) for alg in ALGS] + [dev_key("ES256", 1)]
    return issuers(tmp_path_factory.mktemp("oracle"), keys, cache_size=0)[0]


def pyjwt_claims(token: str, alg: str) -> dict[str, Any] | None:
    key = pyjwt.PyJWK(dev_key(alg).public_jwk()).key
    try:
        return pyjwt.decode(  # type: ignore[no-any-return]
            token, key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER, options={"require": ["exp", "iss"]}
        )
    except pyjwt.PyJWTError:
        return None


def joserfc_claims(token: str, alg: str) -> dict[str, Any] | None:
    key = joserfc_jwk.import_key(dev_key(alg).public_jwk())
    registry = joserfc_jwt.JWTClaimsRegistry(
        now=NOW,
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True},
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # joserfc flags EdDSA as deprecated (RFC 9864 names Ed25519)
            decoded = joserfc_jwt.decode(token, key, algorithms=[alg])
        registry.validate(decoded.claims)
    except Exception:  # joserfc raises its own errors and, on junk, ValueError/TypeError/KeyError
        return None
    return dict(decoded.claims)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def valid_tokens(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    alg = draw(st.sampled_from(ALGS))
    extra = draw(
        st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in RESERVED), json_values, max_size=4)
    )
    body: dict[str, Any] = {
        **extra,
        "iss": ISSUER,
        "aud": draw(st.sampled_from([AUDIENCE, [AUDIENCE], ["other", AUDIENCE]])),
        "sub": draw(st.text(max_size=20)),
        "exp": NOW + draw(st.integers(3600, 10**7)),
    }
    if draw(st.booleans()):
        body["iat"] = NOW - draw(st.integers(3600, 10**6))
    if draw(st.booleans()):
        body["nbf"] = NOW - draw(st.integers(3600, 10**6))
    key = dev_key(alg)
    return compact({"alg": alg, "kid": key.kid, "typ": "JWT"}, body, key.sign), alg, body


RESERVED = {"iss", "aud", "sub", "exp", "iat", "nbf", "scope", "scp", "client_id", "token_use"}
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/"


@st.composite
def mutated_tokens(draw: st.DrawFn) -> tuple[str, str, str]:
    token, alg, body = draw(valid_tokens())
    head, payload, signature = token.split(".")
    kind = draw(
        st.sampled_from(
            [
                "change",
                "drop",
                "add",
                "swap_header",
                "swap_payload",
                "swap_signature",
                "other_key",
                "other_alg",
                "header_member",
                "claims_resigned",
            ]
        )
    )
    position = draw(st.integers(0, len(token) - 1))
    if kind == "change":
        token = token[:position] + draw(st.sampled_from(ALPHABET)) + token[position + 1 :]
    elif kind == "drop":
        token = token[:position] + token[position + 1 :]
    elif kind == "add":
        token = token[:position] + draw(st.sampled_from(ALPHABET)) + token[position:]
    elif kind.startswith("swap"):
        other, _, _ = draw(valid_tokens())
        parts, others = [head, payload, signature], other.split(".")
        index = ["swap_header", "swap_payload", "swap_signature"].index(kind)
        parts[index] = others[index]
        token = ".".join(parts)
    elif kind == "other_key":  # the same kid, another key of the same algorithm
        signer = dev_key(alg, 1) if alg == "ES256" else dev_key("ES256", 1)
        header = {"alg": signer.alg, "kid": dev_key(alg).kid}
        token = compact(header, body, signer.sign)
    elif kind == "other_alg":
        other_alg = draw(st.sampled_from([a for a in ALGS if a != alg]))
        token = compact({"alg": other_alg, "kid": dev_key(alg).kid}, body, dev_key(other_alg).sign)
    elif kind == "header_member":
        member = draw(
            st.sampled_from(
                [
                    {"crit": ["exp"]},
                    {"b64": False},
                    {"jku": "http://127.0.0.1:1/"},
                    {"cty": "JWT"},
                    {"zip": "DEF"},
                    {"typ": "other"},
                ]
            )
        )
        token = compact({"alg": alg, "kid": dev_key(alg).kid, **member}, body, dev_key(alg).sign)
    else:  # valid signature, claims rewritten as JSON text with a duplicate name
        raw = json.dumps(body)[:-1] + ', "iss": ' + json.dumps(ISSUER) + "}"
        token = compact({"alg": alg, "kid": dev_key(alg).kid}, raw.encode(), dev_key(alg).sign)
    return token, alg, kind


def _agree_on_valid(verifier: Issuers, case: tuple[str, str, dict[str, Any]]) -> None:
    token, alg, body = case
    ours = verifier.verify(token, NOW)
    assert isinstance(ours, Verified), ours
    assert dict(ours.claims) == json.loads(json.dumps(body)) or _same(ours.claims, body)
    assert pyjwt_claims(token, alg) == body
    assert joserfc_claims(token, alg) == body


def _same(ours: Any, theirs: Any) -> bool:
    """Equal once the verifier's frozen containers (tuples, read-only mappings) are thawed."""
    if isinstance(theirs, dict):
        return set(ours) == set(theirs) and all(_same(ours[k], v) for k, v in theirs.items())
    if isinstance(theirs, list):
        return len(ours) == len(theirs) and all(_same(a, b) for a, b in zip(ours, theirs, strict=True))
    return type(ours) is type(theirs) and ours == theirs


def _never_more_lenient(verifier: Issuers, case: tuple[str, str, str]) -> None:
    token, alg, kind = case
    ours = verifier.verify(token, NOW)
    theirs = {"pyjwt": pyjwt_claims(token, alg), "joserfc": joserfc_claims(token, alg)}
    if isinstance(ours, Verified):
        OUTCOMES["both accept"] += 1
        for name, claims in theirs.items():
            assert claims is not None and _same(ours.claims, claims), (name, kind)
    else:
        accepted = [name for name, claims in theirs.items() if claims is not None]
        OUTCOMES[f"refused ({ours.reason}); accepted by {'+'.join(accepted) or 'neither'}"] += 1
        if accepted:
            assert ours.reason in STRICTER, (kind, ours.reason, accepted)


HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@given(case=valid_tokens())
@settings(max_examples=60, deadline=None, suppress_health_check=HEALTH)
def test_valid_tokens_are_accepted_by_all_three(verifier: Issuers, case: tuple[str, str, dict[str, Any]]) -> None:
    _agree_on_valid(verifier, case)


@given(case=mutated_tokens())
@settings(max_examples=200, deadline=None, suppress_health_check=HEALTH)
def test_mutated_tokens_never_verify_where_the_libraries_refuse(verifier: Issuers, case: tuple[str, str, str]) -> None:
    _never_more_lenient(verifier, case)


@pytest.mark.slow
@given(case=valid_tokens())
@settings(max_examples=2_000, deadline=None, suppress_health_check=list(HealthCheck))
def test_valid_tokens_at_length(verifier: Issuers, case: tuple[str, str, dict[str, Any]]) -> None:
    _agree_on_valid(verifier, case)


@pytest.mark.slow
@given(case=mutated_tokens())
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
def test_mutated_tokens_at_length(verifier: Issuers, case: tuple[str, str, str]) -> None:
    _never_more_lenient(verifier, case)


def test_the_libraries_are_real_oracles(verifier: Issuers) -> None:
    """The oracles can refuse: a tampered signature fails in both (a broken oracle would pass anything)."""
    token = mint(dev_key("ES256"), {"iss": ISSUER, "aud": AUDIENCE}, now=NOW)
    head, payload, signature = token.split(".")
    raw = b64.decode(signature) or b""
    tampered = f"{head}.{payload}.{b64.encode(raw[:-1] + bytes([raw[-1] ^ 1]))}"
    assert pyjwt_claims(token, "ES256") and joserfc_claims(token, "ES256")
    assert pyjwt_claims(tampered, "ES256") is None and joserfc_claims(tampered, "ES256") is None
    assert isinstance(verifier.verify(tampered, NOW), Failure)


def test_what_the_libraries_accept_and_the_verifier_refuses(verifier: Issuers) -> None:
    """The verifier's extra strictness, shown: a claim named twice (JSON parsers keep the last one)."""
    key = dev_key("RS256")
    twice = b'{"iss": "https://attacker.example", "aud": "client-1", "exp": %d, "iss": "%s"}' % (
        NOW + 600,
        ISSUER.encode(),
    )
    token = compact({"alg": "RS256", "kid": key.kid}, twice, key.sign)
    assert pyjwt_claims(token, "RS256") is not None and joserfc_claims(token, "RS256") is not None
    assert verifier.verify(token, NOW) == Failure("token.malformed")
