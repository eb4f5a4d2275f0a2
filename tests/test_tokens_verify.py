"""Issuers and verification: the configuration refuses what must never be configured, each claim rule
holds at its boundary, the cache answers as a fresh verification would, nothing raises, no token is
ever written, and the attack battery is refused — each attack for its own flaw."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authorizer.tokens import verify as verify_module
from authorizer.tokens.attacks import battery
from authorizer.tokens.claims import PERSONAL_CLAIMS
from authorizer.tokens.jwks import FetchSettings
from authorizer.tokens.mint import DevKey, compact, mint, write_jwks
from authorizer.tokens.reasons import REASONS, Failure, Reason
from authorizer.tokens.verify import ConfigError, IssuerConfig, Verified, cognito, compile_issuers
from tests.tokens_support import ALGS, AUDIENCE, ISSUER, NOW, claims, dev_key, issuers


@pytest.fixture
def rs256(tmp_path: Path):
    return issuers(tmp_path, [dev_key("RS256")])[0]


def reason(result: Verified | Failure) -> str:
    return result.reason if isinstance(result, Failure) else "verified"


# -- configuration ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"algorithms": ("HS256",)}, "algorithms", "HMAC and 'none' are never accepted"),
        ({"algorithms": ("none",)}, "algorithms", "HMAC and 'none' are never accepted"),
        ({"algorithms": ("RS1",)}, "algorithms", "one of RS256"),
        ({"algorithms": ()}, "algorithms", "at least one"),
        ({"audiences": ()}, "audiences", "at least one audience"),
        ({"audiences": ("",)}, "audiences", "at least one audience"),
        ({"issuer": ""}, "issuer", "non-empty"),
        ({"leeway": 301}, "leeway", "from 0 to 300"),
        ({"leeway": -1}, "leeway", "from 0 to 300"),
        ({"leeway": math.nan}, "leeway", "from 0 to 300"),
        ({"token_use": "refresh"}, "token_use", "id or access"),
        ({"jwks_file": None}, "jwks", "a packaged key set file, a key set URL, or both"),
        ({"jwks_url": "http://keys.example/jwks.json"}, "jwks_url", "https://"),
        ({"jwks_url": "file:///etc/passwd"}, "jwks_url", "https://"),
        ({"jwks_file": Path("/nonexistent/jwks.json")}, "jwks_file", "cannot read"),
        ({"fetch": FetchSettings(timeout=30)}, "fetch.timeout", "at most 10"),
        ({"fetch": FetchSettings(refresh=10, max_age=5)}, "fetch", "refresh <= max_age"),
    ],
)
def test_configurations_that_must_never_be_used_are_errors(
    tmp_path: Path, changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        issuers(tmp_path, [dev_key("RS256")], **changes)
    assert any(where == f"issuers[0].{field}" and message in text for where, text in caught.value.problems), (
        caught.value.problems
    )


def test_a_packaged_key_set_must_be_clean(tmp_path: Path) -> None:
    weak = DevKey.generate("RS256", "weak", rsa_bits=1024)
    with pytest.raises(ConfigError, match="1024 bits"):
        issuers(tmp_path, [dev_key("RS256"), weak])
    (tmp_path / "empty.json").write_text('{"keys": []}')
    config = IssuerConfig(ISSUER, (AUDIENCE,), jwks_file=tmp_path / "empty.json")
    with pytest.raises(ConfigError, match="holds no key"):
        compile_issuers([config])
    with pytest.raises(ConfigError, match="configured twice"):
        compile_issuers([config, config])


def test_cognito_shorthand() -> None:
    config = cognito("eu-west-1_AbC123xyz", ["app-client"], "access")
    assert config.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyz"
    assert config.jwks_url == config.issuer + "/.well-known/jwks.json"
    assert config.audiences == ("app-client",) and config.algorithms == ("RS256",) and config.token_use == "access"
    assert cognito("us-gov-west-1_x1", ["c"]).issuer.startswith("https://cognito-idp.us-gov-west-1.amazonaws.com/")
    for bad in ("AbC123xyz", "eu-west-1", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", "eu-west-1_A/B"):
        with pytest.raises(ConfigError, match="user pool id"):
            cognito(bad, ["c"])


def test_cognito_access_and_id_tokens(tmp_path: Path) -> None:
    """Access tokens carry client_id and no aud (API Gateway's rule applies); token_use must match."""
    key = dev_key("RS256")
    write_jwks(tmp_path / "jwks.json", [key])
    config = cognito("eu-west-1_AbC123xyz", ["app-client"], "access", jwks_file=tmp_path / "jwks.json")
    verifier = compile_issuers([config])
    access = {"iss": config.issuer, "client_id": "app-client", "token_use": "access", "scope": "read write"}
    result = verifier.verify(mint(key, access, now=NOW), NOW)
    assert isinstance(result, Verified) and result.scopes == ("read", "write")
    id_token = {"iss": config.issuer, "aud": "app-client", "token_use": "id"}
    assert reason(verifier.verify(mint(key, id_token, now=NOW), NOW)) == "token.token_use"
    other_client = {**access, "client_id": "other"}
    assert reason(verifier.verify(mint(key, other_client, now=NOW), NOW)) == "token.audience"


# -- every algorithm, and the claim rules -------------------------------------------------------------
def test_every_algorithm_verifies_and_one_changed_character_never_does(tmp_path: Path) -> None:
    keys = [dev_key(alg) for alg in ALGS] + [DevKey.generate("EdDSA", "ed448", crv="Ed448")]
    verifier, _ = issuers(tmp_path, keys, cache_size=0)
    for key in keys:
        token = mint(key, claims(), now=NOW)
        result = verifier.verify(token, NOW)
        assert isinstance(result, Verified) and result.alg == key.alg and result.kid == key.kid
        assert result.claims["sub"] == "user-1" and result.subject == "user-1"
        for position in range(0, len(token), 7):  # one character changed anywhere: refused
            for replacement in "AB":
                if token[position] != replacement:
                    mutated = token[:position] + replacement + token[position + 1 :]
                    assert isinstance(verifier.verify(mutated, NOW), Failure), (key.alg, position)


@given(position=st.integers(min_value=0), byte=st.integers(min_value=1, max_value=255))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_signature_with_one_byte_changed_never_verifies(rs256_es256, position: int, byte: int) -> None:
    from authorizer.tokens import b64

    verifier, tokens = rs256_es256
    for token in tokens:
        head, payload, signature = token.split(".")
        raw = bytearray(b64.decode(signature) or b"")
        raw[position % len(raw)] ^= byte
        assert reason(verifier.verify(f"{head}.{payload}.{b64.encode(bytes(raw))}", NOW)) == "token.bad_signature"


@pytest.fixture(scope="module")
def rs256_es256(tmp_path_factory: pytest.TempPathFactory):
    keys = [dev_key("RS256"), dev_key("ES256"), dev_key("EdDSA"), dev_key("PS256")]
    verifier, _ = issuers(tmp_path_factory.mktemp("keys"), keys, cache_size=0)
    return verifier, [mint(key, claims(), now=NOW) for key in keys]


@pytest.mark.parametrize(
    ("changes", "now", "leeway", "expected"),
    [
        ({}, NOW, 0, "verified"),
        ({"exp": int(NOW)}, NOW, 0, "token.expired"),  # exp is the first second it is not valid
        ({"exp": int(NOW) + 1}, NOW, 0, "verified"),
        ({"exp": int(NOW) - 60}, NOW, 60, "token.expired"),
        ({"exp": int(NOW) - 59}, NOW, 60, "verified"),
        ({"exp": NOW + 0.5}, NOW, 0, "verified"),  # fractional seconds are numbers
        ({"nbf": int(NOW) + 1}, NOW, 0, "token.not_yet_valid"),
        ({"nbf": int(NOW)}, NOW, 0, "verified"),
        ({"nbf": int(NOW) + 30}, NOW, 30, "verified"),
        ({"iat": int(NOW) + 1}, NOW, 0, "token.not_yet_valid"),
        ({"iat": int(NOW) + 31}, NOW, 30, "token.not_yet_valid"),
        ({"exp": None}, NOW, 0, "token.claims"),
        ({"exp": True}, NOW, 0, "token.claims"),
        ({"exp": "1900000000"}, NOW, 0, "token.claims"),
        ({"exp": 2**60}, NOW, 0, "token.claims"),  # beyond ±2^53: refused, not rounded
        ({"nbf": False}, NOW, 0, "token.claims"),
        ({"iat": None, "nbf": [1]}, NOW, 0, "token.claims"),
        ({"aud": [AUDIENCE, "other"]}, NOW, 0, "verified"),
        ({"aud": ["other", AUDIENCE]}, NOW, 0, "verified"),
        ({"aud": ["other"]}, NOW, 0, "token.audience"),
        ({"aud": []}, NOW, 0, "token.audience"),
        ({"aud": AUDIENCE + " "}, NOW, 0, "token.audience"),
        ({"aud": 7}, NOW, 0, "token.claims"),
        ({"aud": [AUDIENCE, 7]}, NOW, 0, "token.claims"),
        ({"aud": None, "client_id": AUDIENCE}, NOW, 0, "verified"),
        ({"aud": None, "client_id": "other"}, NOW, 0, "token.audience"),
        ({"aud": "other", "client_id": AUDIENCE}, NOW, 0, "token.audience"),  # aud present: aud decides
        ({"aud": None, "client_id": [AUDIENCE]}, NOW, 0, "token.claims"),
        ({"sub": 42}, NOW, 0, "token.claims"),
        ({"scope": ["a"]}, NOW, 0, "token.claims"),
        ({"scp": "a b"}, NOW, 0, "verified"),
        ({"scp": ["a", 1]}, NOW, 0, "token.claims"),
        ({"iss": ISSUER + "/"}, NOW, 0, "token.unknown_issuer"),
        ({"iss": ISSUER.upper()}, NOW, 0, "token.unknown_issuer"),
        ({"iss": [ISSUER]}, NOW, 0, "token.unknown_issuer"),
        ({"iss": None}, NOW, 0, "token.unknown_issuer"),
    ],
)
def test_claim_rules(tmp_path: Path, changes: dict[str, Any], now: float, leeway: float, expected: str) -> None:
    verifier, _ = issuers(tmp_path, [dev_key("ES256")], leeway=leeway)
    assert reason(verifier.verify(mint(dev_key("ES256"), claims(**changes), expires_in=None), now)) == expected


def test_scopes_and_read_only_claims(rs256) -> None:
    token = mint(dev_key("RS256"), claims(scope="a b", scp=["c"], groups=["x"], address={"country": "FR"}))
    result = rs256.verify(token, NOW)
    assert isinstance(result, Verified) and result.scopes == ("a", "b", "c")
    assert result.claims["groups"] == ("x",)  # shared by every request presenting the token: frozen
    with pytest.raises(TypeError):
        result.claims["address"]["country"] = "XX"  # type: ignore[index]


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (None, "token.missing"),
        ("", "token.missing"),
        ((), "token.missing"),
        (("a", "b"), "token.multiple"),
        (7, "token.malformed"),
        (b"bytes", "token.malformed"),
        ("Bearer", "token.malformed"),
        ("a.b.c", "token.malformed"),
    ],
)
def test_what_is_not_one_token(rs256, token: object, expected: str) -> None:
    assert reason(rs256.verify(token, NOW)) == expected


def test_one_token_with_or_without_its_scheme(rs256) -> None:
    token = mint(dev_key("RS256"), claims())
    for sent in (token, f"Bearer {token}", f"bearer {token}", (token,), [f"Bearer {token}"]):
        assert isinstance(rs256.verify(sent, NOW), Verified)
    for sent in (
        f"Bearer  {token}",
        f"Basic {token}",
        f"{token} ",
        f"{token},{token}",
        f"Bearer {token}, Bearer {token}",
    ):
        assert isinstance(rs256.verify(sent, NOW), Failure)
    assert reason(rs256.verify(f"{token},{token}", NOW)) == "token.multiple"
    assert reason(rs256.verify(f"{token} ", NOW)) == "token.malformed"


# -- the cache ----------------------------------------------------------------------------------------
def test_the_cache_answers_as_a_fresh_verification_would(tmp_path: Path) -> None:
    key = dev_key("ES256")
    cached, _ = issuers(tmp_path, [key], leeway=5)
    fresh, _ = issuers(tmp_path, [key], leeway=5, cache_size=0)
    token = mint(key, claims(nbf=int(NOW) + 10, exp=int(NOW) + 100))
    for now in (NOW + 10, NOW + 4, NOW + 5, NOW + 50, NOW + 104.9, NOW + 105, NOW, NOW + 6, NOW + 200):
        assert reason(cached.verify(token, now)) == reason(fresh.verify(token, now)), now
    first = cached.verify(token, NOW + 20)
    assert cached.verify(token, NOW + 21) is first  # a hit returns the verified object itself


def test_a_development_key_survives_its_pem_file(tmp_path: Path) -> None:
    """Local serving keeps a key between runs: the PEM it writes signs tokens its key set verifies."""
    for alg in ("RS256", "ES384", "EdDSA"):
        key = dev_key(alg)
        again = DevKey.from_pem(key.private_pem(), alg, key.kid)
        verifier, _ = issuers(tmp_path, [key])
        assert isinstance(verifier.verify(mint(again, claims()), NOW), Verified)


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    key = dev_key("ES256")
    verifier, _ = issuers(tmp_path, [key], cache_size=3)
    tokens = [mint(key, claims(sub=f"user-{n}")) for n in range(10)]
    for token in tokens:
        assert isinstance(verifier.verify(token, NOW), Verified)
    assert len(verifier._cache) == 3
    assert "TokenCache(3/3)" in repr(verifier)


# -- never raises, never tells ------------------------------------------------------------------------
@given(
    junk=st.one_of(
        st.text(max_size=300),
        st.binary(max_size=50),
        st.lists(st.text(max_size=30), max_size=3),
        st.integers(),
        st.none(),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5)),
    )
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_junk_is_refused_without_raising(rs256, junk: object) -> None:
    assert isinstance(rs256.verify(junk, NOW), Failure)


@given(
    header=st.dictionaries(
        st.sampled_from(["alg", "kid", "crit", "typ", "cty", "jku"]),
        st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none(), st.lists(st.text(max_size=3))),
    ),
    body=st.dictionaries(
        st.sampled_from(["iss", "aud", "exp", "nbf", "iat", "sub", "client_id", "scope", "scp"]),
        st.one_of(
            st.text(max_size=8), st.integers(), st.floats(), st.booleans(), st.none(), st.lists(st.text(max_size=3))
        ),
    ),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_signed_junk_claims_are_refused_without_raising(rs256, header: dict[str, Any], body: dict[str, Any]) -> None:
    """Tokens signed with the issuer's own key, junk in every header member and claim: never an exception,
    and a token that verifies does satisfy the rules."""
    key = dev_key("RS256")
    token = compact(header, body, key.sign)
    result = rs256.verify(token, NOW)
    if isinstance(result, Verified):
        assert header.get("alg") == "RS256" and header.get("kid") == key.kid and "crit" not in header
        assert body["iss"] == ISSUER and type(body["exp"]) in (int, float) and body["exp"] > NOW
        assert body.get("aud", body.get("client_id")) == AUDIENCE or AUDIENCE in body.get("aud", [])


def test_an_internal_error_is_a_refusal_that_never_quotes_the_token(
    rs256, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token = mint(dev_key("RS256"), claims())

    def broken(*args: Any) -> Any:
        raise RuntimeError(f"failed on {token}")  # the worst case: an exception quoting the token

    monkeypatch.setattr(verify_module.jose, "parse", broken)
    with caplog.at_level(logging.DEBUG):
        assert rs256.verify(token, NOW) == Failure("token.internal")
    assert "RuntimeError" in caplog.text and token not in caplog.text
    assert token.split(".")[2] not in caplog.text


def test_no_token_or_personal_claim_in_reprs(rs256) -> None:
    personal = {name: f"secret-{name}" for name in PERSONAL_CLAIMS}
    token = mint(dev_key("RS256"), claims(**personal))
    result = rs256.verify(token, NOW)
    assert isinstance(result, Verified)
    shown = repr(result) + repr(rs256) + repr(dev_key("RS256")) + repr(rs256.issuers[ISSUER].keys)
    assert token not in shown and token.split(".")[1] not in shown and token.split(".")[2] not in shown
    assert "secret-" not in shown and "<redacted>" in shown and "user-1" in shown  # sub is shown
    assert result.claims["email"] == "secret-email"  # redaction is for showing, not for the rules


def test_reason_codes_are_documented() -> None:
    from typing import get_args

    assert set(get_args(Reason)) == set(REASONS)
    guide = (Path(__file__).resolve().parent.parent / "docs" / "tokens.md").read_text()
    assert [code for code in REASONS if f"`{code}`" not in guide] == []
    assert [name for name in PERSONAL_CLAIMS if f"`{name}`" not in guide] == []


# -- the attack battery -------------------------------------------------------------------------------
EXPECTED: dict[str, set[str]] = {  # with the issuer's own key as signer: each attack fails for its own flaw
    "alg_none": {"token.algorithm"},
    "alg_none_capitalised": {"token.algorithm"},
    "alg_hs256_public_key_pem": {"token.algorithm"},
    "alg_hs256_public_key_jwk": {"token.algorithm"},
    "alg_other_than_the_key": {"token.algorithm"},
    "key_type_other_than_the_key": {"token.algorithm"},
    "kid_unknown": {"token.unknown_kid"},
    "kid_path": {"token.unknown_kid"},
    "kid_url": {"token.unknown_kid"},
    "kid_missing": {"token.unknown_kid"},
    "kid_not_a_string": {"token.unknown_kid"},
    "header_jwk": {"token.bad_signature"},  # the header's key is never read: the issuer's key refuses it
    "header_jku": {"token.bad_signature"},
    "header_x5u": {"token.bad_signature"},
    "header_x5c": {"token.bad_signature"},
    "rsa_1024_key": {"token.bad_signature", "token.algorithm"},
    "rsa_1024_key_under_the_kid": {"token.bad_signature", "token.algorithm"},
    "header_crit": {"token.header"},
    "header_b64_false": {"token.header"},
    "header_zip": {"token.header"},
    "cty_jwt": {"token.header"},
    "nested_jwt": {"token.malformed"},
    "jwe_five_parts": {"token.encrypted"},
    "jwe_header_in_three_parts": {"token.encrypted"},
    "exp_duplicate": {"token.malformed"},
    "alg_duplicate": {"token.malformed"},
    "exp_nan": {"token.malformed"},
    "exp_infinity": {"token.claims"},
    "exp_boolean": {"token.claims"},
    "exp_string": {"token.claims"},
    "exp_missing": {"token.claims"},
    "exp_passed": {"token.expired"},
    "payload_not_an_object": {"token.malformed"},
    "payload_utf16": {"token.malformed"},
    "base64_noncanonical_bits": {"token.malformed"},
    "base64_padding": {"token.malformed"},
    "base64_standard_alphabet": {"token.malformed"},
    "nul_byte": {"token.malformed"},
    "two_tokens": {"token.multiple"},
    "two_tokens_space": {"token.multiple"},
    "signature_bit_flip": {"token.bad_signature"},
    "signature_empty": {"token.bad_signature"},
    "signature_truncated": {"token.bad_signature"},
    "signature_from_attacker": {"token.bad_signature"},
    "payload_tampered": {"token.bad_signature"},
    "ecdsa_der_signature": {"token.bad_signature"},
    "ecdsa_zero_signature": {"token.bad_signature"},
    "ecdsa_wrong_curve": {"token.bad_signature"},
    "iss_trailing_slash": {"token.unknown_issuer"},
    "iss_other_case": {"token.unknown_issuer"},
    "iss_missing": {"token.unknown_issuer"},
    "aud_empty_list": {"token.audience"},
    "aud_empty_string": {"token.audience"},
    "aud_other": {"token.audience"},
    "aud_missing_without_client_id": {"token.audience"},
    "nbf_future": {"token.not_yet_valid"},
    "iat_future": {"token.not_yet_valid"},
    "token_use_other": {"token.token_use"},
    "oversized": {"token.too_large"},
}


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"])
def test_the_attack_battery_is_refused_each_attack_for_its_flaw(tmp_path: Path, alg: str) -> None:
    key = dev_key(alg)
    verifier, config = issuers(tmp_path, [key], algorithms=(alg,), token_use="access", leeway=300)
    names = []
    for name, token in battery(config, key.public_jwk(), signer=key, now=NOW):
        names.append(name)
        assert reason(verifier.verify(token, NOW)) in EXPECTED[name], name
    assert len(names) == len(set(names))
    assert set(EXPECTED) - set(names) <= (
        {"ecdsa_der_signature", "ecdsa_zero_signature", "ecdsa_wrong_curve"}
        | ({"alg_other_than_the_key"} if alg == "EdDSA" else set())
    )
    # the battery's own valid token is accepted: the refusals are not the verifier refusing everything
    assert isinstance(verifier.verify(mint(key, claims(token_use="access"), now=NOW), NOW), Verified)


def test_the_attack_battery_without_the_issuers_key(tmp_path: Path) -> None:
    """What an operator can run against a deployed configuration: the battery signs with its own keys."""
    key = dev_key("RS256")
    verifier, config = issuers(tmp_path, [key])
    results = {name: verifier.verify(token, NOW) for name, token in battery(config, key.public_jwk(), now=NOW)}
    assert len(results) > 40 and all(isinstance(r, Failure) for r in results.values())


def test_a_lambda_without_tokens_imports_none_of_this() -> None:
    """The handler, a policy load and a decision import neither this package nor cryptography;
    `import authorizer.tokens` alone imports nothing."""
    import subprocess
    import sys

    code = (
        "import sys, json\nfrom authorizer.handler import lambda_handler\nimport authorizer.tokens\n"
        "event = json.load(open('policies/events/example/rest-allowed.json'))\nlambda_handler(event, None)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('cryptography', 'authorizer.tokens.'))))\n"
    )
    root = Path(__file__).resolve().parent.parent
    env = {
        "AUTHORIZER_POLICY": str(root / "policies" / "example.yaml"),
        "AUTHORIZER_METRICS": "false",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
