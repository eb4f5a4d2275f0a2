"""Bearer tokens (authorizer/tokens): verifying a token, against PyJWT and joserfc, and the import cost.

Each contender verifies the same realistic tokens (Cognito-like access tokens: ten claims, groups,
scopes) with the same rules (issuer, audience, expiry, the key's algorithm only): ours with the
cache off (every call a full verification), ours on a cache hit, PyJWT, joserfc, and the bare
signature check in `cryptography` (the floor all of them share). Keys are packaged (no fetch).
Import cost: what `import authorizer.tokens.verify` adds to a process that has imported the
handler, from bytecode (`python -X importtime`, and CPU time of fresh interpreters).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt as pyjwt
from joserfc import jwk as joserfc_jwk
from joserfc import jwt as joserfc_jwt

from authorizer.tokens import b64
from authorizer.tokens.keys import from_jwk
from authorizer.tokens.mint import DevKey, mint, write_jwks
from authorizer.tokens.verify import IssuerConfig, Issuers, Verified, compile_issuers
from benchmarks import cold
from benchmarks.events import POLICIES
from benchmarks.timing import Handler, interleaved

TARGETS_US = {"cache hit": 2.0, "RS256": 60.0, "ES256": 150.0}
IMPORT_TARGET_MS = 10.0
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyz"
AUDIENCE = "4kd9r0example0client0id"


def _claims(n: int, now: float) -> dict[str, Any]:
    return {
        "sub": f"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f{n % 10}",
        "cognito:groups": ["readers", "writers"],
        "iss": ISSUER,
        "client_id": AUDIENCE,
        "aud": AUDIENCE,
        "token_use": "access",
        "scope": "pets/read pets/write",
        "auth_time": int(now) - 60,
        "jti": f"6f7e8d9c-aaaa-bbbb-cccc-{n:012d}",
        "username": f"user-{n}",
    }


def _verifiers(folder: Path, keys: list[DevKey]) -> tuple[Issuers, Issuers]:
    write_jwks(folder / "jwks.json", keys)
    config = IssuerConfig(ISSUER, (AUDIENCE,), algorithms=("RS256", "ES256"), jwks_file=folder / "jwks.json")
    return compile_issuers([config]), compile_issuers([config], cache_size=0)


def _pyjwt(key: DevKey) -> Handler:
    public = pyjwt.PyJWK(key.public_jwk()).key
    options: Any = {"require": ["exp", "iss"]}

    def verify(token: str, context: Any) -> Any:
        return pyjwt.decode(token, public, algorithms=[key.alg], audience=AUDIENCE, issuer=ISSUER, options=options)

    return verify


def _joserfc(key: DevKey) -> Handler:
    jwk: dict[str, Any] = key.public_jwk()
    public = joserfc_jwk.import_key(jwk)
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": ISSUER},
        "aud": {"essential": True, "value": AUDIENCE},
    }

    def verify(token: str, context: Any) -> Any:
        decoded = joserfc_jwt.decode(token, public, algorithms=[key.alg])
        joserfc_jwt.JWTClaimsRegistry(exp={"essential": True}, **options).validate(decoded.claims)
        return decoded.claims

    return verify


def _signature_only(key: DevKey) -> Handler:
    """The signature check alone, on the already-decoded parts: cryptography's share of every contender."""
    verify = from_jwk(key.public_jwk()).verify

    def check(parts: tuple[bytes, bytes], context: Any) -> bool:
        return verify(*parts)

    return check


def _ours(verifier: Issuers) -> Handler:
    return lambda token, context: verifier.verify(token, time.time())


def verification(rounds: int) -> dict[str, Any]:
    """µs per verification, interleaved: ours (new token, cache hit), PyJWT, joserfc, signature only."""
    now = time.time()
    keys = {alg: DevKey.generate(alg, f"bench-{alg.lower()}") for alg in ("RS256", "ES256")}
    tokens = {alg: [mint(key, _claims(n, now), now=now) for n in range(8)] for alg, key in keys.items()}
    with tempfile.TemporaryDirectory(prefix="authorizer-bench-tokens-") as folder:
        cached, uncached = _verifiers(Path(folder), list(keys.values()))
    contenders: dict[str, Handler] = {}
    events: dict[str, list[Any]] = {}
    for alg, key in keys.items():
        for name, function in (
            ("ours", _ours(uncached)),
            ("PyJWT", _pyjwt(key)),
            ("joserfc", _joserfc(key)),
            ("signature only", _signature_only(key)),
        ):
            contenders[f"{alg} {name}"] = function
            events[f"{alg} {name}"] = tokens[alg]
        events[f"{alg} signature only"] = [_parts(token) for token in tokens[alg]]
    contenders["RS256 ours, cache hit"] = _ours(cached)
    events["RS256 ours, cache hit"] = tokens["RS256"]
    _check(contenders, events)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        samples = interleaved(contenders, events, rounds=rounds, target_ms=20.0)
    figures = {name: round(sample.median, 2) for name, sample in samples.items()}
    return {
        "us": figures,
        "targets_us": TARGETS_US,
        "ok": {
            "cache hit": figures["RS256 ours, cache hit"] <= TARGETS_US["cache hit"],
            "RS256": figures["RS256 ours"] <= TARGETS_US["RS256"],
            "ES256": figures["ES256 ours"] <= TARGETS_US["ES256"],
        },
    }


def _parts(token: str) -> tuple[bytes, bytes]:
    signing_input, _, signature = token.rpartition(".")
    return signing_input.encode(), b64.decode(signature) or b""


def _check(contenders: dict[str, Handler], events: dict[str, list[Any]]) -> None:
    """Every contender accepts every token it is timed on, or the comparison means nothing."""
    for name, function in contenders.items():
        for event in events[name]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = function(event, None)
            if result is False or (name.endswith(("ours", "cache hit")) and not isinstance(result, Verified)):
                raise SystemExit(f"benchmark contender {name} refused a valid token: {result!r}")


_IMPORT = "import authorizer.handler\n"
_TIMED = (
    "import time\n" + _IMPORT + "t0 = time.process_time()\nimport authorizer.tokens.verify as v\n"
    "t1 = time.process_time()\nv.compile_issuers([v.IssuerConfig('https://i', ('a',), jwks_file=v.Path(JWKS))])\n"
    "print((t1 - t0) * 1000, (time.process_time() - t1) * 1000)\n"
)


def import_cost(rounds: int) -> dict[str, Any]:
    """What verifying tokens adds to a cold start that has imported the handler (bytecode, fresh interpreters)."""
    env = cold._environment(POLICIES / "example.yaml", AUTHORIZER_METRICS="false")
    with tempfile.TemporaryDirectory(prefix="authorizer-bench-tokens-") as folder:
        jwks = Path(folder) / "jwks.json"
        write_jwks(jwks, [DevKey.generate("RS256", "k")])
        code = f"JWKS = {str(jwks)!r}\n" + _TIMED
        _run(code, env)  # fills the bytecode cache
        timed = [_run(code, env) for _ in range(rounds)]
    base = cold._import_times(_IMPORT, env)
    with_tokens = cold._import_times(_IMPORT + "import authorizer.tokens.verify\n", env)
    added = {name: ms for name, ms in with_tokens.items() if name not in base}
    cryptography_ms = sum(ms for name, ms in added.items() if name in ("cryptography", "_cffi_backend"))
    tokens_ms = with_tokens.get("authorizer", 0.0) - base.get("authorizer", 0.0)
    import_ms = statistics.median(t[0] for t in timed)
    return {
        "import_cpu_ms": round(import_ms, 2),
        "compile_one_issuer_cpu_ms": round(statistics.median(t[1] for t in timed), 2),
        "importtime_ms": {
            "cryptography": round(cryptography_ms, 2),
            "authorizer.tokens": round(tokens_ms, 2),
            "other": round(sum(added.values()) - cryptography_ms, 2),
        },
        "target_ms": IMPORT_TARGET_MS,
        "ok": import_ms <= IMPORT_TARGET_MS,
    }


def _run(code: str, env: dict[str, str]) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    first, second = out.stdout.split()
    return float(first), float(second)


Table = Callable[[list[str], list[list[Any]]], None]


def report(rounds: int, table: Table) -> tuple[dict[str, Any], list[str]]:
    """Run both measurements, print their tables, and say which targets were missed."""
    result = verification(rounds)
    us = result["us"]
    print("## Bearer tokens: one verification (CPU µs; same tokens, same rules; interleaved medians)\n")
    table(
        ["algorithm", "ours", "PyJWT", "joserfc", "signature only (cryptography)", "ours, cache hit", "target"],
        [
            [
                alg,
                us[f"{alg} ours"],
                us[f"{alg} PyJWT"],
                us[f"{alg} joserfc"],
                us[f"{alg} signature only"],
                us["RS256 ours, cache hit"] if alg == "RS256" else "-",
                f"≤ {TARGETS_US[alg]:g} (hit ≤ {TARGETS_US['cache hit']:g})"
                if alg == "RS256"
                else f"≤ {TARGETS_US[alg]:g}",
            ]
            for alg in ("RS256", "ES256")
        ],
    )
    cost = import_cost(max(5, rounds // 2))
    result["import"] = cost
    print("Import cost over a handler-only cold start (ms):\n")
    table(
        [
            "import (CPU)",
            "compile one issuer, packaged JWKS (CPU)",
            "importtime: cryptography",
            "authorizer.tokens",
            "other",
            "target",
        ],
        [
            [
                cost["import_cpu_ms"],
                cost["compile_one_issuer_cpu_ms"],
                cost["importtime_ms"]["cryptography"],
                cost["importtime_ms"]["authorizer.tokens"],
                cost["importtime_ms"]["other"],
                f"≤ {IMPORT_TARGET_MS:g}",
            ]
        ],
    )
    missed = [f"tokens: {name}" for name, ok in result["ok"].items() if not ok]
    if not cost["ok"]:
        missed.append("tokens: import cost")
    print("tokens targets: " + ("all met" if not missed else "MISSED " + ", ".join(missed)) + "\n")
    return result, missed
