"""Policy coverage from test runs: which rules decided at least one case, and which conditions were
seen both true and false.

A condition is one Check (or JMESPath check) of a compiled rule, identified by rule and location;
its outcomes come from the engine's trace of each explained case. Missing, ambiguous and errored
values count as the false side (the condition did not hold). Routes are scope, not conditions.
Score = (rules decided + condition sides seen) / (rules + 2 × conditions).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from authorizer.decide.decision import TraceEntry
from authorizer.policy.errors import Loc
from authorizer.policy.ir import AllOf, AnyOf, Check, CompiledPolicy, JmesCheck, Node, Not, SourceMatch
from authorizer.policy.load import LoadedPolicy
from authorizer.testing.runner import CaseResult, PolicyUnderTest


def _leaves(node: Node) -> Iterator[Check | SourceMatch | JmesCheck]:
    if isinstance(node, Check | SourceMatch | JmesCheck):
        yield node
    elif isinstance(node, Not):
        yield from _leaves(node.child)
    elif isinstance(node, AllOf | AnyOf):
        for child in node.children:
            yield from _leaves(child)


@dataclass(slots=True)
class Condition:
    rule: str
    loc: Loc
    label: str  # "header.x equals" / "jmespath"
    seen_true: bool = False
    seen_false: bool = False


@dataclass(slots=True)
class PolicyCoverage:
    policy: str
    rules: dict[str, int] = field(default_factory=dict)  # rule → cases it decided
    rule_locs: dict[str, Loc] = field(default_factory=dict)
    conditions: dict[tuple[str, Loc], Condition] = field(default_factory=dict)
    cases: int = 0

    @classmethod
    def of(cls, name: str, policy: CompiledPolicy) -> PolicyCoverage:
        coverage = cls(name, {rule.name: 0 for rule in policy.rules}, {rule.name: rule.loc for rule in policy.rules})
        for rule in policy.rules:
            for node in rule.conditions:
                for leaf in _leaves(node):
                    label = "jmespath" if isinstance(leaf, JmesCheck) else f"{leaf.source} {leaf.op}"
                    coverage.conditions[(rule.name, leaf.loc)] = Condition(rule.name, leaf.loc, label)
        return coverage

    def record(self, decided_by: str | None, trace: Iterable[TraceEntry]) -> None:
        self.cases += 1
        if decided_by in self.rules:
            self.rules[decided_by] += 1
        for entry in trace:
            condition = self.conditions.get((entry.rule, entry.loc))
            if condition is None:
                continue  # route scope entries
            if entry.outcome == "true":
                condition.seen_true = True
            else:
                condition.seen_false = True

    @property
    def sides_seen(self) -> int:
        return sum(int(c.seen_true) + int(c.seen_false) for c in self.conditions.values())

    @property
    def rules_decided(self) -> int:
        return sum(1 for n in self.rules.values() if n)

    @property
    def covered(self) -> int:
        return self.rules_decided + self.sides_seen

    @property
    def total(self) -> int:
        return len(self.rules) + 2 * len(self.conditions)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else (100.0 if self.cases else 0.0)

    def gaps(self) -> list[tuple[Loc, str]]:
        """What no case exercised: (where, what)."""
        out: list[tuple[Loc, str]] = []
        out += [(self.rule_locs[name], f"rule {name!r} decided no case") for name, n in self.rules.items() if not n]
        for c in self.conditions.values():
            missing = [side for side, seen in (("true", c.seen_true), ("false", c.seen_false)) if not seen]
            if missing:
                out.append((c.loc, f"rule {c.rule!r}: {c.label} never seen {' or '.join(missing)}"))
        return out


def coverage_report(
    policies: list[PolicyUnderTest], results: list[CaseResult], untested: list[str], minimum: float | None
) -> tuple[list[str], bool]:
    """The coverage lines `authorizer test --coverage` prints, and False when a policy (or one no case
    tests) is below `minimum` percent."""
    reports: dict[str, tuple[PolicyCoverage, LoadedPolicy]] = {}
    for policy in policies:
        if policy.loaded is not None and policy.name not in reports:
            reports[policy.name] = (PolicyCoverage.of(policy.name, policy.loaded.policy), policy.loaded)
    for result in results:
        found = reports.get(result.policy.name)
        if found is not None and result.decision is not None:
            found[0].record(result.decision.rule, result.trace)
    lines = ["coverage:"]
    for report, loaded in reports.values():
        lines.append(
            f"  {report.policy}: {report.percent:.1f}% (rules decided {report.rules_decided}/{len(report.rules)}, "
            f"condition sides {report.sides_seen}/{2 * len(report.conditions)}, {report.cases} cases)"
        )
        lines += [f"    {loaded.where(loc)}: {what}" for loc, what in report.gaps()]
    lines += [f"  {name}: 0.0% (no case tests this policy)" for name in untested]
    if minimum is None:
        return lines, True
    low = [(r.policy, r.percent) for r, _ in reports.values() if r.percent < minimum] + [(n, 0.0) for n in untested]
    lines += [f"coverage of {name} is {percent:.1f}%, below --min-coverage {minimum:g}" for name, percent in low]
    return lines, not low
