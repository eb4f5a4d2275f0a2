"""What API Gateway does with an authorizer's answer: check its shape, then apply it to the request.

An answer API Gateway cannot use (wrong types, a Deny/Allow it cannot read, context values it
rejects, an oversized WebSocket result) is a 500. An IAM policy is evaluated against the request's
ARN as IAM does: `*` matches any run of characters (`/` and nothing included), `?` one character,
actions case-insensitively; an explicit Deny beats every Allow; no matching Allow is an implicit deny.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from authorizer.decide.response import InvalidResponse, check
from authorizer.event.request import Request

PolicyVerdict = Literal["allow", "explicit-deny", "implicit-deny"]
INVOKE = "execute-api:invoke"


class MalformedAnswer(ValueError):
    """API Gateway would answer 500 (AuthorizerConfigurationException)."""


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _Statement(_Strict):
    Effect: Literal["Allow", "Deny"]
    Action: str | list[str]
    Resource: str | list[str]
    Condition: dict[str, Any] | None = None


class _PolicyDocument(_Strict):
    Version: str | None = None
    Statement: list[_Statement] | _Statement


class IamAnswer(_Strict):
    principalId: str = Field(min_length=1)
    policyDocument: _PolicyDocument
    context: dict[str, Any] | None = None
    usageIdentifierKey: str | None = None

    def statements(self) -> list[_Statement]:
        found = self.policyDocument.Statement
        return found if isinstance(found, list) else [found]


class SimpleAnswer(_Strict):
    isAuthorized: bool
    context: dict[str, Any] | None = None


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'response'}: {e['msg']}" for e in exc.errors())


def read_answer(answer: Any, request: Request, simple: bool) -> IamAnswer | SimpleAnswer:
    """The authorizer's answer as API Gateway reads it; MalformedAnswer when it would answer 500."""
    try:
        parsed: IamAnswer | SimpleAnswer = (SimpleAnswer if simple else IamAnswer).model_validate(answer)
    except ValidationError as exc:
        raise MalformedAnswer(_problems(exc)) from None
    if isinstance(parsed, IamAnswer):
        statements = [s.model_dump(exclude_none=True) for s in parsed.statements()]
        try:  # the limits API Gateway enforces, checked by the same code the handler uses on itself
            check({**answer, "policyDocument": {"Statement": statements}}, request.kind)
        except InvalidResponse as exc:
            raise MalformedAnswer(str(exc)) from None
    return parsed


@lru_cache(maxsize=1024)
def _wildcard(pattern: str, fold_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if fold_case else 0))


def _any_match(patterns: str | list[str], value: str, fold_case: bool) -> bool:
    listed = [patterns] if isinstance(patterns, str) else patterns
    return any(_wildcard(p, fold_case).fullmatch(value) for p in listed)


def evaluate_policy(answer: IamAnswer, arn: str) -> PolicyVerdict:
    """Apply the returned policy to one request ARN.

    Statements with a `Condition` are applied fail-closed: such a Deny counts as if its condition
    held, such an Allow never does (the gateway cannot know what the condition keys would hold).
    """
    allowed = False
    for statement in answer.statements():
        applies = _any_match(statement.Action, INVOKE, True) and _any_match(statement.Resource, arn, False)
        if statement.Effect == "Deny" and applies:
            return "explicit-deny"
        if statement.Effect == "Allow" and applies and statement.Condition is None:
            allowed = True
    return "allow" if allowed else "implicit-deny"
