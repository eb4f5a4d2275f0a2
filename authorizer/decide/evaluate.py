"""The library API: one event and a compiled policy in, the decision and API Gateway's answer out.

`evaluate` is what every tool calls (the Lambda handler when it wants a record, `eval`, test
suites, the local gateway): it never raises. Whatever goes wrong (a bad event, no policy, a
response API Gateway would reject, an unexpected exception) is a refusal that says why, and the
answer is then `None` (the handler raises `Exception("Unauthorized")`: API Gateway's 401) or
`{"isAuthorized": false}` for simple responses. (`generated.respond` is the same answer from the
policy's generated function, when it can give it: what the Lambda asks first.)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from authorizer.decide.decision import Decision, Trace, refusal
from authorizer.decide.engine import decide
from authorizer.decide.response import InvalidResponse, ResponseMode, render, uses_simple
from authorizer.event.readers import BadEvent
from authorizer.event.request import Request
from authorizer.policy.ir import CompiledPolicy


class Evaluation(NamedTuple):
    decision: Decision
    request: Request | None  # None when the event is not an authorizer event
    response: dict[str, Any] | None  # what the Lambda returns; None: it raises Unauthorized


def evaluate(
    event: Any, policy: CompiledPolicy | None, mode: ResponseMode | None = None, *, explained: bool = False
) -> Evaluation:
    """Decide `event` with the engine (with a trace when `explained`); never raises.

    `mode` is the HTTP API 2.0 response format (AUTHORIZER_RESPONSE), None for the policy's own."""
    request: Request | None = None
    trace = Trace() if explained else None
    simple = False  # known only once the event and the policy are: until then a refusal is a 401
    try:
        request = Request(event)
        if policy is None:
            decision = refusal("no policy loaded", anomaly="no policy")
        else:
            chosen = mode or policy.response
            simple = uses_simple(chosen, request.kind)
            decision = decide(policy, request, trace)
            try:
                return Evaluation(decision, request, render(decision, request, chosen))
            except InvalidResponse as exc:
                decision = refusal(f"response rejected: {exc}", anomaly="response rejected")
    except BadEvent as exc:
        decision = refusal(f"bad event: {exc}", anomaly="bad event")
    except Exception as exc:  # fail closed on anything unexpected, without echoing values
        decision = refusal(f"internal error: {type(exc).__name__}", anomaly="internal error")
    if trace is not None:
        decision.trace, decision.attempts = tuple(trace.entries), tuple(trace.attempts)
    return Evaluation(decision, request, {"isAuthorized": False} if simple else None)
