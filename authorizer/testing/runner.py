"""Run test cases exactly as the Lambda would decide them, and compare with what was expected.

Each case goes through `handler.evaluate` twice: once on the fast path (the decision that is
asserted, index included) and once explained (the trace for coverage and for "why" on failure);
the two must agree. Secrets come only from the suite file, never from the environment or AWS,
so a run is hermetic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authorizer.decision import Decision
from authorizer.handler import Runtime, evaluate
from authorizer.policy.compiled import CompiledPolicy, TraceEntry
from authorizer.policy.errors import PolicyError, Problem
from authorizer.policy.load import compile_text
from authorizer.policy.store import StaticPolicyStore
from authorizer.policy.yamlsource import SourceMap, load_yaml
from authorizer.settings import Settings
from authorizer.testing.diff import compare
from authorizer.testing.explanation import explain_rules, locator, render_text
from authorizer.testing.suite import RunnableCase


@dataclass(slots=True)
class LoadedPolicy:
    path: Path
    name: str
    compiled: CompiledPolicy | None
    smap: SourceMap | None
    problems: list[Problem] = field(default_factory=list)


class Policies:
    """Each policy file compiled once per set of test secrets."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[Path, tuple[tuple[str, str], ...]], LoadedPolicy] = {}

    def get(self, path: Path, secrets: dict[str, str], name: str) -> LoadedPolicy:
        key = (path.resolve(), tuple(sorted(secrets.items())))
        if key not in self._loaded:
            self._loaded[key] = self._load(path, dict(secrets), name)
        return self._loaded[key]

    @staticmethod
    def _load(path: Path, secrets: dict[str, str], name: str) -> LoadedPolicy:
        try:
            raw = path.read_bytes()
            compiled, _ = compile_text(name, raw, secrets=secrets.get)
            smap = load_yaml(raw)[1]
        except OSError as exc:
            return LoadedPolicy(path, name, None, None, [Problem(name, 1, 1, f"cannot read: {exc.strerror or exc}")])
        except PolicyError as exc:
            return LoadedPolicy(path, name, None, None, list(exc.problems))
        return LoadedPolicy(path, name, compiled, smap)

    def all(self) -> list[LoadedPolicy]:
        return list(self._loaded.values())


@dataclass(slots=True)
class CaseResult:
    case: RunnableCase
    policy: LoadedPolicy
    differences: list[str]
    why: list[str]
    seconds: float
    decision: Decision | None = None
    trace: tuple[TraceEntry, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.differences


def _observed(decision: Decision, response: Any) -> dict[str, Any]:
    return {
        "effect": decision.effect,
        "rule": decision.rule,
        "principal": decision.principal,
        "context": decision.context,
        "resources": list(decision.resources),
        "usage_identifier_key": decision.usage_identifier_key,
        "reason": decision.reason,
        "response": response,
    }


def run_case(case: RunnableCase, policies: Policies, display_name: str) -> CaseResult:
    started = time.perf_counter()
    policy = policies.get(case.policy, case.secrets, display_name)
    if policy.compiled is None:
        lines = ["policy does not load:", *(f"  {p}" for p in policy.problems)]
        return CaseResult(case, policy, lines, [], time.perf_counter() - started)
    settings = Settings(policy=str(case.policy), response=case.response_format, metrics=False)
    runtime = Runtime(settings, StaticPolicyStore(policy.compiled))
    decision, request, response = evaluate(case.event, runtime)
    explained, _, explained_response = evaluate(case.event, runtime, explained=True)
    actual = _observed(decision, response)
    lines = compare(case.expect, actual)
    if _observed(explained, explained_response) != actual:
        lines.append("engine: the fast path and explain disagree (please report this bug)")
    why: list[str] = []
    if lines and request is not None:
        locate = locator(policy.name, policy.smap)
        why = render_text(explain_rules(policy.compiled, request, locate), locate)
        why.append(f"decision: {decision.effect} ({decision.reason})")
    return CaseResult(case, policy, lines, why, time.perf_counter() - started, decision, tuple(explained.trace or ()))
