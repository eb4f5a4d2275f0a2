"""What the gateway does with an authorizer's answer (IAM evaluation, shape checks), and identity sources."""

from __future__ import annotations

from typing import Any

import pytest

from authorizer.event.builder import RequestSpec
from authorizer.event.request import Request
from authorizer.policy.identity import derive_identity_sources, parse_identity_source
from authorizer.serve.iam import IamAnswer, MalformedAnswer, evaluate_policy, read_answer
from authorizer.serve.identity import IdentitySources
from tests.conftest import compile_yaml

ARN = "arn:aws:execute-api:us-east-1:123456789012:api1/dev/GET/pets/42"
ROOT_ARN = "arn:aws:execute-api:us-east-1:123456789012:api1/dev/GET/"


def answer(*statements: dict[str, Any]) -> IamAnswer:
    return IamAnswer.model_validate(
        {"principalId": "p", "policyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}
    )


def allow(resource: Any, action: Any = "execute-api:Invoke", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": resource, **extra}


def request(kind: str = "rest") -> Request:
    return Request(RequestSpec(path="/pets/42").to_event(kind))


# -- IAM evaluation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("resource", "arn", "verdict"),
    [
        (ARN, ARN, "allow"),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/dev/*", ARN, "allow"),  # * crosses '/'
        ("arn:aws:execute-api:us-east-1:123456789012:api1/dev/*/*", ROOT_ARN, "allow"),  # * matches nothing
        ("arn:aws:execute-api:*:*:api1/*/GET/pets/*", ARN, "allow"),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/dev/GET/pets/4?", ARN, "allow"),  # ? one character
        ("arn:aws:execute-api:us-east-1:123456789012:api1/dev/GET/pets/?", ARN, "implicit-deny"),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/dev/POST/*", ARN, "implicit-deny"),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/dev/get/pets/42", ARN, "implicit-deny"),  # case matters
        ("arn:aws:execute-api:us-east-1:123456789012:api1/dev/GET/pets", ARN, "implicit-deny"),  # no prefix match
        ("arn:aws:execute-api:us-east-1:123456789012:api1/dev/GET/pets/[4]2", ARN, "implicit-deny"),  # no classes
        ([ROOT_ARN, ARN], ARN, "allow"),
    ],
)
def test_allow_resources_match_with_iam_wildcards(resource, arn, verdict):
    assert evaluate_policy(answer(allow(resource)), arn) == verdict


@pytest.mark.parametrize(
    ("action", "verdict"),
    [("execute-api:Invoke", "allow"), ("EXECUTE-API:invoke", "allow"), ("execute-api:*", "allow"), ("*", "allow"),
     ("execute-api:InvalidateCache", "implicit-deny"), (["s3:GetObject", "execute-api:Inv*"], "allow")],
)  # fmt: skip
def test_actions_match_case_insensitively_with_wildcards(action, verdict):
    assert evaluate_policy(answer(allow(ARN, action)), ARN) == verdict


def test_explicit_deny_beats_allow_whatever_the_order():
    assert evaluate_policy(answer(allow("*"), deny(ARN)), ARN) == "explicit-deny"
    assert evaluate_policy(answer(deny(ARN), allow("*")), ARN) == "explicit-deny"
    other = "arn:aws:execute-api:us-east-1:123456789012:api1/dev/DELETE/*"
    assert evaluate_policy(answer(allow("*"), deny(other)), ARN) == "allow"
    assert evaluate_policy(answer(deny(other)), ARN) == "implicit-deny"


def test_conditions_are_applied_fail_closed():
    assert evaluate_policy(answer(allow(ARN, Condition={"IpAddress": {"aws:SourceIp": "1.2.3.4"}})), ARN) == (
        "implicit-deny"
    )
    assert evaluate_policy(answer(allow(ARN), deny(ARN, Condition={"Bool": {"x": "true"}})), ARN) == "explicit-deny"


def test_a_single_statement_object_is_read_like_a_list():
    parsed = read_answer({"principalId": "p", "policyDocument": {"Statement": allow(ARN)}}, request(), simple=False)
    assert isinstance(parsed, IamAnswer) and evaluate_policy(parsed, ARN) == "allow"


# -- answers API Gateway cannot use: 500 -------------------------------------------------------------
GOOD = {"principalId": "p", "policyDocument": {"Version": "2012-10-17", "Statement": [allow(ARN)]}}


@pytest.mark.parametrize(
    ("broken", "kind", "message"),
    [
        ({**GOOD, "principalId": ""}, "rest", "principalId"),
        ({**GOOD, "principalId": 7}, "rest", "principalId"),
        ({"principalId": "p"}, "rest", "policyDocument"),
        ({**GOOD, "policyDocument": {"Statement": [{**allow(ARN), "Effect": "allow"}]}}, "rest", "Effect"),
        ({**GOOD, "policyDocument": {"Statement": [{"Effect": "Allow", "Resource": ARN}]}}, "rest", "Action"),
        ({**GOOD, "policyDocument": {"Statement": [allow("")]}}, "rest", "non-empty"),
        ({**GOOD, "policyDocument": {"Statement": [allow("a" * 513)]}}, "rest", "512"),
        ({**GOOD, "context": {"list": [1, 2]}}, "rest", "string, number or boolean"),
        ({**GOOD, "context": {"none": None}}, "websocket", "string, number or boolean"),
        ({**GOOD, "context": {"k": "v" * 9000}}, "websocket", "8192"),
        ("Allow", "rest", "response"),
    ],
)
def test_malformed_answers_are_refused_like_api_gateway(broken, kind, message):
    with pytest.raises(MalformedAnswer, match=message):
        read_answer(broken, request(kind), simple=False)


def test_http_apis_accept_objects_in_context_and_websocket_accepts_small_answers():
    read_answer({**GOOD, "context": {"list": [1, 2], "map": {"a": 1}}}, request("http-v1"), simple=False)
    read_answer({**GOOD, "context": {"k": "v" * 1000}}, request("websocket"), simple=False)


@pytest.mark.parametrize("broken", [{"isAuthorized": "true"}, {"isAuthorized": 1}, {}, GOOD])
def test_simple_answers_need_a_real_boolean(broken):
    with pytest.raises(MalformedAnswer, match="isAuthorized"):
        read_answer(broken, request("http-v2"), simple=True)


# -- identity sources --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("method.request.header.Auth", "header.Auth"),
        ("method.request.querystring.q", "query.q"),
        ("route.request.header.HeaderAuth1", "header.HeaderAuth1"),
        ("$request.header.x-api-key", "header.x-api-key"),
        ("$request.querystring.token", "query.token"),
        ("stageVariables.StageVar1", "stage.StageVar1"),
        ("$stageVariables.v", "stage.v"),
        ("$context.routeKey", "context.routeKey"),
        ("context.accountId", "context.accountId"),
        (" header.X ", "header.X"),
    ],
)
def test_identity_sources_in_both_notations(text, name):
    assert parse_identity_source(text) == name


@pytest.mark.parametrize(
    ("text", "message"),
    [("headers.Auth", "did you mean"), ("path.id", "cannot be"), ("token", "cannot be"), ("cookie.s", "cannot be")],
)
def test_what_cannot_be_an_identity_source(text, message):
    with pytest.raises(ValueError, match=message):
        parse_identity_source(text)


def test_derived_identity_sources_are_what_every_rule_requires():
    policy = compile_yaml(
        """
version: 1
rules:
  - name: a
    effect: allow
    when:
      header.X-Key: k
      query.q: {exists: true}
      stage.s: v
      header.x-only-a: "1"
      any:
        - {header.x-any: "1", query.q: "2"}
        - {header.x-any: "2"}
  - name: b
    effect: deny
    when:
      query.q: {prefix: z}
      header.x-key: {regex: "k.*"}
      stage.s: {exists: false}
      not: {header.x-only-a: "2"}
      all:
        - {header.x-any: "3"}
"""
    )
    # header names fold case; `exists: false` and `not` require nothing; `any` requires what all branches do
    assert derive_identity_sources(policy) == ("header.X-Key", "query.q", "header.x-any")


def test_identity_values_and_the_first_missing_source():
    sources = IdentitySources(("header.Auth", "query.q"))
    event = RequestSpec(headers={"auth": ["a", "b"]}, query={"q": "1"}).to_event("rest")
    assert sources.values(Request(event)) == ("a,b", "1")
    assert sources.values(Request(RequestSpec(query={"q": "1"}).to_event("rest"))) == "header.Auth"
    assert sources.values(Request(RequestSpec(headers={"Auth": ""}).to_event("rest"))) == "header.Auth"


def test_no_identity_sources_when_a_rule_needs_nothing():
    policy = compile_yaml(
        "version: 1\nrules:\n  - {name: a, effect: allow, when: {header.k: v}}\n  - {name: b, effect: deny}\n"
    )
    assert derive_identity_sources(policy) == ()
