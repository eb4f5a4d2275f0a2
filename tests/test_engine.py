"""Rule order, combinators, routes, repeated values, outputs, the index, and explain."""

import pytest

from authorizer.decide.decision import Trace
from authorizer.decide.engine import decide
from authorizer.event.builder import RequestSpec
from authorizer.event.request import Request
from authorizer.policy.sources import REDACTED
from tests.conftest import compile_yaml, decide_event


def rest(**spec):
    return RequestSpec(**spec).to_event("rest")


def test_first_matching_rule_wins():
    policy = """
version: 1
rules:
  - {name: deny-bob, effect: deny, when: {header.user: bob}}
  - {name: allow-all, effect: allow}
"""
    assert decide_event(policy, rest(headers={"user": "bob"})).rule == "deny-bob"
    assert decide_event(policy, rest(headers={"user": "amy"})).rule == "allow-all"


def test_on_no_match_deny_gives_an_explicit_deny():
    policy = "version: 1\non_no_match: deny\nrules:\n  - {name: a, effect: allow, when: {header.user: amy}}\n"
    decision = decide_event(policy, rest())
    assert (decision.effect, decision.rule, decision.reason) == ("deny", None, "no rule matched")
    assert decision.resources == (rest()["methodArn"],)


ANY_NOT = """
version: 1
rules:
  - name: r
    effect: allow
    when:
      any:
        - header.a: "1"
        - header.b: "1"
      not:
        header.c: "1"
"""


@pytest.mark.parametrize(
    "headers,allowed",
    [
        ({"a": "1", "c": "0"}, True),
        ({"b": "1", "c": "0"}, True),
        ({"a": "1", "b": "0", "c": "0"}, True),
        ({"a": "0", "b": "0", "c": "0"}, False),
        ({"a": "1", "c": "1"}, False),
        ({"a": "1"}, False),  # c missing: `not` over an unknown stays unknown
        ({"c": "0"}, False),  # a and b missing: any of unknowns is unknown
    ],
)
def test_any_and_not_use_three_valued_logic(headers, allowed):
    assert (decide_event(ANY_NOT, rest(headers=headers)).effect == "allow") is allowed


def test_all_and_nested_not():
    policy = """
version: 1
rules:
  - name: r
    effect: allow
    when:
      all:
        - header.a: "1"
        - not: {header.b: "1", header.c: "1"}
"""
    assert decide_event(policy, rest(headers={"a": "1", "b": "1", "c": "0"})).effect == "allow"
    assert decide_event(policy, rest(headers={"a": "1", "b": "1", "c": "1"})).effect == "unauthorized"
    # b false and c missing: AND is false whatever c is, so NOT is true
    assert decide_event(policy, rest(headers={"a": "1", "b": "0"})).effect == "allow"
    # b true and c missing: AND is unknown, NOT stays unknown
    assert decide_event(policy, rest(headers={"a": "1", "b": "1"})).effect == "unauthorized"


def test_jmespath_escape_hatch_must_yield_true():
    policy = """
version: 1
rules:
  - name: r
    effect: allow
    when:
      jmespath: "length(keys(headers)) == `2` && headers.\\"x-a\\" == 'b'"
"""
    assert decide_event(policy, rest(headers={"x-a": "b", "x-c": "d"})).effect == "allow"
    assert decide_event(policy, rest(headers={"x-a": "b"})).effect == "unauthorized"
    truthy = "version: 1\nrules:\n  - {name: r, effect: allow, when: {jmespath: headers}}\n"
    assert decide_event(truthy, rest(headers={"x": "y"})).effect == "unauthorized", "truthy is not true"
    erroring = "version: 1\nrules:\n  - {name: r, effect: allow, when: {jmespath: 'length(`1`) > `0`'}}\n"
    assert decide_event(erroring, rest()).effect == "unauthorized"


MODES = """
version: 1
rules:
  - name: r
    effect: allow
    when:
      query.role: {MODE}
"""


@pytest.mark.parametrize(
    "mode,values,allowed",
    [
        ("admin", ["admin"], True),
        ("admin", ["admin", "admin"], True),
        ("admin", ["admin", "user"], False),
        ("admin", ["user", "admin"], False),
        ("{equals: admin, values: any}", ["user", "admin"], True),
        ("{equals: admin, values: all}", ["user", "admin"], False),
        ("{prefix: a, values: all}", ["admin", "audit"], True),
        ("{equals: 'admin,user', values: joined}", ["admin", "user"], True),
        ("{not_equals: user}", ["admin", "user"], False),
    ],
)
@pytest.mark.parametrize("kind", ["rest", "http-v1", "http-v2", "websocket"])
def test_repeated_values_fail_unless_the_rule_opts_in(mode, values, allowed, kind):
    event = RequestSpec(query={"role": values}).to_event(kind)
    assert (decide_event(MODES.replace("{MODE}", mode), event).effect == "allow") is allowed


ROUTES = """
version: 1
resource: routes
rules:
  - {name: read, effect: allow, routes: ["GET /pets", "GET /pets/{id}"]}
  - {name: admin, effect: allow, routes: ["ANY /admin/{proxy+}"], when: {header.role: admin}}
  - {name: files, effect: allow, routes: ["GET /files/*"]}
  - {name: ws, effect: allow, routes: ["$connect"]}
"""


@pytest.mark.parametrize(
    "method,path,headers,rule",
    [
        ("GET", "/pets", {}, "read"),
        ("GET", "/pets/42", {}, "read"),
        ("GET", "/pets/42/toys", {}, None),
        ("POST", "/pets", {}, None),
        ("DELETE", "/admin/users/7", {"role": "admin"}, "admin"),
        ("DELETE", "/admin/", {"role": "admin"}, None),
        ("DELETE", "/admin/users/7", {}, None),
        ("GET", "/files/a/b/c.txt", {}, "files"),
        ("GET", "/files/", {}, "files"),
    ],
)
def test_route_scoping(method, path, headers, rule):
    assert decide_event(ROUTES, rest(method=method, path=path, headers=headers)).rule == rule


def test_route_resources_cover_the_rule_routes():
    decision = decide_event(ROUTES, rest(method="GET", path="/pets/42", stage="prod"))
    prefix = "arn:aws:execute-api:us-east-1:123456789012:example123/prod"
    assert decision.resources == (f"{prefix}/GET/pets", f"{prefix}/GET/pets/*")
    ws = decide_event(ROUTES, RequestSpec(stage="prod").to_event("websocket"))
    assert (ws.rule, ws.resources) == ("ws", (f"{prefix}/$connect",))


@pytest.mark.parametrize("scope,suffix", [("method", "/dev/GET/pets/1"), ("stage", "/dev/*"), ("api", "/*")])
def test_resource_scopes(scope, suffix):
    policy = f"version: 1\nresource: {scope}\nrules:\n  - {{name: r, effect: allow}}\n"
    decision = decide_event(policy, rest(path="/pets/1"))
    assert decision.resources == ("arn:aws:execute-api:us-east-1:123456789012:example123" + suffix,)


def test_outputs_from_the_request():
    policy = """
version: 1
rules:
  - name: r
    effect: allow
    principal: {from: header.x-user}
    context:
      user: {from: header.x-user}
      account: {from: context.accountId}
      fixed: 1
    usage_identifier_key: {from: header.x-api-key}
"""
    decision = decide_event(policy, rest(headers={"x-user": "amy", "x-api-key": "k1"}))
    assert decision.principal == "amy"
    assert decision.context == {"user": "amy", "account": "123456789012", "fixed": 1}
    assert decision.usage_identifier_key == "k1"
    assert decide_event(policy, rest(headers={"x-api-key": "k1"})).effect == "unauthorized", "principal missing"
    conflicting = rest(headers={"x-user": ["amy", "bob"], "x-api-key": "k1"})
    assert decide_event(policy, conflicting).effect == "unauthorized", "principal ambiguous"


def test_principal_defaults_to_rule_name():
    assert decide_event("version: 1\nrules:\n  - {name: open, effect: allow}\n", rest()).principal == "open"


def _keyed_policy(n: int, source: str = "header.x-api-key") -> str:
    rules = "\n".join(
        f"  - {{name: k{i}, effect: allow, when: {{{source}: key-{i}}}, principal: p{i}}}" for i in range(n)
    )
    blocked = "  - {name: blocked, effect: deny, when: {source_ip: {cidr: 203.0.113.0/24}}}"
    return f"version: 1\nrules:\n{blocked}\n{rules}\n"


@pytest.mark.parametrize("source", ["header.x-api-key", "header.x-tenant"])
def test_index_gives_the_same_answers_as_a_scan(source):
    policy = compile_yaml(_keyed_policy(50, source))
    assert policy.index.keyed_on == source
    header = source.split(".", 1)[1]
    for key, ip in [("key-0", "1.1.1.1"), ("key-49", "1.1.1.1"), ("key-49", "203.0.113.5"), ("nope", "1.1.1.1")]:
        r = Request(rest(headers={header: key}, source_ip=ip))
        fast, slow = decide(policy, r), decide(policy, r, Trace())
        assert (fast.effect, fast.rule, fast.principal) == (slow.effect, slow.rule, slow.principal)
    r = Request(rest(headers={header: ["key-1", "key-2"]}))
    assert decide(policy, r).effect == "unauthorized"


def test_route_index():
    rules = "\n".join(f"  - {{name: r{i}, effect: allow, routes: ['GET /items/{i}']}}" for i in range(40))
    policy = compile_yaml(f"version: 1\nrules:\n{rules}\n  - {{name: any-ws, effect: allow, routes: ['$connect']}}\n")
    assert policy.index.keyed_on == "route"
    assert decide(policy, Request(rest(path="/items/39"))).rule == "r39"
    assert decide(policy, Request(rest(path="/items/40"))).effect == "unauthorized"
    assert decide(policy, Request(rest(method="POST", path="/items/3"))).effect == "unauthorized"


def test_explain_traces_every_rule_tried_with_redaction():
    policy = compile_yaml(
        """
version: 1
rules:
  - {name: a, effect: allow, when: {header.x-api-key: expected-key, header.x-user: amy}}
  - {name: b, effect: allow, when: {header.x-user: bob}}
"""
    )
    decision = decide(policy, Request(rest(headers={"x-api-key": "sent-key", "x-user": "carl"})), Trace())
    assert decision.effect == "unauthorized"
    rendered = repr(decision.trace)
    assert "sent-key" not in rendered and "expected-key" not in rendered
    first, second = decision.trace
    assert (first.rule, first.source, first.outcome, first.actual, first.expected) == (
        "a",
        "header.x-api-key",
        "false",
        REDACTED,
        REDACTED,
    )
    assert (second.rule, second.actual, second.expected, second.outcome) == ("b", "carl", "bob", "false")


def test_every_source_under_redact_is_secret_bearing_even_when_no_rule_reads_it():
    policy = compile_yaml("version: 1\nredact: [header.X-Note, query.sig]\nrules:\n  - {name: a, effect: allow}\n")
    assert {"header.x-note", "query.sig"} <= policy.sensitive


def test_explain_reports_missing_and_ambiguous():
    policy = compile_yaml("version: 1\nrules:\n  - {name: a, effect: allow, when: {query.q: x, query.r: y}}\n")
    missing = decide(policy, Request(rest()), Trace())
    assert missing.trace[0].outcome == "missing"
    ambiguous = decide(policy, Request(rest(query={"q": ["x", "z"]})), Trace())
    assert ambiguous.trace[0].outcome == "ambiguous"
