"""The exit-code contract of `authorizer diff`, over every policy compared.

0: nothing of the kinds asked for changed. 1: a change `--fail-on` asks about (`any`, `widening`:
widened groups and added policies, `narrowing`: narrowed groups and removed policies) that
`--expect` does not list; a listed change that did not happen; or, with `--strict`, a condition
the comparison could not prove. (2, usage errors and invalid policies, is the command's.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from authorizer.diff.compare import PolicyDiff
from authorizer.diff.expect import Expected

FailOn = Literal["any", "widening", "narrowing"]
_FAILS = {"any": None, "widening": ("widened", "added"), "narrowing": ("narrowed", "removed")}


@dataclass(slots=True)
class Verdict:
    diffs: list[PolicyDiff]
    fail_on: FailOn = "any"
    strict: bool = False
    expected: list[Expected] = field(default_factory=list)
    unmet: list[Expected] = field(init=False)

    def __post_init__(self) -> None:
        met: set[int] = set()
        for diff in self.diffs:
            for group in diff.groups:
                hits = [i for i, e in enumerate(self.expected) if e.matches_group(diff.name, group)]
                group.expected = bool(hits)
                met.update(hits)
            if diff.status in ("added", "removed"):
                met.update(i for i, e in enumerate(self.expected) if e.matches(diff.name, diff.status))
        self.unmet = [e for i, e in enumerate(self.expected) if i not in met]

    def counts(self, name: str) -> bool:
        kinds = _FAILS[self.fail_on]
        return kinds is None or name in kinds

    def failing(self, diff: PolicyDiff) -> list[str]:
        """What fails in one policy's diff: `group: before → after` lines, file status, unproven conditions."""
        out = [
            f"{g.title}: {g.before_rule or 'no rule'} → {g.after_rule or 'no rule'}"
            for g in diff.groups
            if not g.expected and self.counts(g.group)
        ]
        declared = any(e.matches(diff.name, diff.status) for e in self.expected)
        if diff.status in ("added", "removed") and self.counts(diff.status) and not declared:
            out.append(f"policy {diff.status}")
        if self.strict:
            out += [f"not proven: {u.condition} ({u.at})" for u in diff.unproven]
        return out

    @property
    def exit_code(self) -> int:
        return 1 if self.unmet or any(self.failing(d) for d in self.diffs) else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "fail_on": self.fail_on,
            "strict": self.strict,
            "policies": [{**d.as_dict(), "failing": self.failing(d)} for d in self.diffs],
            "unmet_expectations": [e.describe() for e in self.unmet],
            "exit_code": self.exit_code,
        }
