"""The compiled engine against the reference interpreter (tests/reference.py): random policies ×
random events, on effect, rule, principal, context, resources and the exact Lambda response.

`decide` (indexed, short-circuiting), `decide` with a trace (every rule, traced) and `evaluate` must
all give the reference's answer; neither may raise.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from authorizer.decide.decision import Decision, Trace
from authorizer.decide.engine import decide
from authorizer.decide.evaluate import evaluate
from authorizer.event.readers import BadEvent
from authorizer.event.request import Request
from tests.reference import Interpreter, RefDecision, glob_match, route_matches
from tests.test_reference_strategies import SECRETS, compile_data, events, index_kind, policies
from tests.token_strategies import compile_token_policy, token_events, token_policies, verifier

Summary = tuple[Any, ...]


def summary(decision: Decision | RefDecision) -> Summary:
    if decision.effect == "unauthorized":
        return ("unauthorized",)
    return (
        decision.effect,
        decision.rule,
        decision.principal,
        decision.context,
        tuple(decision.resources),
        decision.usage_identifier_key,
    )


def check_agreement(policy_data: dict[str, Any], batch: list[dict[str, Any]], tokens: bool = False) -> None:
    if tokens:  # claims are given data to the reference: it is told which tokens verify
        compiled, validated = compile_token_policy(policy_data)
        reference = Interpreter(validated, verifier=verifier)
    else:
        compiled, validated = compile_data(policy_data)
        reference = Interpreter(validated, SECRETS)
    event(f"index: {index_kind(compiled)}")
    for item in batch:
        want = reference.decide(item)
        try:
            fast = decide(compiled, Request(item))
            traced = decide(compiled, Request(item), Trace())
        except BadEvent:  # not an event, or value maps that disagree on what the policy reads
            assert want.effect == "unauthorized", "the reference accepted an event the core calls bad"
        else:
            assert summary(fast) == summary(want), (fast, want)
            assert summary(traced) == summary(want), (traced, want)
        decision, _request, response = evaluate(item, compiled)
        assert not decision.reason.startswith("internal error"), decision.reason
        assert response == reference.response(item), (response, want)
        assert evaluate(item, compiled, explained=True)[2] == response
        event(f"outcome: {want.effect}")
        if tokens and want.rule is not None:
            rule = next(r for r in validated["rules"] if r["name"] == want.rule)
            event(f"decided by a rule reading claims: {any(k.startswith('jwt') for k in rule.get('when', {}))}")


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), batch=st.lists(events(), min_size=1, max_size=6))
def test_engine_agrees_with_reference(policy: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    check_agreement(policy, batch)


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(policy=policies(), batch=st.lists(events(), min_size=1, max_size=6))
def test_engine_agrees_with_reference_long(policy: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    check_agreement(policy, batch)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=token_policies(), batch=st.lists(token_events(), min_size=1, max_size=6))
def test_engine_agrees_with_reference_on_tokens(policy: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    check_agreement(policy, batch, tokens=True)


@pytest.mark.slow
@settings(max_examples=3_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(policy=token_policies(), batch=st.lists(token_events(), min_size=1, max_size=6))
def test_engine_agrees_with_reference_on_tokens_long(policy: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    check_agreement(policy, batch, tokens=True)


# -- the reference's own building blocks, against plain examples --------------------------------------
@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("a*", "abc", True),
        ("a*", "ba", False),
        ("*", "", True),
        ("?", "", False),
        ("a?c", "abc", True),
        ("*a*b*", "xxaxxbxx", True),
        ("*a*b*", "ba", False),
        ("a", "a\n", False),
    ],
)
def test_reference_glob(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


@pytest.mark.parametrize(
    ("route", "method", "path", "expected"),
    [
        ("GET /a/*", "GET", "/a/", True),
        ("GET /a/*", "GET", "/a/x/y", True),
        ("GET /a/*", "POST", "/a/x", False),
        ("ANY /a/{id}", "DELETE", "/a/1", True),
        ("ANY /a/{id}", "GET", "/a/1/2", False),
        ("ANY /a/{id}", "GET", "/a/", False),
        ("POST /b/{rest+}", "POST", "/b/x/y", True),
        ("POST /b/{rest+}", "POST", "/b/", False),
        ("$connect", "", "$connect", True),
        ("$connect", "GET", "$connect", False),
        ("get /a", "GET", "/a", True),
    ],
)
def test_reference_routes(route: str, method: str, path: str, expected: bool) -> None:
    assert route_matches(route, method, path) is expected
