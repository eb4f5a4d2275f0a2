"""Verified claims through the Lambda: a policy reading `jwt.*` against the same policy reading
headers instead, through `lambda_handler` (decision logs and metrics off), cold and warm.

- Cold start (fresh interpreters, bytecode and the validated-data cache present, as packaged): the
  tokens policy with a packaged key set (one RS256 and one ES256 key) deciding one request with a
  token, against the plain policy deciding the same request by headers. Budget: +10 ms.
- Warm: a token already verified (the issuers' cache), a new RS256 and a new ES256 token (a pool of
  distinct tokens larger than the cache, cycled: every call a full verification), each against the
  plain policy on the same headers. Budgets: +2, +60 and +150 µs.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from authorizer.event.builder import RequestSpec
from authorizer.tokens.mint import DevKey, mint, write_jwks
from benchmarks import cold
from benchmarks.events import with_typical_headers
from benchmarks.timing import Handler, interleaved
from benchmarks.warm import outcome, use_policy

COLD_TARGET_MS = 10.0
TARGETS_US = {"verified": 2.0, "new RS256": 60.0, "new ES256": 150.0}
NEW_TOKENS = 1536  # more than the issuers' cache holds (1,024): cycling through them, every call misses
ISSUER = "https://idp.example.com/"
TOKENS_POLICY = f"""version: 1
tokens:
  from: [header.authorization]
  issuers:
    idp: {{issuer: "{ISSUER}", audiences: [orders-api], algorithms: [RS256, ES256], jwks: {{file: jwks.json}}}}
rules:
  - name: readers
    effect: allow
    when:
      "jwt[cognito:groups]": {{equals: readers, values: any}}
      path.tenant: {{equals: {{from: "jwt.custom:tenant"}}}}
    principal: {{from: jwt.sub}}
    context: {{tenant: {{from: "jwt.custom:tenant"}}}}
"""
PLAIN_POLICY = """version: 1
rules:
  - name: readers
    effect: allow
    when:
      header.x-groups: {equals: readers, values: any}
      path.tenant: {equals: {from: header.x-tenant}}
    principal: {from: header.x-sub}
    context: {tenant: {from: header.x-tenant}}
"""


def _claims(n: int) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "aud": "orders-api",
        "sub": f"0f1e2d3c-4b5a-6978-8796-{n:012d}",
        "cognito:groups": ["readers", "writers"],
        "custom:tenant": "acme",
        "scope": "orders/read orders/write",
        "jti": f"6f7e8d9c-aaaa-bbbb-cccc-{n:012d}",
    }


def _event(token: str, n: int = 0) -> dict[str, Any]:
    """A realistic REST request carrying the token, and the headers the plain policy reads instead."""
    headers = {"Authorization": f"Bearer {token}", "x-groups": "readers", "x-tenant": "acme"}
    headers["x-sub"] = f"0f1e2d3c-4b5a-6978-8796-{n:012d}"
    spec = RequestSpec(path="/tenants/acme/orders", path_parameters={"tenant": "acme"}, headers=headers, now=0)
    return with_typical_headers(spec.to_event("rest"))


class Setup:
    """The two policies in a folder (key set beside the tokens one), and the tokens they verify."""

    def __init__(self, folder: Path) -> None:
        now = time.time()
        self.keys = {alg: DevKey.generate(alg, f"bench-{alg.lower()}") for alg in ("RS256", "ES256")}
        write_jwks(folder / "jwks.json", list(self.keys.values()))
        self.tokens_policy, self.plain_policy = folder / "tokens.yaml", folder / "plain.yaml"
        self.tokens_policy.write_text(TOKENS_POLICY)
        self.plain_policy.write_text(PLAIN_POLICY)
        self.verified = [_event(mint(self.keys["RS256"], _claims(n), now=now), n) for n in range(8)]
        self.new = {
            alg: [_event(mint(key, _claims(n), now=now), n) for n in range(NEW_TOKENS)]
            for alg, key in self.keys.items()
        }


def cold_starts(setup: Setup, rounds: int) -> dict[str, Any]:
    """ms of CPU from the first statement: import, load (validated-data cache present), one decision."""
    event = setup.verified[0]
    variants = {
        "plain": cold._environment(setup.plain_policy, AUTHORIZER_METRICS="false"),
        "tokens": cold._environment(setup.tokens_policy, AUTHORIZER_METRICS="false"),
    }
    code = f"EVENT = {json.dumps(event)!r}\n" + cold.AUTHORIZER
    for env in variants.values():  # fill the bytecode and validated-data caches
        cold._run(code, env)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, env in variants.items():
            times[name].append(cold._run(code, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    added = statistics.median(t - p for t, p in zip(times["tokens"], times["plain"], strict=True))
    return {"ms": medians, "added_ms": round(added, 2), "target_ms": COLD_TARGET_MS, "ok": added <= COLD_TARGET_MS}


def warm(setup: Setup, rounds: int) -> dict[str, Any]:
    """µs per decision through lambda_handler: plain, a verified token, new RS256 and ES256 tokens."""
    plain = use_policy(setup.plain_policy)
    by_headers = [outcome(plain, event) for event in setup.verified]
    tokens = use_policy(setup.tokens_policy)
    by_claims = [outcome(tokens, event) for event in [*setup.verified, setup.new["RS256"][-1], setup.new["ES256"][-1]]]
    if by_claims[: len(by_headers)] != by_headers or not all(isinstance(a, dict) for a in by_claims):
        raise SystemExit("claims benchmark: the two policies do not allow the same requests")
    contenders: dict[str, Handler] = {"plain": plain, "verified": tokens, "new RS256": tokens, "new ES256": tokens}
    events = {
        "plain": setup.verified,
        "verified": setup.verified,
        "new RS256": setup.new["RS256"],
        "new ES256": setup.new["ES256"],
    }

    def boot_plain() -> None:
        use_policy(setup.plain_policy)

    def boot_tokens() -> None:
        use_policy(setup.tokens_policy)

    prepare = {"plain": boot_plain, "verified": boot_tokens, "new RS256": boot_tokens, "new ES256": boot_tokens}
    samples = interleaved(contenders, events, rounds=rounds, prepare=prepare)
    us = {name: round(sample.median, 2) for name, sample in samples.items()}
    added = {
        name: round(
            statistics.median(a - b for a, b in zip(samples[name].rounds, samples["plain"].rounds, strict=True)), 2
        )
        for name in TARGETS_US
    }
    return {
        "us": us,
        "added_us": added,
        "targets_us": TARGETS_US,
        "ok": {name: added[name] <= target for name, target in TARGETS_US.items()},
    }


def report(rounds: int, table: Any) -> tuple[dict[str, Any], list[str]]:
    with tempfile.TemporaryDirectory(prefix="authorizer-bench-claims-") as folder:
        setup = Setup(Path(folder))
        figures = warm(setup, rounds)
        starts = cold_starts(setup, max(5, rounds // 2))
    print("## Verified claims through lambda_handler (a jwt.* policy against the same rules on headers)\n")
    us, added = figures["us"], figures["added_us"]
    table(
        ["request", "µs per decision", "added over plain", "budget"],
        [["plain policy, headers", us["plain"], "-", "-"]]
        + [[name, us[name], added[name], f"≤ {TARGETS_US[name]:g}"] for name in TARGETS_US],
    )
    ms = starts["ms"]
    table(
        ["cold start (CPU ms)", "plain", "tokens, packaged key set", "added", "budget"],
        [["import, load, one decision", round(ms["plain"], 2), round(ms["tokens"], 2), starts["added_ms"], "≤ 10"]],
    )
    missed = [f"claims: {name}" for name, ok in figures["ok"].items() if not ok]
    if not starts["ok"]:
        missed.append("claims: cold start")
    print("claims targets: " + ("all met" if not missed else "MISSED " + ", ".join(missed)) + "\n")
    return {"warm": figures, "cold": starts}, missed
