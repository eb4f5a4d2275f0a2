"""Ambiguous identity: a header, query parameter or cookie that arrives more than once with
different values fails its condition unless the condition opts in with `values: any|all|joined`.

REST, WebSocket and HTTP API 1.0 carry repeats in `multiValue*` maps; HTTP API 2.0 comma-joins
them (`a,b`), so there a value holding a comma reads as two values. Every kind, every place an
identity value is read (conditions, the rule index, outputs, the JMESPath view), and a property
against the reference interpreter over random repeats × operators × modes.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authorizer.decide.engine import decide
from authorizer.decide.evaluate import evaluate
from authorizer.event.builder import RequestSpec
from authorizer.event.request import Request
from authorizer.policy.load import load
from tests.reference import Interpreter
from tests.test_reference_strategies import SECRETS, compile_data, operators_for

MULTI_KINDS = ["rest", "websocket", "http-v1", "http-v2"]  # TOKEN events carry no headers


def effect(policy_text: str, spec: RequestSpec, kind: str) -> str:
    policy = load("ambiguity.yaml", policy_text.encode()).policy
    return decide(policy, Request(spec.to_event(kind))).effect


def when(conditions: str, **rule: str) -> str:
    extra = "".join(f"    {key}: {value}\n" for key, value in rule.items())
    return f"version: 1\nrules:\n  - name: r\n    effect: allow\n    when: {conditions}\n{extra}"


# -- the default (`single`) refuses conflicting repeats, negative conditions included ----------------
NOTHING_HOLDS = [
    "{header.x-role: admin}",
    "{header.x-role: user}",
    "{header.x-role: [admin, user]}",
    "{header.x-role: {not_equals: root}}",
    "{header.x-role: {not_one_of: [root]}}",
    "{header.x-role: {not: guest}}",
    "{header.x-role: {exists: true}}",
    "{header.x-role: {exists: false}}",
    "{header.x-role: {regex: '.*'}}",
    "{header.X-ROLE: {prefix: ''}}",
    "{not: {header.x-role: guest}}",
    "{any: [{header.x-role: admin}, {header.x-role: user}]}",
    '{jmespath: "headers.\\"x-role\\" == \'admin\'"}',
]


@pytest.mark.parametrize("kind", MULTI_KINDS)
@pytest.mark.parametrize("conditions", NOTHING_HOLDS)
def test_conflicting_header_values_satisfy_no_condition(kind: str, conditions: str) -> None:
    spec = RequestSpec(headers={"x-role": ["admin", "user"]})
    assert effect(when(conditions), spec, kind) == "unauthorized"


@pytest.mark.parametrize("kind", MULTI_KINDS)
def test_conflicting_query_values_and_cookies_satisfy_no_condition(kind: str) -> None:
    assert effect(when("{query.role: admin}"), RequestSpec(query={"role": ["admin", "user"]}), kind) == "unauthorized"
    assert effect(when("{query.role: {not: x}}"), RequestSpec(query={"role": ["a", "b"]}), kind) == "unauthorized"
    spec = RequestSpec(headers={"cookie": "session=a; session=b"})
    assert effect(when("{cookie.session: {exists: true}}"), spec, kind) == "unauthorized"


@pytest.mark.parametrize("kind", MULTI_KINDS)
def test_a_repeated_identical_value_is_one_value(kind: str) -> None:
    spec = RequestSpec(headers={"x-role": ["admin", "admin"]}, query={"role": ["admin", "admin"]})
    assert effect(when("{header.x-role: admin, query.role: admin}"), spec, kind) == "allow"


@pytest.mark.parametrize("kind", ["rest", "websocket", "http-v1"])
def test_header_names_differing_only_in_case_are_one_name(kind: str) -> None:
    spec = RequestSpec(headers={"X-Role": "admin", "x-role": "user"})
    assert effect(when("{header.x-role: admin}"), spec, kind) == "unauthorized"
    assert effect(when("{header.x-role: {values: any, equals: admin}}"), spec, kind) == "allow"


@pytest.mark.parametrize("kind", ["rest", "websocket", "http-v1"])
def test_maps_that_disagree_are_refused(kind: str) -> None:
    """A single-value map naming another value than its multiValue twin: neither is trusted, the
    request is refused (tests/adversarial/test_value_maps.py tries every way maps can disagree)."""
    item = RequestSpec(headers={"x-role": "user"}).to_event(kind)
    item["headers"]["x-role"] = "admin"
    policy = load("p.yaml", when("{header.x-role: admin}").encode()).policy
    decision = evaluate(item, policy).decision
    assert decision.effect == "unauthorized" and decision.anomaly == "bad event"


def test_http_v2_comma_joined_values_are_several_values() -> None:
    """Payload 2.0 has no multiValue maps: `a,b` could be two headers or one value with a comma."""
    joined = RequestSpec(headers={"x-role": ["admin", "user"]}).to_event("http-v2")
    assert joined["headers"]["x-role"] == "admin,user"
    policy = load("p.yaml", when("{header.x-role: admin}").encode()).policy
    assert decide(policy, Request(joined)).effect == "unauthorized"
    one_value_with_comma = RequestSpec(query={"q": "a,b"})
    assert effect(when("{query.q: 'a,b'}"), one_value_with_comma, "http-v2") == "unauthorized"
    assert effect(when("{query.q: 'a,b'}"), one_value_with_comma, "rest") == "allow"
    assert effect(when("{query.q: {values: joined, equals: 'a,b'}}"), one_value_with_comma, "http-v2") == "allow"


# -- opting in -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", MULTI_KINDS)
@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{values: any, equals: admin}", "allow"),
        ("{values: any, equals: root}", "unauthorized"),
        ("{values: all, prefix: ''}", "allow"),
        ("{values: all, one_of: [admin, user]}", "allow"),
        ("{values: all, equals: admin}", "unauthorized"),
        ("{values: joined, equals: 'admin,user'}", "allow"),
        ("{values: joined, equals: 'user,admin'}", "unauthorized"),
        ("{values: any, not: admin}", "allow"),
        ("{values: all, not: admin}", "unauthorized"),
        ("{values: any, exists: false}", "unauthorized"),
    ],
)
def test_values_modes(kind: str, condition: str, expected: str) -> None:
    spec = RequestSpec(headers={"x-role": ["admin", "user"]})
    assert effect(when(f"{{header.x-role: {condition}}}"), spec, kind) == expected


@pytest.mark.parametrize("kind", MULTI_KINDS)
def test_any_needs_one_value_satisfying_every_operator(kind: str) -> None:
    """`values: any` with several operators: one value must hold them all, not each its own value."""
    condition = "{header.x-role: {values: any, prefix: adm, suffix: -eu}}"
    assert effect(when(condition), RequestSpec(headers={"x-role": ["admin-us", "user-eu"]}), kind) == "unauthorized"
    assert effect(when(condition), RequestSpec(headers={"x-role": ["admin-us", "admin-eu"]}), kind) == "allow"


@pytest.mark.parametrize("kind", MULTI_KINDS)
def test_missing_values_are_unknown_in_every_mode(kind: str) -> None:
    for mode in ("single", "any", "all", "joined"):
        assert effect(when(f"{{header.x-role: {{values: {mode}, not: x}}}}"), RequestSpec(), kind) == "unauthorized"
        assert effect(when(f"{{header.x-role: {{values: {mode}, exists: false}}}}"), RequestSpec(), kind) == "allow"


# -- everywhere an identity value is read ----------------------------------------------------------
@pytest.mark.parametrize("kind", MULTI_KINDS)
def test_outputs_taken_from_a_conflicting_header_refuse(kind: str) -> None:
    spec = RequestSpec(headers={"x-user": ["alice", "bob"], "x-ok": "1"})
    assert effect(when("{header.x-ok: '1'}", principal="{from: header.x-user}"), spec, kind) == "unauthorized"
    assert effect(when("{header.x-ok: '1'}", context="{u: {from: header.x-user}}"), spec, kind) == "unauthorized"
    same = RequestSpec(headers={"x-user": ["alice", "alice"], "x-ok": "1"})
    assert effect(when("{header.x-ok: '1'}", principal="{from: header.x-user}"), same, kind) == "allow"


@pytest.mark.parametrize("kind", MULTI_KINDS)
def test_the_rule_index_does_not_pick_one_of_conflicting_values(kind: str) -> None:
    rules = "".join(f"  - {{name: r{i}, effect: allow, when: {{header.x-tenant: t{i}}}}}\n" for i in range(12))
    policy = load("indexed.yaml", f"version: 1\nrules:\n{rules}".encode()).policy
    assert policy.index.keyed_on == "header.x-tenant", "the index must be in use for this test to mean anything"
    for values in (["t1", "t2"], ["t3", "evil"], ["evil", "t3"]):
        item = RequestSpec(headers={"x-tenant": values}).to_event(kind)
        assert decide(policy, Request(item)).effect == "unauthorized", values
    assert decide(policy, Request(RequestSpec(headers={"x-tenant": "t3"}).to_event(kind))).rule == "r3"


def test_the_jmespath_view_lists_conflicting_values() -> None:
    item = RequestSpec(headers={"x-role": ["admin", "user"], "x-one": ["a", "a"]}).to_event("rest")
    view = Request(item).view()
    assert view["headers"]["x-role"] == ["admin", "user"] and view["headers"]["x-one"] == "a"


# -- property: random repeats × operators × modes, against the reference ----------------------------
REPEATED = st.lists(st.sampled_from(["a", "b", "A", "ab", "", "a,b", " a"]), min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(MULTI_KINDS),
    source_condition=st.sampled_from(["header.x-role", "query.role"]).flatmap(
        lambda s: st.tuples(st.just(s), operators_for(s))
    ),
    values=REPEATED,
)
def test_repeated_values_match_the_reference(kind: str, source_condition: Any, values: list[str]) -> None:
    source, condition = source_condition
    name = source.split(".", 1)[1]
    spec = RequestSpec(headers={name: values}) if source.startswith("header") else RequestSpec(query={name: values})
    secrets = {"k": {"env": "K"}, "gone": {"ssm": "/nowhere"}}
    rules = [{"name": "r", "effect": "allow", "when": {source: condition}}]
    policy, validated = compile_data({"version": 1, "secrets": secrets, "rules": rules})
    item = spec.to_event(kind)
    got = decide(policy, Request(item)).effect
    assert got == Interpreter(validated, SECRETS).decide(item).effect
    received = Request(item).header(name) if source.startswith("header") else Request(item).query_parameter(name)
    distinct = {v for v in received or () if v}
    if condition.get("values", "single") == "single" and len(distinct) > 1:
        assert got == "unauthorized", "conflicting values satisfied a condition that did not opt in"
