"""Decision → exactly what API Gateway expects back, checked the way API Gateway checks it.

IAM policy responses for every API type; the simple `{"isAuthorized": ...}` response for HTTP API
payload 2.0 when configured (the event cannot tell which the API uses). A refusal is `None` here:
the handler raises `Exception("Unauthorized")` for it (API Gateway's 401), except for simple
responses, which refuse with `{"isAuthorized": false}`.
"""

from __future__ import annotations

from typing import Any, Literal

from authorizer.arn import MAX_RESOURCE_LENGTH
from authorizer.decision import Decision
from authorizer.request import Request

ResponseMode = Literal["iam", "simple"]
IAM_VERSION = "2012-10-17"
_SCALAR_CONTEXT_KINDS = ("token", "rest", "websocket")  # HTTP APIs accept JSON objects and arrays
_SCALARS = (str, int, float, bool)
_SCALAR_TYPES = frozenset(_SCALARS)  # one C-level pass accepts the usual context; anything else is looked at closely
_NO_CONTEXT: dict[str, Any] = {}  # never written to


class InvalidResponse(ValueError):
    """A response API Gateway would reject with a 500; refused instead."""


def uses_simple(mode: ResponseMode, r: Request) -> bool:
    return mode == "simple" and r.kind == "http-v2"


def render(decision: Decision, r: Request, mode: ResponseMode) -> dict[str, Any] | None:
    """The handler's return value, or None for a refusal (401)."""
    if uses_simple(mode, r):
        if decision.effect != "allow":
            return {"isAuthorized": False}
        response: dict[str, Any] = {"isAuthorized": True}
        if decision.context:
            response["context"] = decision.context
        return response
    if decision.effect == "unauthorized":
        return None
    response = {
        "principalId": decision.principal,
        "policyDocument": {
            "Version": IAM_VERSION,
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if decision.effect == "allow" else "Deny",
                    "Resource": decision.resources[0] if len(decision.resources) == 1 else list(decision.resources),
                }
            ],
        },
    }
    if decision.context:
        response["context"] = decision.context
    if decision.usage_identifier_key is not None:
        response["usageIdentifierKey"] = decision.usage_identifier_key
    check(response, r)
    return response


def check(response: dict[str, Any], r: Request) -> None:
    """Refuse what API Gateway would answer with a 500 (AuthorizerConfigurationException)."""
    principal = response.get("principalId")
    if not isinstance(principal, str) or not principal:
        raise InvalidResponse("principalId must be a non-empty string")
    for statement in response["policyDocument"]["Statement"]:
        resources = statement["Resource"]
        for resource in (resources,) if isinstance(resources, str) else resources:
            if not isinstance(resource, str) or not resource:
                raise InvalidResponse("policy resource must be a non-empty string")
            if len(resource) > MAX_RESOURCE_LENGTH:
                raise InvalidResponse(f"policy resource longer than {MAX_RESOURCE_LENGTH} characters")
    context = response.get("context", _NO_CONTEXT)
    if r.kind in _SCALAR_CONTEXT_KINDS and not _SCALAR_TYPES.issuperset(map(type, context.values())):
        for key, value in context.items():
            if not isinstance(value, _SCALARS):
                raise InvalidResponse(f"context value {key!r} must be a string, number or boolean for {r.kind}")
