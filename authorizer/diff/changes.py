"""What changed for one request, and the changes grouped for a reviewer.

A request's answer is what the caller gets: allowed (with the resources, principal, context and
usage key of the Allow), 403 (a Deny, or a simple response's refusal) or 401 (`Unauthorized`).
Kinds of change, first that applies:

- **widened**: 401/403 → allowed, or an Allow covers a resource it did not cover before;
- **narrowed**: allowed → 401/403, or an Allow stops covering a resource;
- **401 ↔ 403**: still refused, with the other status;
- **outputs changed**: the same status, another principal, context, usage key or response;
- **attribution only**: the same answer, decided by another rule (or for another reason).

Changes are grouped by kind and by the deciding rule before and after; each group keeps its
smallest request as the example, explained from both versions' traces (values of secret-bearing
sources redacted, as the engine redacts them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from authorizer.decide.decision import Decision, RuleAttempt
from authorizer.decide.evaluate import Evaluation, evaluate
from authorizer.diff.classes import Analysis
from authorizer.event.request import Request
from authorizer.policy.ir import CompiledRule
from authorizer.policy.load import LoadedPolicy
from authorizer.policy.sources import REDACTED, getter
from authorizer.testing.explanation import describe_entry

GroupName = Literal["widened", "narrowed", "401-403", "outputs", "attribution"]
GROUPS: dict[GroupName, str] = {
    "widened": "widened",
    "narrowed": "narrowed",
    "401-403": "401 ↔ 403",
    "outputs": "outputs changed",
    "attribution": "attribution only",
}
KIND_ORDER = ("rest", "http-v2", "http-v1", "websocket", "token")


def status(evaluation: Evaluation) -> str:
    """What the caller gets: allowed, 403 or 401."""
    if evaluation.decision.effect == "allow":
        return "allowed"
    return "401" if evaluation.response is None else "403"


def _covers(patterns: Iterable[str], resource: str) -> bool:
    """An IAM resource list covers a resource (`*` matches any characters)."""
    return any(re.fullmatch(".*".join(map(re.escape, p.split("*"))), resource, re.S) for p in patterns)


def kind_of_change(old: Evaluation, new: Evaluation) -> GroupName | None:
    before, after = status(old), status(new)
    if before != after:
        if after == "allowed":
            return "widened"
        return "narrowed" if before == "allowed" else "401-403"
    a, b = old.decision, new.decision
    if before == "allowed":
        if not all(_covers(a.resources, r) for r in b.resources):
            return "widened"
        if not all(_covers(b.resources, r) for r in a.resources):
            return "narrowed"
    outputs = (a.principal, a.context, a.usage_identifier_key) != (b.principal, b.context, b.usage_identifier_key)
    if old.response != new.response or (before == "allowed" and outputs):  # a refusal shows only its response
        return "outputs"
    if (a.effect, a.rule, a.reason) != (b.effect, b.rule, b.reason):
        return "attribution"
    return None


@dataclass(slots=True)
class Example:
    """One request that shows a change, as a reviewer reads it (values redacted where secret)."""

    kind: str
    route: str
    values: dict[str, Any]  # present sources either version reads → value(s), or REDACTED
    origin: str  # "generated", or the suite case / event file
    event: Any = field(repr=False)  # the exact event (never printed: it holds unredacted values)
    redacted: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "route": self.route, "values": self.values, "origin": self.origin}


@dataclass(slots=True)
class Side:
    """One version's answer to the example."""

    status: str
    effect: str
    rule: str | None
    at: str | None  # file:line:col of the deciding rule
    reason: str
    outputs: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "effect": self.effect,
            "rule": self.rule,
            "at": self.at,
            "reason": self.reason,
            **self.outputs,
        }


@dataclass(slots=True)
class Group:
    group: GroupName
    before_rule: str | None
    after_rule: str | None
    count: int
    example: Example
    before: Side
    after: Side
    differs: list[str]
    expected: bool = False  # listed in --expect

    @property
    def title(self) -> str:
        return GROUPS[self.group]

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "title": self.title,
            "count": self.count,
            "before": self.before.as_dict(),
            "after": self.after.as_dict(),
            "differs": self.differs,
            "example": self.example.as_dict(),
            "expected": self.expected,
        }


def _rule(loaded: LoadedPolicy, name: str | None) -> CompiledRule | None:
    return next((r for r in loaded.policy.rules if r.name == name), None)


def _outputs(decision: Decision, loaded: LoadedPolicy) -> dict[str, Any]:
    """The Allow's or Deny's outputs, values taken from secret-bearing sources redacted."""
    if decision.effect == "unauthorized":
        return {}
    rule = _rule(loaded, decision.rule)
    secret_keys = {k for k, out in rule.context if out.sensitive} if rule else set()
    usage_secret = bool(rule and rule.usage_identifier_key and rule.usage_identifier_key.sensitive)
    out: dict[str, Any] = {
        "principal": REDACTED if decision.principal_sensitive else decision.principal,
        "context": {k: REDACTED if k in secret_keys else v for k, v in decision.context.items()},
        "resources": list(decision.resources),
    }
    if decision.usage_identifier_key is not None:
        out["usage_identifier_key"] = REDACTED if usage_secret else decision.usage_identifier_key
    return out


def side(evaluation: Evaluation, loaded: LoadedPolicy) -> Side:
    decision = evaluation.decision
    rule = _rule(loaded, decision.rule)
    at = loaded.where(rule.loc) if rule is not None else None
    return Side(status(evaluation), decision.effect, decision.rule, at, decision.reason, _outputs(decision, loaded))


def _attempt(decision: Decision, name: str) -> RuleAttempt | None:
    return next((a for a in decision.attempts if a.rule == name), None)


def _why_not(name: str, decided: Decision, loaded: LoadedPolicy, label: str) -> str:
    """Why rule `name` did not decide in one version (`label`), read off that version's trace."""
    locate = loaded.where
    if _rule(loaded, name) is None:
        return f"{label}: there is no rule {name!r}"
    attempt = _attempt(decided, name)
    if attempt is None:
        earlier = _rule(loaded, decided.rule)
        where = f" ({locate(earlier.loc)})" if earlier is not None else ""
        return f"{label}: rule {decided.rule!r}{where} decides first"
    if attempt.matched:
        return f"{label}: rule {name!r} matched, but {decided.reason}"
    failed = [e for e in attempt.entries if e.outcome != "true"] or list(attempt.entries)
    return f"{label}: " + "; ".join(describe_entry(e, locate) for e in failed)


def differs(
    old: Decision, new: Decision, old_loaded: LoadedPolicy, new_loaded: LoadedPolicy, group: GroupName
) -> list[str]:
    """The conditions (or outputs) that make the two versions answer the example differently."""
    lines = []
    if new.rule is not None and new.rule != old.rule:
        lines.append(_why_not(new.rule, old, old_loaded, "before"))
    if old.rule is not None and old.rule != new.rule:
        lines.append(_why_not(old.rule, new, new_loaded, "after"))
    if old.rule is None and new.rule is None and old.reason != new.reason:
        lines.append(f"before: {old.reason}; after: {new.reason}")
    if old.effect == new.effect != "unauthorized":  # both answers carry outputs: which ones differ
        for key in ("principal", "context", "usage_identifier_key", "resources"):
            a, b = _outputs(old, old_loaded).get(key), _outputs(new, new_loaded).get(key)
            if a != b and (a is not None or b is not None):
                lines.append(f"{key}: {json.dumps(a, ensure_ascii=False)} → {json.dumps(b, ensure_ascii=False)}")
    if not lines and (old.effect, old.rule) == (new.effect, new.rule) and old.rule is None:
        lines.append(f"no rule matches; on_no_match answers {old.effect} before and {new.effect} after")
    return lines


@dataclass(slots=True)
class Decided:
    """A request both versions decided differently."""

    group: GroupName
    event: Any
    kind: str
    origin: str
    old: Evaluation
    new: Evaluation


class Collector:
    """Decides requests with both versions and keeps, per group, the count and the smallest example."""

    def __init__(self, old: LoadedPolicy, new: LoadedPolicy, analysis: Analysis) -> None:
        self.old, self.new = old, new
        self.analysis = analysis
        self.getters = {s: getter(s) for s in analysis.sources}
        self.counts: dict[tuple[GroupName, str | None, str | None], int] = {}
        self.best: dict[tuple[GroupName, str | None, str | None], tuple[tuple[Any, ...], Decided]] = {}
        self.decided = 0

    def decide(self, event: Any, kind: str, origin: str) -> None:
        self.decided += 1
        old = evaluate(event, self.old.policy)
        new = evaluate(event, self.new.policy)
        group = kind_of_change(old, new)
        if group is None:
            return
        key = (group, old.decision.rule, new.decision.rule)
        self.counts[key] = self.counts.get(key, 0) + 1
        size = self.size(new.request or old.request, kind, origin)
        if key not in self.best or size < self.best[key][0]:
            self.best[key] = (size, Decided(group, event, kind, origin, old, new))

    def size(self, request: Request | None, kind: str, origin: str) -> tuple[Any, ...]:
        """Smaller is a better example: fewer sources present, shorter values, generated, a common kind."""
        if request is None:
            return (1 << 30,)
        present = [v for get in self.getters.values() if (v := get(request)) is not None]
        return (
            len(present),
            sum(len(str(x)) for v in present for x in v),
            origin != "generated",
            KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER),
            origin,
        )

    def example(self, found: Decided) -> Example:
        request = found.new.request or found.old.request
        values: dict[str, Any] = {}
        redacted = []
        if request is not None:
            for source, get in self.getters.items():
                held = get(request)
                if held is None:
                    continue
                if self.analysis.sources[source].sensitive:
                    values[source] = REDACTED
                    redacted.append(source)
                else:
                    values[source] = held[0] if len(held) == 1 else list(held)
        route = request.arn.route if request is not None else "-"
        return Example(found.kind, route, values, found.origin, found.event, tuple(redacted))

    def groups(self) -> list[Group]:
        out = []
        order = list(GROUPS)
        for key, (_, found) in sorted(self.best.items(), key=lambda item: (order.index(item[0][0]), repr(item[0]))):
            old = evaluate(found.event, self.old.policy, explained=True)
            new = evaluate(found.event, self.new.policy, explained=True)
            out.append(
                Group(
                    group=found.group,
                    before_rule=key[1],
                    after_rule=key[2],
                    count=self.counts[key],
                    example=self.example(found),
                    before=side(old, self.old),
                    after=side(new, self.new),
                    differs=differs(old.decision, new.decision, self.old, self.new, found.group),
                )
            )
        return out
