"""The generated decision function (decide/generated.py) held to the engine it stands in for.

`lambda_handler` answers from `policy.fast` whenever it can, decision line or not, so each answer it
gives must be exactly the engine's, and its decision line the engine's line: over random policies
and events, the shipped policies and their sample events, the AWS sample events, indexed and long
policies, and policies full of text that would break (or run) generated source if it were ever
pasted into it. FALLBACK ("ask the engine") is allowed only where the engine refuses, and never on
ordinary requests, or agreement would hold vacuously. The handler must ask the engine whenever the
fast path gives up, and still refuse when the generated code raises.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authorizer import handler
from authorizer.decide import evaluate as evaluate_module
from authorizer.decide import generated as generated_module
from authorizer.decide.decision import Decision
from authorizer.decide.evaluate import evaluate
from authorizer.decide.generated import FALLBACK, build, generate, respond
from authorizer.decide.response import ResponseMode
from authorizer.decision_log import answer_record, decision_record
from authorizer.event.builder import RequestSpec
from authorizer.event.kinds import NAMES as EVENT_KINDS
from authorizer.handler import Runtime
from authorizer.policy.compiler import compile_policy
from authorizer.policy.ir import Check, CompiledPolicy
from authorizer.policy.load import load
from authorizer.settings import Settings
from authorizer.stores.base import StaticPolicyStore
from benchmarks.events import SECRETS as SHIPPED_SECRETS
from benchmarks.events import SHIPPED, WITH_TOKENS, realistic_events, shipped_events
from tests.conftest import FIXTURES, POLICIES, all_fixture_paths, compile_yaml, generated_response, load_fixture
from tests.test_reference_strategies import compile_data, events, index_kind, policies
from tests.token_strategies import compile_token_policy, token_events, token_policies

# the policy's own response format, and the AUTHORIZER_RESPONSE overrides (simple applies to http-v2 only)
MODES: dict[str, ResponseMode | None] = {"policy": None, "simple": "simple", "iam": "iam"}
REFUSALS = (None, {"isAuthorized": False})


def exact(response: Any) -> str:
    """A type-strict form of a response: True, 1 and 1.0 are equal under ==, not here."""
    return json.dumps(response, sort_keys=True)


_GENERATED: dict[int, tuple[CompiledPolicy, CompiledPolicy]] = {}  # id → (policy, with its function): built once


def generated(policy: CompiledPolicy) -> CompiledPolicy:
    """The policy with its generated decision function, as a store attaches it (but raising if generating fails)."""
    if id(policy) not in _GENERATED:
        _GENERATED[id(policy)] = (policy, policy.replace(fast=build(policy)))
    return _GENERATED[id(policy)][1]


def compare(policy: CompiledPolicy, item: Any, mode: ResponseMode | None) -> tuple[bool, Decision]:
    """Assert that the fast answer is the engine's response, or FALLBACK where the engine refuses (or
    answers with an anomaly to log: a secret that cannot be read), and that its decision line has the
    engine's keys and values; give whether the fast path answered, and the engine's decision."""
    if policy.fast is None:
        policy = generated(policy)
    answer = respond(item, policy, mode)
    decision, request, engine = evaluate(item, policy, mode)
    if answer is FALLBACK:
        logged = decision.anomaly == "secret unavailable"
        assert engine in REFUSALS or logged, f"fell back where the engine answers {engine!r} ({decision.reason})"
        return False, decision
    fast = answer[2]
    assert fast == engine and exact(fast) == exact(engine), (fast, engine, decision.reason)
    lines = (
        answer_record(answer, item, policy, 0, cold_start=False, lambda_request_id="r"),
        decision_record(decision, request, policy, 0, cold_start=False, lambda_request_id="r"),
    )
    generated_line, engine_line = ({**line, "duration_us": 0} for line in lines)
    assert list(generated_line.items()) == list(engine_line.items()), lines  # same keys, order and values
    return True, decision


# -- 1. random policies × random events ---------------------------------------------------------------
def check_fast_agrees(policy_data: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    compiled = generated(compile_data(policy_data)[0])
    assert compiled.fast is not None, "the generator failed on this policy: the property would hold vacuously"
    answered = [compare(compiled, item, mode)[0] for mode in MODES.values() for item in batch]
    share = "every event" if all(answered) else "some events" if any(answered) else "no event"
    hypothesis.event(f"fast path answered {share}")
    hypothesis.event(f"index: {index_kind(compiled)}")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), batch=st.lists(events(), min_size=1, max_size=6))
def test_fast_path_agrees_with_engine(policy: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    check_fast_agrees(policy, batch)


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(policy=policies(), batch=st.lists(events(), min_size=1, max_size=6))
def test_fast_path_agrees_with_engine_long(policy: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    check_fast_agrees(policy, batch)


def check_fast_agrees_on_tokens(policy_data: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    compiled = generated(compile_token_policy(policy_data)[0])
    answered = [compare(compiled, item, mode)[0] for mode in MODES.values() for item in batch]
    share = "every event" if all(answered) else "some events" if any(answered) else "no event"
    hypothesis.event(f"fast path answered {share}")
    hypothesis.event(f"indexed on: {compiled.index.keyed_on}")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=token_policies(), batch=st.lists(token_events(), min_size=1, max_size=6))
def test_fast_path_agrees_with_engine_on_tokens(policy: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    check_fast_agrees_on_tokens(policy, batch)


@pytest.mark.slow
@settings(max_examples=3_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(policy=token_policies(), batch=st.lists(token_events(), min_size=1, max_size=6))
def test_fast_path_agrees_with_engine_on_tokens_long(policy: dict[str, Any], batch: list[dict[str, Any]]) -> None:
    check_fast_agrees_on_tokens(policy, batch)


# -- 2. the fast path answers ordinary requests ---------------------------------------------------------
@pytest.fixture
def shipped_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SHIPPED_SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("name", SHIPPED + WITH_TOKENS)
def test_shipped_policies_are_answered_by_the_fast_path(name: str, mode: str, shipped_secrets: None) -> None:
    path = POLICIES / f"{name}.yaml"
    policy = load(str(path), path.read_bytes()).policy  # key sets are read beside the policy
    items = shipped_events(name) + realistic_events(name)
    effects = set()
    for item in items:
        answered, decision = compare(policy, item, MODES[mode])
        assert answered, f"{name}: fell back on a sample event ({decision.reason})"
        effects.add(decision.effect)
    assert "allow" in effects, f"{name}: no sample event is allowed, so the secrets or events are off"


PERMISSIVE = """\
version: 1
on_no_match: deny
rules:
  - name: blocked
    effect: deny
    when: {header.x-block: {exists: true}}
  - name: browsers
    effect: allow
    resource: stage
    when:
      source_ip: {exists: true}
      header.user-agent: {exists: true}
    principal: {from: source_ip}
    context: {ip: {from: source_ip}, agent: {from: header.user-agent}, route: {from: route.key}}
  - name: tokens
    effect: allow
    when: {token: {exists: true}}
    usage_identifier_key: {from: arn.api}
  - name: everyone
    effect: allow
    resource: api
    principal: {from: kind}
    context: {method: {from: route.method}, stage: {from: arn.stage}}
"""


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("path", all_fixture_paths(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_aws_samples_agree(path: Any, mode: str) -> None:
    item = load_fixture(str(path.relative_to(FIXTURES)))
    policy = compile_yaml(PERMISSIVE)
    readable = evaluate(item, policy).decision.anomaly != "bad event"  # not an event, or maps that disagree
    answered, decision = compare(policy, item, MODES[mode])
    # every output this policy copies is one its rule checks is present: only an unreadable event falls back
    assert answered is readable, decision.reason


NO_MISSING_OUTPUTS = """\
version: 1
on_no_match: ON_NO_MATCH
resource: RESOURCE
secrets:
  k: {env: UNUSED}
rules:
  - name: blocked
    effect: deny
    when: {header.x-block: {exists: true}}
    principal: blocked
  - name: tokens
    effect: allow
    when: {kind: token, token: {secret: k}}
    principal: {from: kind}
    context: {kind: {from: kind}}
  - name: conflicted
    effect: deny
    when:
      header.x-role: {values: all, one_of: [admin, staff]}
      query.q: {values: any, equals: "2"}
  - name: admin
    effect: allow
    routes: ["GET /a/{id}", "$connect"]
    when:
      header.x-role: admin
      source_ip: {cidr: [10.0.0.0/8, "2001:db8::/32"]}
      header.x-gone: {exists: false}
      any:
        - query.q: {regex: "[0-9]+"}
        - cookie.c: {glob: "a*"}
      not:
        header.x-role: staff
      jmespath: "kind != 'token'"
    principal: {from: kind}
    context: {method: {from: route.method}, stage: {from: arn.stage}, key: {from: route.key}, n: 1, flag: true}
    usage_identifier_key: {from: arn.stage}
  - name: staff
    effect: allow
    when:
      header.x-role: {one_of: [staff]}
      query.q: {values: joined, glob: "*"}
    context: {role: staff, path: {from: route.path}}
  - name: readers
    effect: deny
    routes: ["GET /a/*"]
    resource: routes
    when:
      header.x-role: {not: admin}
"""
ORDINARY = [
    RequestSpec(path="/a/1", headers={"x-role": "admin"}, query={"q": "1"}, source_ip="10.0.0.1"),
    RequestSpec(path="/a/1", headers={"x-role": "admin", "Cookie": "c=ab"}, source_ip="2001:db8::5"),
    RequestSpec(path="/a/1", headers={"x-role": "admin"}, query={"q": "x"}, source_ip="10.0.0.1"),
    RequestSpec(path="/a/1", headers={"x-role": "admin"}, query={"q": "1"}, source_ip="192.0.2.1"),
    RequestSpec(method="POST", path="/b", headers={"x-role": "staff"}, query={"q": ["1", "3"]}),
    RequestSpec(path="/a/2/x", headers={"x-role": "guest"}),
    RequestSpec(path="/a/1", headers={"x-role": ["staff", "guest"]}, query={"q": "1"}),
    RequestSpec(path="/a/2/x", headers={"x-role": ["staff", "admin"]}, query={"q": ["2", "3"]}),
    RequestSpec(path="/a/2", headers={"X-Role": ["admin", "guest"]}, query={"q": "1"}, source_ip="10.0.0.1"),
    RequestSpec(path="/a/1", headers={"x-block": "1", "x-role": "admin"}),
    RequestSpec(token="tok"),
    RequestSpec(token="not-it"),
    RequestSpec(),
]


@pytest.mark.parametrize("resource", ["method", "stage", "api", "routes"])
@pytest.mark.parametrize("on_no_match", ["deny", "unauthorized"])
def test_ordinary_events_never_fall_back(resource: str, on_no_match: str) -> None:
    text = NO_MISSING_OUTPUTS.replace("ON_NO_MATCH", on_no_match).replace("RESOURCE", resource, 1)
    policy = compile_yaml(text, secrets={"k": "tok"}.get)
    rules = set()
    for spec in ORDINARY:
        for kind in EVENT_KINDS:
            for mode in MODES.values():
                answered, decision = compare(policy, spec.to_event(kind), mode)
                assert answered, (spec, kind, mode, decision.reason)
                rules.add(decision.rule)
    assert rules == {"blocked", "tokens", "conflicted", "admin", "staff", "readers", None}, rules


# -- 3. indexed and long policies ------------------------------------------------------------------------
KEYS = 24  # rules keyed on one value each: enough for the index (8) and for a first, middle and last


def keyed_policy(source: str) -> dict[str, Any]:
    """KEYS rules keyed on `source` (v-0 ... v-23); an unkeyed rule among them, and a second rule for
    v-0 after the first (which also needs q=1). (A rule keyed on the number 7 was here: a number
    compared with a header is now refused at load, tests/adversarial/test_yaml_traps.py.)"""
    keyed = [
        {"name": f"k{i}", "effect": "deny" if i % 5 == 4 else "allow", "when": {source: f"v-{i}"}, "context": {"i": i}}
        for i in range(KEYS)
    ]
    keyed[0]["when"]["query.q"] = "1"
    unkeyed = {"name": "unkeyed", "effect": "allow", "when": {"header.x-other": "yes"}}
    again = {"name": "k0-again", "effect": "allow", "when": {source: "v-0"}, "principal": {"from": source}}
    rules = [*keyed[: KEYS // 2], unkeyed, *keyed[KEYS // 2 :], again]
    return {"version": 1, "on_no_match": "deny", "resource": "stage", "rules": rules}


# (case, the keyed header's value(s), other headers, query, the rule that should decide)
KEY_CASES = [
    ("first", "v-0", {}, {"q": "1"}, "k0"),
    ("first-then-again", "v-0", {}, {}, "k0-again"),
    ("middle", f"v-{KEYS // 2}", {}, {}, f"k{KEYS // 2}"),
    ("deny", "v-9", {}, {}, "k9"),
    ("last", f"v-{KEYS - 1}", {}, {}, f"k{KEYS - 1}"),
    ("nothing", "v-999", {}, {}, None),
    ("ambiguous", ["v-0", "v-1"], {}, {"q": "1"}, None),
    ("ambiguous-unkeyed", ["v-0", "v-1"], {"x-other": "yes"}, {}, "unkeyed"),
    ("repeated", ["v-5", "v-5"], {}, {}, "k5"),
    ("number", "7", {}, {}, None),
    ("missing", None, {}, {}, None),
    ("unkeyed-before-later-keys", f"v-{KEYS - 1}", {"x-other": "yes"}, {}, "unkeyed"),
    ("keyed-before-unkeyed", "v-3", {"x-other": "yes"}, {}, "k3"),
]


@pytest.mark.parametrize(("source", "digests"), [("header.x-client", False), ("header.x-api-key", True)])
def test_indexed_on_a_header(source: str, digests: bool) -> None:
    policy, _ = compile_data(keyed_policy(source))
    assert policy.index.keyed_on is not None and policy.index.keyed_on == source
    kinds = {key[0] for key in policy.index.table}
    assert kinds == {"sha256" if digests else "str"}, "secret-bearing strings are keyed by digest"
    assert "TABLE" in generate(policy)[0]
    name = source.removeprefix("header.")
    for case, value, others, query, want in KEY_CASES:
        headers = {**others, **({} if value is None else {name.upper() if case == "first" else name: value})}
        spec = RequestSpec(headers=headers, query=query)
        for kind in EVENT_KINDS:
            for mode in MODES.values():
                answered, decision = compare(policy, spec.to_event(kind), mode)
                assert answered, (case, kind, decision.reason)
                assert decision.rule == (None if kind == "token" else want), (case, kind)  # TOKEN events: no headers


ROUTES = 20


def route_policy() -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {"name": f"r{i}", "effect": "allow" if i % 3 else "deny", "routes": [f"GET /r{i}", f"PUT /r{i}/x"]}
        for i in range(ROUTES)
    ]
    rules.insert(ROUTES // 2, {"name": "any-method", "effect": "allow", "routes": ["ANY /any/{id}"]})
    rules.append({"name": "connect", "effect": "allow", "routes": ["$connect"], "context": {"k": {"from": "kind"}}})
    return {"version": 1, "resource": "routes", "on_no_match": "deny", "rules": rules}


ROUTE_CASES = [
    ("GET", "/r0", "r0"),
    ("PUT", f"/r{ROUTES // 2}/x", f"r{ROUTES // 2}"),
    ("GET", f"/r{ROUTES - 1}", f"r{ROUTES - 1}"),
    ("DELETE", "/any/7", "any-method"),
    ("GET", "/nope", None),
    ("POST", "/r0", None),
    ("GET", "/r0/x", None),
]


def test_indexed_on_exact_routes() -> None:
    policy, _ = compile_data(route_policy())
    assert policy.index.keyed_on is not None and policy.index.keyed_on == "route"
    assert "TABLE" in generate(policy)[0]
    for method, path, want in ROUTE_CASES:
        spec = RequestSpec(method=method, path=path)
        for kind in EVENT_KINDS:
            for mode in MODES.values():
                answered, decision = compare(policy, spec.to_event(kind), mode)
                assert answered, (method, path, kind, decision.reason)
                assert decision.rule == ("connect" if kind == "websocket" else want), (method, path, kind)


@pytest.mark.parametrize("indexed", [True, False])
def test_long_policy_of_patterns(indexed: bool) -> None:
    """More rules than are inlined in one function, each a glob: keyed on their patterns (one RE2 set,
    the rules it picks tried through their functions), or, the same globs inside `all` (which the
    index does not look into), rule functions tried in order. Both answer alike."""

    def when(i: int) -> dict[str, Any]:
        glob = {"header.x-client": {"glob": f"v-{i}/*"}}
        return glob if indexed else {"all": [glob]}

    rules = [{"name": f"g{i}", "effect": "allow", "when": when(i), "principal": f"p{i}"} for i in range(40)]
    policy, _ = compile_data({"version": 1, "rules": rules})
    assert (policy.index.patterns is not None) is indexed
    assert ("FN[rule.position]" if indexed else "TABLE") in generate(policy)[0]
    for value, want in [
        ("v-0/", "g0"),
        ("v-39/a", "g39"),
        ("v-17/x", "g17"),
        ("v-17", None),
        (["v-0/", "v-1/"], None),
        ("w", None),
    ]:
        spec = RequestSpec(headers={"x-client": value})
        for kind in EVENT_KINDS:
            for mode in MODES.values():
                answered, decision = compare(policy, spec.to_event(kind), mode)
                assert answered, (value, kind, decision.reason)
                assert decision.rule == (None if kind == "token" else want), (value, kind)


# -- 4. policy text never becomes code ----------------------------------------------------------------
HOSTILE = [
    "q'uote\"s",
    "back\\slash\\",
    "new\nline\r\nafter",
    '"""triple',
    "'''triple",
    "# comment {} {0} {{x}}",
    "__import__('os').system('x')",
    "\"); __import__('os').system('x'); (\"",
    "'\n__import__('os').system('x')\n#",
    "{__import__('os').system('x')}",
    "\\N{BULLET}\\x00\x00",
    "\\'; import os #",
]
GENERATOR_STRINGS = {",", "", "anonymous", "deny"}  # every string literal the generator itself writes


def hostile_rule(i: int, text: str) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": text,
        "effect": "allow",
        "when": {
            f"header.{text}": text,
            f"header.{text}-key": {"one_of": [text, "other"]},
            f"query.{text}": {"prefix": text[:3], "contains": text[-2:], "not": {"equals": text + "!"}},
            "any": [{f"header.{text}": {"glob": text + "*"}}, {f"header.{text}": {"values": "any", "equals": "x"}}],
            "jmespath": f"headers.{json.dumps(text.lower())} == `{json.dumps(text)}`",
        },
        "context": {text: text, f"{text}-copied": {"from": f"header.{text}"}},
        "usage_identifier_key": text,
    }
    if i % 2:
        rule["principal"] = {"from": f"query.{text}"}
    return rule


def hostile_policies() -> dict[str, dict[str, Any]]:
    """Hostile names and values in the inlined shape, and in the indexed shape on three kinds of key."""
    plain = {"version": 1, "on_no_match": "deny", "rules": [hostile_rule(i, t) for i, t in enumerate(HOSTILE)]}
    out = {"plain": plain}
    for key in ("header.x-client", "header.x-api-key", f"header.{HOSTILE[6]}"):
        rules = [{**hostile_rule(i, t), "when": {key: t, **hostile_rule(i, t)["when"]}} for i, t in enumerate(HOSTILE)]
        out[f"indexed on {key!r}"] = {**plain, "resource": "routes", "rules": rules}
    return out


@pytest.fixture
def no_system(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """os.system, recording any call instead of running it: policy text that ran would show here."""
    calls: list[Any] = []
    monkeypatch.setattr(os, "system", calls.append)
    return calls


@pytest.mark.parametrize("shape", sorted(hostile_policies()))
def test_policy_text_never_becomes_code(shape: str, no_system: list[Any]) -> None:
    policy = compile_policy(hostile_policies()[shape], name=HOSTILE[8], secrets={}.get)
    assert (policy.index.keyed_on is not None) is shape.startswith("indexed")
    source = generate(policy)[0]
    for text in HOSTILE:
        for form in (text, repr(text), json.dumps(text)):
            assert form not in source, f"{form!r} written into the generated source"
    assert "__import__" not in source and "system" not in source and "import os" not in source
    tree = ast.parse(source)
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert strings <= GENERATOR_STRINGS, strings - GENERATOR_STRINGS
    compile(source, "<generated>", "exec")
    allowed = 0
    for text in HOSTILE:
        spec = RequestSpec(
            headers={text: text, HOSTILE[6]: text, "x-client": text, "x-api-key": text, f"{text}-key": text},
            query={text: text},
        )
        for kind in EVENT_KINDS:
            for mode in MODES.values():
                answered, decision = compare(policy, spec.to_event(kind), mode)
                assert answered, (text, kind, decision.reason)
                if kind != "token":  # TOKEN events carry no headers
                    assert decision.rule == text, (text, kind, decision.reason)
                    assert decision.principal == text and decision.context[text] == text
                    allowed += 1
    assert allowed == len(HOSTILE) * (len(EVENT_KINDS) - 1) * len(MODES)  # every kind but TOKEN
    assert no_system == []


# -- 5. lambda_handler: the engine when a record is wanted or the fast path gives up ----------------------
OPEN = "version: 1\nrules:\n  - {name: open, effect: allow, when: {header.x-ok: 'yes'}, context: {k: v}}\n"
FROM_HEADER = "version: 1\nrules:\n  - {name: r, effect: allow, principal: {from: header.x-user}}\n"


@pytest.fixture
def booted(use_policy: Callable[..., Any]) -> Callable[..., Runtime]:
    """Write a policy, point the handler at it (tests/conftest.py), boot fresh."""

    def boot(text: str, **env: str) -> Runtime:
        use_policy(text, **env)
        return handler.boot()

    return boot


@pytest.fixture
def log_level() -> Iterator[Callable[[int], None]]:
    before = handler._stdlib_logger.level
    yield handler.logger.setLevel
    handler.logger.setLevel(before)


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every event the handler hands to the engine (`evaluate`)."""
    calls: list[Any] = []
    real = evaluate_module.evaluate

    def spy(item: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(item)
        return real(item, *args, **kwargs)

    monkeypatch.setattr(evaluate_module, "evaluate", spy)  # the handler imports it when it needs the engine
    return calls


def answer_fast(item: Any, runtime: Runtime) -> Any:
    """What the handler's generated path answers for this runtime's policy and settings."""
    policy = runtime.store.current() if runtime.store is not None else None
    assert policy is not None and runtime.settings is not None
    return generated_response(item, policy, runtime.settings.response)


def decision_lines(log_output: Any) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    return [line for line in lines if line.get("message") == "decision"]


def unauthorized(item: Any) -> bool:
    with pytest.raises(Exception) as info:
        handler.lambda_handler(item, None)
    assert type(info.value) is Exception and info.value.args == ("Unauthorized",), repr(info.value)
    return True


def test_decision_lines_at_info_come_from_the_fast_path(booted, log_level, log_output, engine_calls) -> None:
    """At INFO the generated function answers and its line is the one the engine would have written."""
    runtime = booted(OPEN)
    allowed, refused = (RequestSpec(headers=h).to_event("rest") for h in ({"x-ok": "yes"}, {}))
    log_level(logging.INFO)
    at_info = handler.lambda_handler(allowed, None)
    assert unauthorized(refused)
    assert engine_calls == [], "the fast path answers when a record is wanted too"
    lines = decision_lines(log_output)
    assert [(d["effect"], d.get("rule"), d["reason"]) for d in lines] == [
        ("allow", "open", "rule matched"),
        ("unauthorized", None, "no rule matched"),
    ]
    policy = runtime.store.current()
    for item, line in zip((allowed, refused), lines, strict=True):
        decision, request, _ = evaluate(item, policy)
        expected = decision_record(decision, request, policy, 0, cold_start=line["cold_start"], lambda_request_id=None)
        assert [k for k in line if k in expected] == list(expected)
        assert all(line[k] == v for k, v in expected.items() if k != "duration_us"), (line, expected)
    log_level(logging.WARNING)
    assert handler.lambda_handler(allowed, None) == at_info
    assert unauthorized(refused)
    assert engine_calls == [] and len(decision_lines(log_output)) == 2


def test_simple_responses_at_warning_come_from_the_fast_path(booted, log_level, engine_calls) -> None:
    booted(OPEN, AUTHORIZER_RESPONSE="simple")
    log_level(logging.WARNING)
    allowed, refused = (RequestSpec(headers=h).to_event("http-v2") for h in ({"x-ok": "yes"}, {}))
    assert handler.lambda_handler(allowed, None) == {"isAuthorized": True, "context": {"k": "v"}}
    assert handler.lambda_handler(refused, None) == {"isAuthorized": False}
    assert engine_calls == []


def test_metrics_alone_come_from_the_fast_path(booted, log_level, engine_calls, capsys) -> None:
    booted(OPEN, AUTHORIZER_METRICS="true")
    log_level(logging.WARNING)
    allowed, refused = (RequestSpec(headers=h).to_event("rest") for h in ({"x-ok": "yes"}, {}))
    assert handler.lambda_handler(allowed, None)["principalId"] == "open"
    assert unauthorized(refused)
    assert engine_calls == []
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [m.get("Allow", 0) + m.get("Unauthorized", 0) * 10 for m in metrics] == [1, 10]


@pytest.mark.parametrize(
    ("kind", "refusal", "allowed"),
    [("rest", None, "ann"), ("http-v2", {"isAuthorized": False}, {"isAuthorized": True})],
)
def test_fallback_ends_in_the_engine_refusal(booted, log_level, engine_calls, kind, refusal, allowed) -> None:
    runtime = booted(FROM_HEADER, AUTHORIZER_RESPONSE="simple")
    log_level(logging.WARNING)
    missing = RequestSpec().to_event(kind)
    assert answer_fast(missing, runtime) is FALLBACK, "the principal's header is missing"
    if refusal is None:
        assert unauthorized(missing)
    else:
        assert handler.lambda_handler(missing, None) == refusal
    assert engine_calls == [missing]
    answer = handler.lambda_handler(RequestSpec(headers={"x-user": "ann"}).to_event(kind), None)
    assert (answer["principalId"] if kind == "rest" else answer) == allowed
    assert engine_calls == [missing], "with the header there, the fast path answers"


# -- 6. exceptions inside the generated code ----------------------------------------------------------
RAISING = {
    "inlined": "version: 1\nrules:\n  - {name: r, effect: allow, when: {header.x-a: {prefix: a}}}\n",
    "indexed": "version: 1\nrules:\n"
    + "".join(
        f"  - {{name: k{i}, effect: allow, when: {{header.x-k: v{i}, header.x-a: {{prefix: a}}}}}}\n" for i in range(9)
    ),
}


def boom(*args: Any) -> Any:
    raise RuntimeError("boom")


def with_raising_test(policy: CompiledPolicy) -> CompiledPolicy:
    """The policy with every `prefix` test raising, its generated function rebuilt around that."""
    for rule in policy.rules:
        for node in rule.conditions:
            if isinstance(node, Check) and node.op == "prefix":
                node.test = boom
    return policy.replace(fast=build(policy))


@pytest.fixture
def serving(monkeypatch: pytest.MonkeyPatch, log_level: Callable[[int], None]) -> Callable[..., Runtime]:
    """Make lambda_handler use this policy, with no decision record wanted (the fast path's case)."""
    log_level(logging.WARNING)

    def serve(policy: CompiledPolicy, mode: ResponseMode | None) -> Runtime:
        runtime = Runtime(Settings(metrics=False, response=mode), StaticPolicyStore(policy))
        monkeypatch.setattr(handler, "_runtime", runtime)
        return runtime

    return serve


@pytest.mark.parametrize("kind", ["rest", "http-v2"])
@pytest.mark.parametrize("shape", sorted(RAISING))
def test_a_raising_condition_falls_back_and_refuses(serving, engine_calls, shape, kind) -> None:
    item = RequestSpec(headers={"x-k": "v3", "x-a": "abc"}).to_event(kind)
    for mode in MODES.values():
        intact = serving(compile_yaml(RAISING[shape]), mode)
        assert answer_fast(item, intact) not in (FALLBACK, *REFUSALS), "the untouched policy allows this event"
        runtime = serving(with_raising_test(compile_yaml(RAISING[shape])), mode)
        assert answer_fast(item, runtime) is FALLBACK
        decision, _request, response = evaluate(item, runtime.store.current(), mode)  # type: ignore[union-attr]
        assert decision.reason.startswith("internal error"), decision.reason
        if response is None:
            assert unauthorized(item)
        else:
            assert handler.lambda_handler(item, None) == response == {"isAuthorized": False}
    assert engine_calls == [item] * len(MODES)


def test_a_fast_path_failure_leaves_the_engine_answer(serving, engine_calls, monkeypatch) -> None:
    """The response builder raising in the generated code only: the engine's Allow still stands."""
    runtime = serving(compile_yaml(RAISING["inlined"]), MODES["policy"])
    policy = runtime.store.current()  # type: ignore[union-attr]
    assert policy is not None and policy.fast is not None
    assert "IAM" in policy.fast.__globals__, "the generated code's response builder"
    item = RequestSpec(headers={"x-a": "abc"}).to_event("rest")
    expected = evaluate(item, policy)[2]
    assert expected is not None and answer_fast(item, runtime) == expected
    monkeypatch.setitem(policy.fast.__globals__, "IAM", boom)
    assert answer_fast(item, runtime) is FALLBACK
    assert handler.lambda_handler(item, None) == expected
    assert answer_fast(None, runtime) is FALLBACK and unauthorized(None)
    assert engine_calls == [item, None]


def test_a_generator_failure_keeps_the_policy_for_the_engine(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in the generator must not lose a good policy (every request would be refused): the
    policy loads without a generated function, a warning says so, and the engine decides."""
    monkeypatch.setattr(generated_module, "build", boom)
    with caplog.at_level(logging.WARNING, logger="authorizer.policy"):
        policy = StaticPolicyStore(compile_yaml(OPEN)).current()
    assert policy is not None and policy.fast is None
    assert "no generated decision function" in caplog.text
    item = RequestSpec(headers={"x-ok": "yes"}).to_event("rest")
    assert generated_response(item, policy) is FALLBACK
    response = evaluate(item, policy)[2]
    assert response is not None and response["policyDocument"]["Statement"][0]["Effect"] == "Allow"


# -- 8. the generated function's bytecode, compiled by `make package` ---------------------------------
def test_packaged_bytecode_is_used_only_for_the_very_same_source(tmp_path: Path) -> None:
    """A store uses the packaged source's bytecode when that file holds exactly what it generates, and
    compiles the source itself otherwise: another policy's, a stale or broken file."""
    from authorizer.policy.load import packaged_source
    from authorizer.stores.file import FilePolicyStore

    policy = tmp_path / "policy.yaml"
    policy.write_text(OPEN)
    packaged = packaged_source(policy)
    packaged.parent.mkdir(exist_ok=True)
    item = RequestSpec(headers={"x-ok": "yes"}).to_event("rest")

    def code_of_a_fresh_store() -> str:
        store = FilePolicyStore(str(policy))
        current = store.current()
        assert current is not None and current.fast is not None
        assert generated_response(item, current)["principalId"] == "open"
        return str(current.fast.__code__.co_filename)

    assert code_of_a_fresh_store().startswith("<policy"), "nothing packaged: compiled here"
    packaged.write_text(generate(compile_yaml(OPEN))[0])
    assert code_of_a_fresh_store() == str(packaged), "the very source: its bytecode"
    packaged.write_text(generate(compile_yaml(FROM_HEADER))[0])
    assert code_of_a_fresh_store().startswith("<policy"), "another policy's source: compiled here"
    packaged.write_text(generate(compile_yaml(OPEN))[0])
    pyc = Path(importlib.util.cache_from_source(str(packaged)))
    pyc.parent.mkdir(exist_ok=True)
    unchecked = b"\x01\x00\x00\x00"  # as make package writes them: trusted without reading the source
    pyc.write_bytes(importlib.util.MAGIC_NUMBER + unchecked + b"\x00" * 8 + b"not marshal data")
    assert code_of_a_fresh_store().startswith("<policy"), "broken bytecode (trusted unchecked): compiled here"
