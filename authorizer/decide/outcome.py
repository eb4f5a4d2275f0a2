"""What a matched rule answers, and what no match answers: the values both back ends (the engine
and the generated code) give the response builder, resolved and checked the same way.

Outputs taken from the request resolve to the source's one value; a missing or ambiguous source
leaves the output unresolved, and the request is refused (a rule never answers with a guess).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authorizer.decide.conditions import ambiguous
from authorizer.decide.response import SCALARS
from authorizer.event.arn import ExecuteApiArn
from authorizer.event.readers import Values
from authorizer.policy.ir import CompiledPolicy, CompiledRule

if TYPE_CHECKING:  # decision.py is the engine's: a cold start answered by generated code never imports it
    from authorizer.decide.decision import Effect

UNRESOLVED: Any = object()  # an output whose source is missing or ambiguous
NO_MATCH_PRINCIPAL = "anonymous"  # the principal of `on_no_match: deny`
RULE_MATCHED, NO_RULE_MATCHED = "rule matched", "no rule matched"  # the reasons of the policy's own answers


def no_match_reason(because: str | None) -> str:
    """`no rule matched`, with why claims were missing when a rule read them: `no rule matched (token.expired)`."""
    return NO_RULE_MATCHED if because is None else f"{NO_RULE_MATCHED} ({because})"


def resolved(values: Values | None) -> Any:
    """An output's value from the request: its source's one value, or UNRESOLVED."""
    if values is None or ambiguous(values):
        return UNRESOLVED
    return values[0]


def joined(values: Values | None, separator: str) -> Any:
    """An output with `join`: every value of its source as text, joined into one string; UNRESOLVED when missing."""
    if values is None:
        return UNRESOLVED
    return separator.join(str(v) for v in values)


def principal_id(value: Any) -> str | None:
    """The principalId a value makes: a non-empty string or number, as text; None when unusable."""
    if not isinstance(value, SCALARS) or isinstance(value, bool) or value == "":
        return None
    return str(value)


def usage_key(value: Any) -> str | None:
    return None if value is None else str(value)


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


def no_match_effect(policy: CompiledPolicy) -> Effect:
    """The effect when no rule matches: `on_no_match: deny` answers a Deny, otherwise a 401."""
    return "deny" if policy.on_no_match == "deny" else "unauthorized"


def no_match_scope(policy: CompiledPolicy) -> str:
    """What the Deny of `on_no_match: deny` covers: the policy's resource, but never routes (no rule has any)."""
    return "method" if policy.resource == "routes" else policy.resource
