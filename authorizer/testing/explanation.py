"""Answers "why was I denied?": for every rule tried, the first condition that did not hold, with its
source, expected value, actual value (already redacted by the engine where secret) and the line
of the policy it was written on.

Read off an explained decision (`Decision.attempts`: how each rule the engine tried ended), so the
explanation cannot drift from what the engine evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authorizer.decide.decision import Decision, RuleAttempt, TraceEntry
from authorizer.policy.errors import Loc
from authorizer.policy.ir import AnyOf, Not

Locate = Callable[[Loc], str]


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    rule: str
    at: str
    matched: bool
    within: str | None = None  # the combinator the failing entries sit in: any, all, not
    failed: tuple[TraceEntry, ...] = ()

    def as_dict(self, locate: Locate) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "at": self.at, "matched": self.matched}
        if not self.matched:
            out["within"] = self.within
            out["failed"] = [{**e.as_dict(), "at": locate(e.loc)} for e in self.failed]
        return out


def _failing(attempt: RuleAttempt) -> tuple[str | None, tuple[TraceEntry, ...]]:
    node, entries = attempt.node, attempt.entries
    if isinstance(node, Not):
        if attempt.result is False:  # everything inside held: those are the reason
            return "not", entries
        return "not", tuple(e for e in entries if e.outcome not in ("true", "false"))
    if len(entries) == 1 and not isinstance(node, AnyOf):
        return None, entries
    return ("any" if isinstance(node, AnyOf) else "all"), tuple(e for e in entries if e.outcome != "true")


def explain_rules(decision: Decision, locate: Locate) -> list[RuleExplanation]:
    """One explanation per rule tried, in order, ending with the rule that matched (if any)."""
    out = []
    for attempt in decision.attempts:
        at = locate(attempt.loc)
        if attempt.matched:
            out.append(RuleExplanation(attempt.rule, at, True))
        else:
            within, failed = _failing(attempt)
            out.append(RuleExplanation(attempt.rule, at, False, within, failed))
    return out


_OUTCOMES = {
    "false": "",
    "true": " (held)",
    "missing": " (missing)",
    "ambiguous": " (several different values)",
    "unavailable": " (the secret cannot be read)",
    "error": " (could not be evaluated)",
}


def _show(value: Any) -> str:
    """Values as the policy author writes them (JSON-like: "text", 12, true)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def describe_entry(entry: TraceEntry, locate: Locate) -> str:
    if entry.source == "route":
        return f"route {entry.actual} is not one of {_show(entry.expected)}"
    at, outcome = locate(entry.loc), _OUTCOMES[entry.outcome]
    if entry.source == "jmespath":
        return f"jmespath {_show(entry.expected)} did not yield true{outcome} ({at})"
    actual = "nothing" if entry.outcome == "missing" else _show(entry.actual)
    if entry.because is not None:  # why it is missing: the token's reason code
        outcome = f" (missing: {entry.because})"
    return f"{entry.source} {entry.op} {_show(entry.expected)}: got {actual}{outcome} ({at})"


def render_text(explanations: list[RuleExplanation], locate: Locate) -> list[str]:
    """Readable lines, two-space indented under each rule."""
    lines: list[str] = []
    for item in explanations:
        if item.matched:
            lines.append(f"rule {item.rule!r} ({item.at}): matched")
            continue
        lines.append(f"rule {item.rule!r} ({item.at}): did not match")
        if item.within == "not":
            lines.append("  not: the negated conditions held or were missing:")
        elif item.within == "any":
            lines.append("  any: no alternative held:")
        indent = "    " if item.within in ("not", "any") else "  "
        lines += [indent + describe_entry(e, locate) for e in item.failed]
    if not explanations:
        lines.append("no rule was tried")
    return lines
