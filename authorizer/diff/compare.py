"""Compare two versions of a policy: decide the generated requests and the corpus with both, and
return the changes grouped (changes.py), with what the comparison could not prove."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from authorizer.diff.changes import Collector, Group
from authorizer.diff.classes import Unproven, analyse
from authorizer.diff.corpus import Recorded
from authorizer.diff.generate import requests
from authorizer.diff.requests import KIND_NAMES, event
from authorizer.event.readers import BadEvent, classify
from authorizer.policy.load import LoadedPolicy

Status = Literal["changed", "identical", "added", "removed"]


@dataclass(slots=True)
class PolicyDiff:
    old_name: str | None
    new_name: str | None
    status: Status
    requests: int = 0
    exhaustive: bool = True
    groups: list[Group] = field(default_factory=list)
    unproven: list[Unproven] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.new_name or self.old_name or "-"

    def as_dict(self) -> dict[str, Any]:
        return {
            "old": self.old_name,
            "new": self.new_name,
            "status": self.status,
            "requests": self.requests,
            "exhaustive": self.exhaustive,
            "groups": [g.as_dict() for g in self.groups],
            "unproven": [u.as_dict() for u in self.unproven],
        }


def _kind(event: Any) -> str:
    try:
        return classify(event)[0].name
    except BadEvent:
        return "not an authorizer event"


def compare(old: LoadedPolicy, new: LoadedPolicy, corpus: list[Recorded]) -> PolicyDiff:
    """Every change between `old` and `new` found over the generated requests and the corpus."""
    analysis = analyse(old, new)
    collector = Collector(old, new, analysis)
    exhaustive = True
    for kind in KIND_NAMES:
        generated = requests(kind, analysis, (old, new))
        exhaustive = exhaustive and generated.exhaustive
        for assignment in generated.assignments:
            collector.decide(event(kind, assignment.route, assignment.as_dict()), kind, "generated")
    for recorded in corpus:
        collector.decide(recorded.event, _kind(recorded.event), recorded.origin)
    unproven = list(analysis.unproven)
    if not exhaustive:
        reason = "too many combinations of classes to enumerate: searched (rules fired, merged, mutated, sampled)"
        unproven.append(Unproven(new.name, "requests", reason))
    groups = collector.groups()
    return PolicyDiff(
        old.name, new.name, "changed" if groups else "identical", collector.decided, exhaustive, groups, unproven
    )
