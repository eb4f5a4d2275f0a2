"""Run test cases exactly as the Lambda would decide them, and compare with what was expected.

Each case goes through `decide.evaluate` twice: once as the Lambda's record path decides (the
decision that is asserted, index included) and once explained (the trace for coverage and for
"why" on failure); the two must agree. Secrets come only from the suite file, never from the
environment or AWS, so a run is hermetic; so do the keys of the policies' token issuers (per-run
test keys, testing/tokens.py), which sign the tokens cases state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authorizer.decide.decision import Decision, TraceEntry
from authorizer.decide.evaluate import evaluate
from authorizer.files import read_bytes
from authorizer.policy.errors import PolicyError, Problem
from authorizer.policy.load import MAX_POLICY_BYTES, LoadedPolicy, load
from authorizer.policy.secrets import SecretLookup, SecretUnavailable
from authorizer.policy.sources import REDACTED
from authorizer.testing.compare import compare
from authorizer.testing.explanation import explain_rules, render_text
from authorizer.testing.suite import RunnableCase
from authorizer.testing.tokens import SuiteKeys, TokenProblem


@dataclass(slots=True)
class PolicyUnderTest:
    path: Path
    name: str
    loaded: LoadedPolicy | None
    problems: list[Problem] = field(default_factory=list)


def _suite_secrets(values: dict[str, str]) -> SecretLookup:
    """The suite's `secrets:` and nothing else: a secret it does not give cannot be read."""

    def lookup(name: str) -> str:
        if name not in values:
            raise SecretUnavailable(f"secret {name!r}: the suite's `secrets:` does not give it")
        return values[name]

    return lookup


class Policies:
    """Each policy file loaded once per set of test secrets."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[Path, tuple[tuple[str, str], ...]], PolicyUnderTest] = {}
        self.keys = SuiteKeys()
        self._resolved: dict[Path, Path] = {}  # each path resolved once: every case asks for its policy

    def get(self, path: Path, secrets: dict[str, str], name: str) -> PolicyUnderTest:
        resolved = self._resolved.get(path) or self._resolved.setdefault(path, path.resolve())
        key = (resolved, tuple(sorted(secrets.items())))
        if key not in self._loaded:
            self._loaded[key] = self._load(path, dict(secrets), name, self.keys)
        return self._loaded[key]

    @staticmethod
    def _load(path: Path, secrets: dict[str, str], name: str, keys: SuiteKeys) -> PolicyUnderTest:
        try:
            loaded = load(
                name, read_bytes(path, MAX_POLICY_BYTES), secrets=_suite_secrets(secrets), tokens=keys.options()
            )
        except OSError as exc:
            return PolicyUnderTest(path, name, None, [Problem(name, 1, 1, f"cannot read: {exc.strerror or exc}")])
        except PolicyError as exc:
            return PolicyUnderTest(path, name, None, list(exc.problems))
        return PolicyUnderTest(path, name, loaded)

    def all(self) -> list[PolicyUnderTest]:
        return list(self._loaded.values())

    def broken(self) -> list[PolicyUnderTest]:
        """Each policy file that does not load, once (its problems do not depend on the suite's secrets)."""
        found: dict[Path, PolicyUnderTest] = {}
        for policy in self._loaded.values():
            if policy.loaded is None:
                found.setdefault(policy.path.resolve(), policy)
        return list(found.values())


@dataclass(slots=True)
class CaseResult:
    case: RunnableCase
    policy: PolicyUnderTest
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


def _shown(expect: dict[str, Any], actual: dict[str, Any], decision: Decision) -> tuple[dict[str, Any], ...]:
    """Expected and actual as a report may show them: outputs taken from secret-bearing sources
    redacted on both sides (`<redacted>`, or `<redacted: another value>` where they differ)."""
    shown_expect, shown_actual = dict(expect), dict(actual)

    def hide(path: tuple[str, ...]) -> None:
        want, got = _at(expect, path), _at(actual, path)
        if want is _ABSENT and got is _ABSENT:
            return
        _put(shown_expect, path, REDACTED, want)
        _put(shown_actual, path, REDACTED if want == got else f"{REDACTED}: another value", got)

    if decision.principal_sensitive:
        hide(("principal",))
        hide(("response", "principalId"))
    for key in decision.sensitive_context:
        hide(("context", key))
        hide(("response", "context", key))
    if decision.usage_key_sensitive:
        hide(("usage_identifier_key",))
        hide(("response", "usageIdentifierKey"))
    return shown_expect, shown_actual


_ABSENT: Any = object()


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key, _ABSENT) if isinstance(data, dict) else _ABSENT
    return data


def _put(data: dict[str, Any], path: tuple[str, ...], shown: Any, real: Any) -> None:
    """Replace the value at `path` (copying the dicts on the way) when there is one."""
    if real is _ABSENT:
        return
    *parents, last = path
    for key in parents:
        inner = data.get(key)
        if not isinstance(inner, dict):
            return
        data[key] = inner = dict(inner)
        data = inner
    data[last] = shown


def run_case(case: RunnableCase, policy: PolicyUnderTest, keys: SuiteKeys) -> CaseResult:
    """One case against its policy, which loaded (one that does not is reported once: `Policies.broken`);
    a case's token is minted with the run's `keys` (`Policies.keys`)."""
    started = time.perf_counter()
    assert policy.loaded is not None
    compiled = policy.loaded.policy
    event = case.event
    if case.token is not None and case.spec is not None and case.kind is not None:
        try:
            event = keys.event(case.spec, case.kind, case.token, compiled.tokens)
        except TokenProblem as exc:
            return CaseResult(case, policy, [f"token: {exc}"], [], time.perf_counter() - started)
    decision, request, response = evaluate(event, compiled, case.response_format)
    explained, _, explained_response = evaluate(event, compiled, case.response_format, explained=True)
    actual = _observed(decision, response)
    lines = compare(*_shown(case.expect, actual, decision)) if compare(case.expect, actual) else []
    if _observed(explained, explained_response) != actual:
        lines.append("engine: the fast path and explain disagree (please report this bug)")
    why: list[str] = []
    if lines and request is not None:
        locate = policy.loaded.where
        why = render_text(explain_rules(explained, locate), locate)
        why.append(f"decision: {decision.effect} ({decision.reason})")
    return CaseResult(case, policy, lines, why, time.perf_counter() - started, decision, tuple(explained.trace or ()))
