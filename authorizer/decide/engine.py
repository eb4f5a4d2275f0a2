"""Decide one request against a compiled policy: the first rule whose conditions all hold decides.

One loop, with or without a trace. Without one, the rule index narrows the rules to those that
could match, and each rule stops at its first condition that does not hold. With one (explain,
test suites, the local gateway), every rule is tried in order up to the deciding one, so that the
trace says why each earlier rule did not match; the decision is the same (the index never changes
one). Outputs (principal, context, usage key) are resolved only for the deciding rule.
"""

from __future__ import annotations

from typing import Any

from authorizer.decide.candidates import candidates
from authorizer.decide.conditions import holds, missing_because
from authorizer.decide.decision import Anomaly, Decision, RuleAttempt, Trace
from authorizer.decide.outcome import (
    NO_MATCH_PRINCIPAL,
    RULE_MATCHED,
    UNRESOLVED,
    joined,
    no_match_effect,
    no_match_reason,
    no_match_scope,
    principal_id,
    resolved,
    resources,
    usage_key,
)
from authorizer.event.request import Request
from authorizer.policy.ir import CompiledPolicy, CompiledRule, Output


def decide(policy: CompiledPolicy, r: Request, trace: Trace | None = None) -> Decision:
    """The policy's decision for `r`; every condition evaluated is recorded in `trace` when given.

    The value maps the policy reads anywhere are read first: maps that disagree on any of them
    refuse the request (BadEvent), whichever rules the order or the index would have tried."""
    read_value_maps(policy, r)
    rules = candidates(policy.index, r) if trace is None else policy.rules
    for rule in rules:
        if trace is not None:
            trace.rule = rule.name
        if rule.routes is not None and not rule.in_scope(r.arn):
            if trace is not None:
                trace.record("route", "routes", [p.text for p in rule.routes], r.arn.route, "false", rule.loc)
                trace.attempts.append(RuleAttempt(rule.name, rule.loc, False, entries=(trace.entries[-1],)))
            continue
        mark = len(trace.entries) if trace is not None else 0
        for node in rule.conditions:
            result = holds(node, r, trace)
            if result is not True:
                if trace is not None:
                    attempt = RuleAttempt(rule.name, rule.loc, False, node, result, tuple(trace.entries[mark:]))
                    trace.attempts.append(attempt)
                break
            if trace is not None:
                mark = len(trace.entries)
        else:
            if trace is not None:
                trace.attempts.append(RuleAttempt(rule.name, rule.loc, True))
            return _matched(policy, rule, r, trace)
    return _no_match(policy, r, trace)


def read_value_maps(policy: CompiledPolicy, r: Request) -> None:
    """Read (into `Request.found`, where getters find them) every value-map source the policy reads."""
    found = r.found
    for source in policy.map_reads:
        if source.key not in found:
            found[source.key] = source.read(r.event, r.kind, r.arn)
    if policy.reads_whole_maps:
        r.view()


class _Unresolved(Exception):
    """An output taken from the request was missing or ambiguous."""


def _value(output: Output, r: Request) -> Any:
    if output.get is None:
        return output.literal
    value = resolved(output.get(r)) if output.join is None else joined(output.get(r), output.join)
    if value is UNRESOLVED:
        raise _Unresolved(output.source)
    return value


def _matched(policy: CompiledPolicy, rule: CompiledRule, r: Request, trace: Trace | None) -> Decision:
    try:
        principal = _value(rule.principal, r)
        literal = rule.literal_context
        context = dict(literal) if literal is not None else {key: _value(out, r) for key, out in rule.context}
        usage = _value(rule.usage_identifier_key, r) if rule.usage_identifier_key else None
    except _Unresolved as exc:
        because = _because(policy, r)
        reason = f"rule {rule.name!r} matched but output source {exc} is missing or ambiguous"
        reason += f" ({because})" if because else ""
        return _with_trace(Decision("unauthorized", reason), trace)
    principal_text = principal_id(principal)
    if principal_text is None:
        reason = f"rule {rule.name!r} matched but its principal is not a non-empty string"
        return _with_trace(Decision("unauthorized", reason), trace)
    decision = Decision(
        effect=rule.effect,
        reason=RULE_MATCHED,
        rule=rule.name,
        principal=principal_text,
        context=context,
        usage_identifier_key=usage_key(usage),
        resources=resources(rule, rule.resource, r.arn, r.arn_text),
        principal_sensitive=rule.principal.sensitive,
        sensitive_context=frozenset(key for key, output in rule.context if output.sensitive),
        usage_key_sensitive=rule.usage_identifier_key is not None and rule.usage_identifier_key.sensitive,
    )
    return _with_trace(decision, trace)


def _no_match(policy: CompiledPolicy, r: Request, trace: Trace | None) -> Decision:
    """No rule matched; when a secret the policy compares with cannot be read, the refusal says so
    (whichever rules the index let this request try: the same reason with or without a trace)."""
    unavailable = policy.unavailable_secrets() if policy.unavailable_secrets is not None else ()
    reason = no_match_reason(_because(policy, r))
    if unavailable:
        reason = f"secret unavailable: {'; '.join(unavailable)} ({reason})"
    anomaly: Anomaly | None = "secret unavailable" if unavailable else None
    if no_match_effect(policy) == "deny":
        scope = resources(None, no_match_scope(policy), r.arn, r.arn_text)
        decision = Decision("deny", reason, principal=NO_MATCH_PRINCIPAL, resources=scope, anomaly=anomaly)
    else:
        decision = Decision("unauthorized", reason, anomaly=anomaly)
    return _with_trace(decision, trace)


def _because(policy: CompiledPolicy, r: Request) -> str | None:
    """The token's reason code when a rule read a claim and it was not verified (never the token)."""
    return missing_because(policy.tokens.verified if policy.tokens is not None else None, r)


def _with_trace(decision: Decision, trace: Trace | None) -> Decision:
    if trace is not None:
        decision.trace = tuple(trace.entries)
        decision.attempts = tuple(trace.attempts)
    return decision
