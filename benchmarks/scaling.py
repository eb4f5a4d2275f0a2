"""Decision time as policies grow to 1, 10, 100 and 1,000 rules, and the time to compile them.

Five shapes of policy, each timed on the event matching the last rule and on an event matching none:
- `routes`: every rule scoped to its own exact route (indexed by route);
- `api keys`: every rule keyed on its own value of one identity source, `header.x-api-key`
  (indexed by that value; a secret-bearing source, so keyed by digest);
- `regex`, `glob`: every rule its own pattern for `header.x-user` (indexed by one RE2 set of them all);
- `unindexable`: every rule a `prefix` condition with `values: any` (any of the header's values may
  match), which the index does not narrow: it keys single values (a scan).
Baselines: hand-written (a dict lookup for the keyed shapes, a loop for the others: compiled `re`
patterns for regex and glob) and the naive engine (a linear scan with `jmespath.search`; only up to
100 rules, 1,000 takes ~10 ms a call).
"""

from __future__ import annotations

import fnmatch
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from authorizer import handler
from authorizer.decide.generated import with_generated
from authorizer.event.builder import RequestSpec
from authorizer.policy.compiler import compile_policy
from authorizer.policy.load import load, validate_data
from authorizer.policy.yamlsource import load_yaml
from benchmarks.baselines import UNAUTHORIZED, Naive, generate_policy
from benchmarks.events import with_typical_headers
from benchmarks.timing import Handler, Sample, interleaved, ratio
from benchmarks.warm import check_agreement, use_policy

SIZES = (1, 10, 100, 1000)
SHAPES = ("routes", "api keys", "regex", "glob", "unindexable")
INDEXED_TARGET, PER_RULE_TARGET_US, COMPILE_TARGET_MS = 2.0, 1.5, 300.0
NAIVE_MAX_RULES = 100


def policy_text(shape: str, size: int) -> str:
    lines = ["version: 1", f"description: {size} rules, {shape}", "resource: stage", "rules:"]
    for i in range(size):
        lines.append(f"  - name: rule-{i}")
        lines.append("    effect: allow")
        if shape == "routes":
            lines.append(f'    routes: ["GET /items{i}"]')
            lines.append("    when: {header.x-tenant: acme}")
        elif shape == "api keys":
            lines.append(f"    when: {{header.x-api-key: key-{i:04d}}}")
        elif shape == "regex":
            lines.append(f'    when: {{header.x-user: {{regex: "user{i:04d}-[a-z]+"}}}}')
        elif shape == "glob":
            lines.append(f'    when: {{header.x-user: {{glob: "user{i:04d}-*"}}}}')
        else:
            lines.append(f'    when: {{header.x-user: {{values: any, prefix: "user{i:04d}-"}}}}')
        lines.append(f"    principal: client-{i}")
    return "\n".join(lines) + "\n"


def event_for(shape: str, index: int | None) -> dict[str, Any]:
    """A REST event matching rule `index` (None: no rule)."""
    tag = "none" if index is None else f"{index:04d}"
    if shape == "routes":
        spec = RequestSpec(path=f"/items{'-none' if index is None else index}", headers={"x-tenant": "acme"})
    elif shape == "api keys":
        spec = RequestSpec(path="/items", headers={"x-api-key": f"key-{tag}"})
    else:
        spec = RequestSpec(path="/items", headers={"x-user": f"user{tag}-alice"})
    event = with_typical_headers(spec.to_event("rest"))
    event["requestContext"]["requestId"] = event["requestContext"]["extendedRequestId"] = "bench"
    return event


def hand_written(shape: str, size: int) -> Handler:
    """The same policy in plain Python: a dict for the keyed shapes, a loop for the others."""

    def allow(event: Any, principal: str) -> dict[str, Any]:
        return generate_policy(principal, "Allow", "/".join(event["methodArn"].split("/")[:2]) + "/*")

    if shape == "routes":
        routes = {f"GET /items{i}": f"client-{i}" for i in range(size)}

        def by_route(event: Any, context: Any) -> dict[str, Any]:
            method_path = event["httpMethod"] + " " + event["path"]
            principal = routes.get(method_path)
            if principal and (event.get("headers") or {}).get("x-tenant") == "acme":
                return allow(event, principal)
            raise Exception(UNAUTHORIZED)

        return by_route
    if shape == "api keys":
        keys = {f"key-{i:04d}": f"client-{i}" for i in range(size)}

        def by_key(event: Any, context: Any) -> dict[str, Any]:
            principal = keys.get((event.get("headers") or {}).get("x-api-key") or "")
            if principal:
                return allow(event, principal)
            raise Exception(UNAUTHORIZED)

        return by_key
    if shape in ("regex", "glob"):
        texts = [
            f"user{i:04d}-[a-z]+" if shape == "regex" else fnmatch.translate(f"user{i:04d}-*") for i in range(size)
        ]
        patterns = [(re.compile(text).fullmatch, f"client-{i}") for i, text in enumerate(texts)]

        def patterns_scan(event: Any, context: Any) -> dict[str, Any]:
            user = (event.get("headers") or {}).get("x-user") or ""
            for fullmatch, principal in patterns:
                if fullmatch(user):
                    return allow(event, principal)
            raise Exception(UNAUTHORIZED)

        return patterns_scan
    prefixes = [(f"user{i:04d}-", f"client-{i}") for i in range(size)]

    def scan(event: Any, context: Any) -> dict[str, Any]:
        user = (event.get("headers") or {}).get("x-user") or ""
        for prefix, principal in prefixes:
            if user.startswith(prefix):
                return allow(event, principal)
        raise Exception(UNAUTHORIZED)

    return scan


def decisions(rounds: int) -> list[dict[str, Any]]:
    """Per shape and event, every size timed in the same rounds (the booted policy swapped between
    batches), so that 1,000 rules against 1 rule is a ratio measured under the same load."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="authorizer-bench-") as folder:
        for shape in SHAPES:
            runtimes, naive, index = {}, {}, {}
            for size in SIZES:
                path = Path(folder) / f"{shape.replace(' ', '-')}-{size}.yaml"
                path.write_text(policy_text(shape, size))
                use_policy(path)
                runtimes[size] = handler._runtime
                index[size] = _index_description()
                if size <= NAIVE_MAX_RULES:
                    naive[size] = Naive(path)
            for case in ("last rule", "no rule"):
                contenders: dict[str, Handler] = {}
                events: dict[str, list[Any]] = {}
                prepare: dict[str, Callable[[], None]] = {}
                for size in SIZES:
                    event = event_for(shape, size - 1 if case == "last rule" else None)
                    ours = f"authorizer {size}"
                    contenders[ours] = handler.lambda_handler
                    prepare[ours] = partial(setattr, handler, "_runtime", runtimes[size])
                    contenders[f"hand-written {size}"] = hand_written(shape, size)
                    if size in naive:
                        contenders[f"naive {size}"] = naive[size]
                    for name in contenders:
                        events.setdefault(name, [event])
                    prepare[ours]()
                    check_agreement({k: v for k, v in contenders.items() if k.endswith(f" {size}")}, [event], shape)
                samples = interleaved(contenders, events, rounds=rounds, target_ms=10.0, prepare=prepare)
                for size in SIZES:
                    rows.append(
                        {
                            "shape": shape,
                            "rules": size,
                            "event": case,
                            "index": index[size],
                            "authorizer_us": samples[f"authorizer {size}"].median,
                            "hand_written_us": samples[f"hand-written {size}"].median,
                            "naive_us": samples[f"naive {size}"].median if size in naive else None,
                            "ratio_vs_hand_written": ratio(samples, f"authorizer {size}", f"hand-written {size}"),
                            "ratio_vs_1_rule": ratio(samples, f"authorizer {size}", f"authorizer {SIZES[0]}"),
                            "per_rule_us": _per_rule(samples, size),
                        }
                    )
    return rows


def _per_rule(samples: dict[str, Sample], size: int) -> float | None:
    """µs each rule beyond the first adds: the median of the per-round differences."""
    if size == SIZES[0]:
        return None
    pairs = zip(samples[f"authorizer {size}"].rounds, samples[f"authorizer {SIZES[0]}"].rounds, strict=True)
    return statistics.median((big - small) / (size - SIZES[0]) for big, small in pairs)


def _index_description() -> str:
    """What the booted policy's index is keyed on (`none` for a scan; `(patterns)`: one RE2 set)."""
    runtime = handler._runtime
    policy = runtime.store.current() if runtime is not None and runtime.store is not None else None
    if policy is None:
        return "?"
    return f"{policy.index.keyed_on} (patterns)" if policy.index.patterns else (policy.index.keyed_on or "none")


def verdicts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per shape and event: 1,000 rules against 1 rule (indexed shapes), or µs per added rule."""
    out = []
    for row in rows:
        if row["rules"] != SIZES[-1]:
            continue
        verdict = {"shape": row["shape"], "event": row["event"]}
        if row["shape"] == "unindexable":
            verdict.update(per_rule_us=row["per_rule_us"], target_per_rule_us=PER_RULE_TARGET_US)
            verdict["ok"] = row["per_rule_us"] <= PER_RULE_TARGET_US
        else:
            verdict.update(growth_1000_vs_1=row["ratio_vs_1_rule"], target_growth=INDEXED_TARGET)
            verdict["ok"] = row["ratio_vs_1_rule"] <= INDEXED_TARGET
        out.append(verdict)
    return out


def _median_ms(action: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.thread_time()
        action()
        times.append((time.thread_time() - started) * 1000)
    return statistics.median(times)


def compile_times(repeat: int) -> list[dict[str, Any]]:
    """Compiling a 1,000-rule policy: from text (YAML + validation + compile, no cache) and from
    validated data (what a cold start with a warm `__authorizer_cache__` does)."""
    rows = []
    for shape in SHAPES:
        raw = policy_text(shape, SIZES[-1]).encode()
        data, smap = load_yaml(raw)
        validated = validate_data("bench", data, smap)
        # each as a store accepts a policy: compiled, then its decision function generated
        from_text = _median_ms(lambda raw=raw: with_generated(load("bench", raw).policy, "bench"), repeat)  # type: ignore[misc]
        from_data = _median_ms(lambda data=validated: with_generated(compile_policy(data), "bench"), repeat)  # type: ignore[misc]
        rows.append(
            {
                "shape": shape,
                "rules": SIZES[-1],
                "from_text_ms": from_text,
                "from_validated_data_ms": from_data,
                "target_ms": COMPILE_TARGET_MS,
                "ok": from_text <= COMPILE_TARGET_MS,
            }
        )
    return rows
