"""Policy coverage from test runs: which rules decided at least one case, and which conditions were
seen both true and false.

A condition is one Check (or JMESPath check) of a compiled rule, identified by rule and location;
its outcomes come from the engine's `explain` trace of each case. Missing, ambiguous and errored
values count as the false side (the condition did not hold). Routes are scope, not conditions.
Score = (rules decided + condition sides seen) / (rules + 2 × conditions).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from authorizer.policy.compiled import AllOf, AnyOf, Check, CompiledPolicy, JmesCheck, Node, Not, TraceEntry
from authorizer.policy.errors import Loc


def _leaves(node: Node) -> Iterator[Check | JmesCheck]:
    if isinstance(node, Check | JmesCheck):
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
    def covered(self) -> int:
        sides = sum(int(c.seen_true) + int(c.seen_false) for c in self.conditions.values())
        return sum(1 for n in self.rules.values() if n) + sides

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
