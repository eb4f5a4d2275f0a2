"""Decide one request against a compiled policy: first matching rule wins.

The index narrows the rules to those that could match; each is checked for route scope, then its
conditions in order, stopping at the first that does not hold. Outputs (principal, context,
usage key) are resolved only for the deciding rule.
"""

from __future__ import annotations

from typing import Any

from authorizer.arn import ExecuteApiArn
from authorizer.decision import Decision, refusal
from authorizer.policy.compiled import CompiledPolicy, CompiledRule, Output, Trace, TraceEntry
from authorizer.request import Request

_SCALARS = (str, int, float, bool)


class _Unresolved(Exception):
    """An output taken from the request was missing or ambiguous."""


def _value(output: Output, r: Request) -> Any:
    if output.get is None:
        return output.literal
    values = output.get(r)
    if values is None or (len(values) > 1 and len(set(values)) > 1):
        raise _Unresolved(output.source or "")
    return values[0]


def resources(rule: CompiledRule | None, scope: str, arn: ExecuteApiArn, arn_text: str) -> tuple[str, ...]:
    """What an Allow or Deny covers: the method ARN as sent, the stage, the API, or the rule's routes."""
    if scope == "method":
        return (arn_text,)
    if scope == "stage" or (scope == "routes" and rule is not None and rule.routes is None):
        return (arn.stage_resource(),)  # a rule without `routes` applies to every route of the stage
    if scope == "api":
        return (arn.api_resource(),)
    if scope == "routes" and rule is not None and rule.routes is not None:
        return tuple(dict.fromkeys(arn.route_resource(p.method, p.iam_path) for p in rule.routes))
    return (arn_text,)


def _outcome(rule: CompiledRule, r: Request, trace: Trace | None) -> Decision:
    frozen = tuple(trace) if trace is not None else None
    try:
        principal = rule.principal.literal if rule.principal.get is None else _value(rule.principal, r)
        literal = rule.literal_context
        context = dict(literal) if literal is not None else {key: _value(out, r) for key, out in rule.context}
        usage = _value(rule.usage_identifier_key, r) if rule.usage_identifier_key else None
    except _Unresolved as exc:
        return refusal(f"rule {rule.name!r} matched but output source {exc} is missing or ambiguous", frozen)
    if not isinstance(principal, _SCALARS) or isinstance(principal, bool) or principal == "":
        return refusal(f"rule {rule.name!r} matched but its principal is not a non-empty string", frozen)
    return Decision(
        effect=rule.effect,
        reason="rule matched",
        rule=rule.name,
        principal=str(principal),
        context=context,
        usage_identifier_key=None if usage is None else str(usage),
        resources=resources(rule, rule.resource, r.arn, r.arn_text),
        principal_sensitive=rule.principal.sensitive,
        trace=frozen,
    )


def decide(policy: CompiledPolicy, r: Request) -> Decision:
    """The fast path: no trace, early exit on the first condition that does not hold."""
    for rule in policy.index.candidates(r):
        if rule.routes is not None and not rule.in_scope(r.arn):
            continue
        for node in rule.conditions:
            if node.eval(r) is not True:
                break
        else:
            return _outcome(rule, r, None)
    return _no_match(policy, r, None)


def explain(policy: CompiledPolicy, r: Request) -> Decision:
    """Same decision as `decide`, with every rule tried and every condition evaluated on the way."""
    trace: Trace = []
    for rule in policy.rules:  # every rule, not only the index's candidates: explain shows why not
        if rule.routes is not None and not rule.in_scope(r.arn):
            routes = [p.text for p in rule.routes]
            trace.append(TraceEntry(rule.name, "route", "routes", routes, r.arn.route, "false", rule.loc))
            continue
        matched = True
        for node in rule.conditions:
            if node.trace(r, rule.name, trace) is not True:
                matched = False
                break
        if matched:
            return _outcome(rule, r, trace)
    return _no_match(policy, r, trace)


def _no_match(policy: CompiledPolicy, r: Request, trace: Trace | None) -> Decision:
    frozen = tuple(trace) if trace is not None else None
    if policy.on_no_match == "deny":
        scope = "method" if policy.resource == "routes" else policy.resource
        return Decision(
            "deny",
            "no rule matched",
            principal="anonymous",
            resources=resources(None, scope, r.arn, r.arn_text),
            trace=frozen,
        )
    return refusal("no rule matched", frozen)
