"""Decision → exactly what API Gateway expects back, checked the way API Gateway checks it.

IAM policy responses for every API type; the simple `{"isAuthorized": ...}` response for HTTP API
payload 2.0 when configured (the event cannot tell which the API uses). A refusal is `None` here:
the handler raises `Exception("Unauthorized")` for it (API Gateway's 401), except for simple
responses, which refuse with `{"isAuthorized": false}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from authorizer.event.arn import MAX_RESOURCE_LENGTH
from authorizer.event.kinds import API_LABELS, EventKind
from authorizer.event.request import Request

if TYPE_CHECKING:  # the engine's (decision.py): generated code answering alone never imports it
    from authorizer.decide.decision import Decision

ResponseMode = Literal["iam", "simple"]
IAM_VERSION = "2012-10-17"
SCALARS = (str, int, float, bool)  # what REST and WebSocket accept as context values (and a principal may be)
_SCALAR_TYPES = frozenset(SCALARS)  # one C-level pass accepts the usual context; anything else is looked at closely
_NO_CONTEXT: dict[str, Any] = {}  # never written to


class InvalidResponse(ValueError):
    """A response API Gateway would reject with a 500; refused instead."""


def uses_simple(mode: ResponseMode, kind: EventKind) -> bool:
    return mode == "simple" and kind.simple_responses


def render(decision: Decision, r: Request, mode: ResponseMode) -> dict[str, Any] | None:
    """The handler's return value, or None for a refusal (401)."""
    if uses_simple(mode, r.kind):
        return simple_response(decision.effect == "allow", decision.context)
    if decision.effect == "unauthorized":
        return None
    response = iam_response(
        decision.principal, decision.effect, decision.resources, decision.context, decision.usage_identifier_key
    )
    check(response, r.kind)
    return response


def simple_response(allowed: bool, context: dict[str, Any]) -> dict[str, Any]:
    if allowed and context:
        return {"isAuthorized": True, "context": context}
    return {"isAuthorized": allowed}


def iam_response(
    principal: str | None, effect: str, resources: tuple[str, ...], context: dict[str, Any], usage_key: str | None
) -> dict[str, Any]:
    """An IAM policy response (not yet checked): one statement, the resources, the outputs."""
    response: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {
            "Version": IAM_VERSION,
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if effect == "allow" else "Deny",
                    "Resource": resources[0] if len(resources) == 1 else list(resources),
                }
            ],
        },
    }
    if context:
        response["context"] = context
    if usage_key is not None:
        response["usageIdentifierKey"] = usage_key
    return response


def check(response: dict[str, Any], kind: EventKind) -> None:
    """Refuse what API Gateway would answer with a 500 (AuthorizerConfigurationException)."""
    check_principal(response.get("principalId"))
    for statement in response["policyDocument"]["Statement"]:
        resources = statement["Resource"]
        check_resources((resources,) if isinstance(resources, str) else resources)
    check_context(response.get("context", _NO_CONTEXT), kind)
    check_size(response, kind)


def check_size(response: dict[str, Any], kind: EventKind) -> dict[str, Any]:
    """The kind's limit on an authorizer result (WebSocket: 8 KB), as the JSON Lambda returns; the
    response itself when within it."""
    limit = kind.result_limit
    if limit is not None and _size_bound(response) > limit:  # serialised only when it may be too large
        size = len(json.dumps(response, separators=(",", ":")).encode())
        if size > limit:
            raise InvalidResponse(f"authorizer result is {size} bytes; {API_LABELS[kind.api]} APIs accept {limit}")
    return response


ESCAPED = 12  # bytes one character may take in the JSON Lambda writes (a surrogate pair as \\uXXXX\\uXXXX)
FIXED_SIZE = 512  # more than the JSON of an IAM response without its texts


def _length(text: Any) -> int:
    return len(text) if type(text) is str else len(str(text))


def text_size(texts: Iterable[Any]) -> int:
    """More than texts (keys, values, ARNs) can take in that JSON."""
    return ESCAPED * sum(map(_length, texts))


def _size_bound(response: dict[str, Any]) -> int:
    """More than the JSON of an IAM response built here can take; a context value that is not a
    scalar counts as too large, to be measured. (Every answer of a kind with a limit pays for this:
    one pass, no list built.)"""
    size = 0
    for key, value in response.get("context", _NO_CONTEXT).items():
        if type(value) is str:
            size += _length(key) + len(value)
        elif type(value) in _SCALAR_TYPES:
            size += _length(key) + len(str(value))
        else:
            return 1 << 30
    resources = response["policyDocument"]["Statement"][0]["Resource"]
    size += len(resources) if type(resources) is str else sum(map(_length, resources))
    size += _length(response.get("principalId")) + _length(response.get("usageIdentifierKey") or "")
    return FIXED_SIZE + ESCAPED * size


def check_principal(principal: Any) -> None:
    if not isinstance(principal, str) or not principal:
        raise InvalidResponse("principalId must be a non-empty string")


def check_resources(resources: Any) -> None:
    for resource in resources:
        if not isinstance(resource, str) or not resource:
            raise InvalidResponse("policy resource must be a non-empty string")
        if len(resource) > MAX_RESOURCE_LENGTH:
            raise InvalidResponse(f"policy resource longer than {MAX_RESOURCE_LENGTH} characters")


def check_context(context: dict[str, Any], kind: EventKind) -> None:
    if kind.scalar_context and not _SCALAR_TYPES.issuperset(map(type, context.values())):
        for key, value in context.items():
            if not isinstance(value, SCALARS):
                raise InvalidResponse(f"context value {key!r} must be a string, number or boolean for {kind}")
