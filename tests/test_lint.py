"""`authorizer.lint`: shadowed rules, rules that can never match, method-scoped Allows under caching.
Each warning is checked for a policy that has the flaw and for a near miss that has not."""

import dataclasses
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from authorizer.policy.ir import CompiledRule
from authorizer.policy.lint import _Linter, lint
from authorizer.policy.load import load
from tests.conftest import POLICIES


def warnings_of(rules: str, head: str = "resource: stage\n") -> list[str]:
    text = f"version: 1\n{head}rules:\n{rules}"
    loaded = load("p.yaml", text.encode())
    compiled, data = loaded.policy, loaded.data
    return [message for _, message in lint(data, compiled)]


def rule(name: str, when: str = "", extra: str = "", effect: str = "allow") -> str:
    text = f"  - name: {name}\n    effect: {effect}\n{extra}"
    if when:
        text += "    when:\n" + "".join(f"      {line}\n" for line in when.split("; "))
    return text


@pytest.mark.parametrize(
    "earlier,later",
    [
        ("header.x-role: [staff, admin]", "header.x-role: admin"),
        ("header.x-role: admin", "header.x-role: admin; query.debug: '1'"),
        ("header.x-role: {prefix: ad}", "header.x-role: admin"),
        ("header.x-role: {prefix: ad}", "header.x-role: {prefix: adm}"),
        ("header.x-role: {exists: true}", "header.x-role: {suffix: min}"),
        ("header.x-role: {not_one_of: [guest]}", "header.x-role: [admin, staff]"),
        ("query.n: {gt: 5}", "query.n: {gt: 10}"),
        ("source_ip: {cidr: 10.0.0.0/8}", "source_ip: 10.1.2.3"),
        ("header.x-api-key: {secret: k}", "header.x-api-key: {secret: k}; header.x-role: admin"),
        ("any: [{header.a: '1'}, {header.b: '2'}]", "any: [{header.a: '1'}, {header.b: '2'}]; header.c: '3'"),
        ("", "header.x-role: admin"),
    ],
)
def test_a_rule_that_an_earlier_rule_always_beats_is_shadowed(earlier, later):
    head = "resource: stage\nsecrets: {k: {env: K}}\n"
    found = warnings_of(rule("first", earlier) + rule("second", later, effect="deny"), head)
    assert found == ["rule 'second' is shadowed by rule 'first': every request it matches, 'first' matches first"]


@pytest.mark.parametrize(
    "earlier,later",
    [
        ("header.x-role: admin", "header.x-role: [staff, admin]"),
        ("header.x-role: admin; query.debug: '1'", "header.x-role: admin"),
        ("header.x-role: {prefix: adm}", "header.x-role: {prefix: ad}"),
        ("header.x-role: admin", "header.x-user: admin"),
        ("context.n: '1'", "context.n: 1"),  # type-strict (a header holds text: a number there is refused)
        ("query.n: {gt: 10}", "query.n: {gt: 5}"),
        ("header.x-role: [staff, admin]", "header.x-role: {one_of: [admin], values: any}"),
        ("header.x-api-key: {secret: k}", "header.x-api-key: {secret: j}"),
        ("header.x-role: {exists: false}", "header.x-role: admin"),
    ],
)
def test_a_rule_that_can_still_decide_is_not_shadowed(earlier, later):
    head = "resource: stage\nsecrets: {k: {env: K}, j: {env: J}}\n"
    assert warnings_of(rule("first", earlier) + rule("second", later), head) == []


ROUTED = "    routes: [{}]\n"


@pytest.mark.parametrize(
    "earlier,later,shadowed",
    [
        ('"GET /pets/*"', '"GET /pets/42"', True),
        ('"ANY /pets/{id}"', '"DELETE /pets/42"', True),
        ('"GET /pets/42", "GET /pets/43"', '"GET /pets/43"', True),
        ('"GET /pets/*"', '"POST /pets/42"', False),
        ('"GET /pets/42"', '"GET /pets/*"', False),
        ('"GET /pets/42"', None, False),
    ],
)
def test_route_scope_decides_shadowing(earlier, later, shadowed):
    second = rule("second", "header.x-role: admin", ROUTED.format(later) if later else "")
    found = warnings_of(rule("first", "header.x-role: admin", ROUTED.format(earlier)) + second)
    assert bool(found) is shadowed, found


def test_a_catch_all_shadows_everything_after_it():
    found = warnings_of(rule("everyone") + rule("a", "header.a: '1'") + rule("b", "query.b: '2'"))
    assert found == [
        "rule 'a' is shadowed by rule 'everyone': every request it matches, 'everyone' matches first",
        "rule 'b' is shadowed by rule 'everyone': every request it matches, 'everyone' matches first",
    ]


@pytest.mark.parametrize(
    "when,reason",
    [
        ("header.a: x; all: [{header.a: y}]", "no value of header.a satisfies all of: equals 'x', equals 'y'"),
        ("header.a: {one_of: [x, y], not_one_of: [x, y]}", "no value of header.a satisfies"),
        ("header.a: {equals: abc, regex: '[0-9]+'}", "no value of header.a satisfies"),
        ("header.a: {exists: false, prefix: z}", "header.a must be absent (exists: false) and also pass another test"),
        ("query.n: {gt: 10, lt: 5}", "no number is in the range"),
        ("query.n: {gt: 5, le: 5}", "no number is in the range"),
        ("kind: token; header.authorization: {exists: true}", "only applies to TOKEN events"),
        ("kind: [rest, websocket]; token: {prefix: Bearer}", "only TOKEN events carry"),
    ],
)
def test_contradictory_conditions_can_never_match(when, reason):
    found = warnings_of(rule("r", when))
    assert len(found) == 1 and found[0].startswith("rule 'r' can never match: ") and reason in found[0], found


@pytest.mark.parametrize(
    "when",
    [
        "header.a: {equals: abc, prefix: ab}",
        "query.n: {ge: 5, le: 5}",
        "header.a: {exists: false}; header.b: x",
        "header.a: {one_of: [x, y], values: any}; all: [{header.a: {equals: z, values: any}}]",
        "kind: [token, rest]; header.x: '1'",
        "kind: token; token: {prefix: Bearer}",
    ],
)
def test_satisfiable_conditions_are_not_flagged(when):
    assert warnings_of(rule("r", when)) == []


def test_a_rule_that_can_never_match_shadows_nothing():
    found = warnings_of(rule("dead", "header.a: x; all: [{header.a: y}]") + rule("live", "header.a: x"))
    assert found == ["rule 'dead' can never match: no value of header.a satisfies all of: equals 'x', equals 'y'"]


def test_messages_never_show_values_of_secret_bearing_sources():
    found = warnings_of(rule("r", "header.authorization: s3cr3t-one; all: [{header.authorization: s3cr3t-two}]"))
    assert found and "s3cr3t" not in found[0] and "<redacted>" in found[0]


CACHED = "cache: {ttl: 300}\n"


@pytest.mark.parametrize(
    "head,extra,effect,warned",
    [
        (CACHED, "", "allow", True),
        (CACHED + "resource: stage\n", "", "allow", False),
        (CACHED, "    resource: api\n", "allow", False),
        (CACHED, "", "deny", False),
        ("cache: {ttl: 0}\n", "", "allow", False),
        # per_route keys on the template: /pets/1 and /pets/2 share `GET /pets/{id}`, the method ARN does not
        ("cache: {ttl: 300, per_route: true}\n", "", "allow", True),
        ("", "", "allow", False),
    ],
)
def test_method_scoped_allow_in_a_cached_policy(head, extra, effect, warned):
    found = warnings_of(rule("r", "header.a: x", extra, effect), head)
    assert bool(found) is warned
    if warned:
        assert "covers only the incoming method ARN" in found[0] and "300 s" in found[0]


def test_per_route_rules_with_cached_simple_responses():
    head = "response: simple\nresource: routes\ncache: {ttl: 60}\n"
    found = warnings_of(rule("r", "header.a: x", '    routes: ["GET /pets"]\n'), head)
    assert len(found) == 1 and "a cached simple response applies to every route" in found[0]


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_policies_have_no_warnings(path):
    loaded = load(str(path), path.read_bytes())
    compiled, data = loaded.policy, loaded.data
    assert lint(data, compiled) == []


@pytest.mark.parametrize(
    "head,extra,warned",
    [
        (CACHED + "resource: stage\n", '    routes: ["GET /pets"]\n', True),
        (CACHED, '    routes: ["GET /pets"]\n    resource: api\n', True),
        # (routes-scoped Allows under caching, and per_route: tests/adversarial/test_caching.py)
        ("resource: stage\n", '    routes: ["GET /pets"]\n', False),
    ],
)
def test_route_limited_allow_covering_the_stage_under_caching(head, extra, warned):
    found = warnings_of(rule("r", "header.a: x", extra), head)
    assert bool(found) is warned
    if warned:
        assert "lets the caller call every route" in found[0]


# -- shadowing compares a rule only with the earlier rules that could shadow it ---------------------
CONDITIONS = {
    "header.x-role": [
        "admin",
        ["admin", "staff"],
        [],
        {"one_of": ["admin"]},
        {"equals": "admin", "values": "joined"},
        {"equals": "admin", "values": "any"},
        {"prefix": "ad"},
        {"prefix": "adm"},
        {"suffix": "in"},
        {"contains": "m"},
        {"regex": "ad.*"},
        {"glob": "ad*"},
        {"exists": True},
        {"exists": False},
        {"not_equals": "guest"},
        {"not_one_of": ["guest"]},
        {"not": {"prefix": "g"}},
    ],
    "query.n": [{"gt": 5}, {"ge": 10}, {"lt": 3}, {"gt": 5, "le": 20}, "7", {"one_of": ["7", "30"]}],
    "header.x-api-key": [{"secret": "k"}, {"secret": "j"}, "key-1", {"prefix": "key-"}],
    "context.n": [1, 1.0, True, {"one_of": [1, "1"]}, {"not_equals": 1}],
}
ROUTES = ["GET /a", "GET /a/*", "ANY /a/{id}", "POST /a", "$connect", "GET /b", "GET /a/1"]


@st.composite
def lint_policies(draw: st.DrawFn) -> dict[str, Any]:
    """Rules from a small vocabulary of conditions and routes, so that rules often shadow others."""

    def when(depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if draw(st.integers(0, 3)):  # mostly one condition on one source, so that rules often compare
            out["header.x-role"] = draw(st.sampled_from(CONDITIONS["header.x-role"]))
        if not draw(st.integers(0, 2)):
            other = draw(st.sampled_from(sorted(CONDITIONS)))
            out[other] = draw(st.sampled_from(CONDITIONS[other]))
        if depth and draw(st.integers(0, 4)) == 0:
            out[draw(st.sampled_from(["any", "all"]))] = [when(depth - 1) or {"query.n": "7"} for _ in range(2)]
        if depth and draw(st.integers(0, 6)) == 0:
            out["not"] = when(depth - 1) or {"query.n": "7"}
        return out

    rules = []
    for i in range(draw(st.integers(2, 9))):
        rule: dict[str, Any] = {"name": f"r{i}", "effect": "allow", "when": when(1)}
        if not draw(st.integers(0, 2)):
            rule["routes"] = draw(st.lists(st.sampled_from(ROUTES), min_size=1, max_size=2, unique=True))
        rules.append(rule)
    return {"version": 1, "secrets": {"k": {"env": "K"}, "j": {"env": "J"}}, "rules": rules}


class _EveryPair(_Linter):
    """Shadowing as it was: each rule compared with every earlier rule."""

    def facts(self, rule: CompiledRule) -> Any:
        return dataclasses.replace(super().facts(rule), needs=())


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=lint_policies())
def test_shadowing_finds_what_comparing_every_pair_finds(data: dict[str, Any]) -> None:
    loaded = load("p.yaml", yaml.safe_dump(data).encode(), secrets={}.get)
    found = lint(loaded.data, loaded.policy)
    assert found == _EveryPair(loaded.data, loaded.policy).run()
    event(f"shadowed: {sum('is shadowed by' in message for _, message in found)}")
