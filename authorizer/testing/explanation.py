"""Answers "why was I denied?": for every rule tried, the first condition that did not hold, with its
source, expected value, actual value (already redacted by the engine where secret) and the line
of the policy it was written on.

Rules are tried in policy order up to the first whose conditions all hold, as the engine does;
each condition answers through its own `trace` (the engine's), so the explanation cannot drift
from what the engine evaluates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authorizer.policy.compiled import AnyOf, CompiledPolicy, Node, Not, Trace, TraceEntry
from authorizer.policy.errors import Loc
from authorizer.policy.yamlsource import SourceMap
from authorizer.request import Request

Locate = Callable[[Loc], str]


def locator(file: str, smap: SourceMap | None) -> Locate:
    """loc → `file:line:col` (just the file name when positions are unknown)."""

    def locate(loc: Loc) -> str:
        if smap is None:
            return file
        line, col = smap.locate(loc)
        return f"{file}:{line}:{col}"

    return locate


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


def _failing(node: Node, result: bool | None, entries: Trace) -> tuple[str | None, tuple[TraceEntry, ...]]:
    if isinstance(node, Not):
        if result is False:  # everything inside held: those are the reason
            return "not", tuple(entries)
        return "not", tuple(e for e in entries if e.outcome not in ("true", "false"))
    if len(entries) == 1 and not isinstance(node, AnyOf):
        return None, tuple(entries)
    return ("any" if isinstance(node, AnyOf) else "all"), tuple(e for e in entries if e.outcome != "true")


def explain_rules(policy: CompiledPolicy, request: Request, locate: Locate) -> list[RuleExplanation]:
    """One explanation per rule tried, in order, ending with the rule that matched (if any)."""
    out: list[RuleExplanation] = []
    for rule in policy.rules:
        at = locate(rule.loc)
        if not rule.in_scope(request.arn):
            routes = [p.text for p in rule.routes or ()]
            entry = TraceEntry(rule.name, "route", "routes", routes, request.arn.route, "false", rule.loc)
            out.append(RuleExplanation(rule.name, at, False, None, (entry,)))
            continue
        for node in rule.conditions:
            entries: Trace = []
            result = node.trace(request, rule.name, entries)
            if result is not True:
                within, failed = _failing(node, result, entries)
                out.append(RuleExplanation(rule.name, at, False, within, failed))
                break
        else:
            out.append(RuleExplanation(rule.name, at, True))
            return out
    return out


_OUTCOMES = {
    "false": "",
    "true": " (held)",
    "missing": " (missing)",
    "ambiguous": " (several different values)",
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
