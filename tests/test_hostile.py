"""Hostile policies and inputs: regexes stay linear on attacker input (RE2), large headers and
events cost bounded time and memory, and the policy loader answers every byte string with either a
policy or `file:line:col: message` problems: no traceback, no alias bomb, no object construction.

Time bounds here are generous ceilings (seconds where the real cost is milliseconds), only to turn
a hang into a failure; speed itself is measured by the benchmarks.
"""

from __future__ import annotations

import json
import re
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authorizer.decide.decision import Trace
from authorizer.decide.engine import decide
from authorizer.decide.evaluate import evaluate
from authorizer.event.builder import RequestSpec
from authorizer.event.request import Request
from authorizer.policy.errors import PolicyError
from authorizer.policy.ir import CompiledPolicy
from authorizer.policy.load import MAX_POLICY_BYTES, load
from authorizer.policy.regex import FullMatcher
from tests.conftest import POLICIES

CEILING_SECONDS = 10.0  # a hang, not a slowness, fails these tests
PROBLEM = re.compile(r"^[^\n]+:\d+:\d+: (warning: )?\S.*$")


def compile_yaml(text: str) -> CompiledPolicy:
    return load("hostile.yaml", text.encode()).policy


def bounded(action: Callable[[], Any], seconds: float = CEILING_SECONDS) -> Any:
    started = time.perf_counter()
    result = action()
    assert time.perf_counter() - started < seconds
    return result


def peak_bytes(action: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def one_rule(conditions: str) -> str:
    return f"version: 1\nrules:\n  - name: r\n    effect: allow\n    when:\n{conditions}"


# -- regular expressions --------------------------------------------------------------------------
# (pattern, does it match 100 KB of "a"?): each takes Python's `re` exponential time on "a" * 100_000 + "!"
REDOS = [
    ("(a+)+$", True),
    ("(a|aa)+$", True),
    ("(a|a?)+$", True),
    ("(.*a){12}$", True),
    ("^(\\w+\\s?)*$", True),
    ("(a*)*b", False),
    ("([a-z]+)*[0-9]$", False),
]


@pytest.mark.parametrize(("pattern", "matches"), REDOS)
def test_catastrophic_patterns_run_in_linear_time_on_100_kb(pattern: str, matches: bool) -> None:
    policy = compile_yaml(one_rule(f"      header.x-in: {{regex: {json.dumps(pattern)}}}\n"))
    attack = Request(RequestSpec(headers={"x-in": "a" * 100_000 + "!"}).to_event("rest"))
    assert bounded(lambda: decide(policy, attack)).effect == "unauthorized"
    plain = Request(RequestSpec(headers={"x-in": "a" * 100_000}).to_event("rest"))
    assert bounded(lambda: decide(policy, plain)).effect == ("allow" if matches else "unauthorized")
    assert bounded(lambda: FullMatcher(pattern)("a" * 100_000)) is matches


def test_glob_with_many_stars_is_linear() -> None:
    glob = "*a" * 40 + "*b"
    policy = compile_yaml(one_rule(f"      header.x-in: {{glob: '{glob}'}}\n"))
    request = Request(RequestSpec(headers={"x-in": "a" * 100_000}).to_event("rest"))
    assert bounded(lambda: decide(policy, request)).effect == "unauthorized"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("(a)\\1", "backreference"), ("(?=a)a", "lookahead"), ("a{1001}", "repeat"), ("((a{100}){100}){100}", "big")],
)
def test_patterns_re2_cannot_run_in_linear_time_are_refused_at_load(pattern: str, reason: str) -> None:
    with pytest.raises(PolicyError) as info:
        compile_yaml(one_rule(f"      header.x-in: {{regex: {json.dumps(pattern)}}}\n"))
    assert all(PROBLEM.match(str(p)) for p in info.value.problems), reason
    assert "hostile.yaml:6:" in str(info.value)


def test_routes_with_many_wildcards_are_linear() -> None:
    route = "GET /" + "*/" * 30 + "{id}"
    policy = compile_yaml(f"version: 1\nrules:\n  - {{name: r, effect: allow, routes: ['{route}']}}\n")
    request = Request(RequestSpec(path="/" + "a/" * 20_000 + "x").to_event("rest"))
    assert bounded(lambda: decide(policy, request)).effect == "allow"


# -- large inputs ---------------------------------------------------------------------------------
EVERY_OPERATOR = one_rule(
    "      header.x-big: {values: all, not_equals: a, not_one_of: [b], prefix: v, suffix: v, contains: vv,\n"
    "                     regex: 'v+', glob: 'v*v', not: {cidr: 10.0.0.0/8}, exists: true}\n"
    "      header.x-num: {lt: 1}\n"
    "      header.x-api-key: the-key\n"
    '      jmespath: "length(headers.\\"x-big\\") > `5`"\n'
)


@pytest.mark.parametrize("kind", ["rest", "http-v2"])
def test_10_kb_header_values_through_every_operator(kind: str) -> None:
    """API Gateway's header limit is 10 KB in all: each value at the limit, and a number that long."""
    policy = compile_yaml(EVERY_OPERATOR)
    value = "v" * 10_240
    headers = {"x-big": value, "x-num": "0" * 10_239 + "1", "x-api-key": "k" * 10_240}
    request = Request(RequestSpec(headers=headers).to_event(kind))
    assert bounded(lambda: decide(policy, request), 2.0).effect == "unauthorized"  # x-num is not a short number
    headers["x-num"], headers["x-api-key"] = "0", "the-key"
    request = Request(RequestSpec(headers=headers).to_event(kind))
    assert bounded(lambda: decide(policy, request), 2.0).effect == "allow"
    assert peak_bytes(lambda: decide(policy, Request(RequestSpec(headers=headers).to_event(kind)), Trace())) < 2_000_000


def _with_headers(base: dict[str, Any], extra: dict[str, str]) -> dict[str, Any]:
    """`base` with more headers, in both maps where the kind has two (so that every reader runs in full)."""
    event = dict(base)
    event["headers"] = {**base["headers"], **extra}
    if "multiValueHeaders" in base:
        event["multiValueHeaders"] = {**base["multiValueHeaders"], **{k: [v] for k, v in extra.items()}}
    return event


def _megabyte_events() -> Iterator[tuple[str, dict[str, Any]]]:
    """1 MB events of every awkward shape (API Gateway never sends these; a broken caller might)."""
    for kind in ("rest", "http-v2"):
        base = RequestSpec(headers={"x-api-key": "the-key"}).to_event(kind)
        yield f"{kind}: 60k distinct headers", _with_headers(base, {f"h{i}": "v" for i in range(60_000)})
        yield f"{kind}: 40k spellings of one header", _with_headers(base, {_case(i): "k" for i in range(40_000)})
        yield f"{kind}: one 1 MB header", _with_headers(base, {"x-big": "a," * 500_000})
        wide = dict(base)  # only one map holds them: the maps disagree, the request is refused
        wide["headers"] = {**base["headers"], **{f"h{i}": "v" for i in range(60_000)}}
        yield f"{kind}: 60k headers in one map only", wide
        deep = dict(base)
        deep["requestContext"] = {**base["requestContext"], "deep": _nested(100_000)}
        yield f"{kind}: requestContext nested 100k deep", deep
        query = dict(base)
        query["queryStringParameters"] = {"q": "x" * 1_000_000}
        query["multiValueQueryStringParameters"] = {"q": ["x"] * 199_999 + ["x" * 1_000_000]}
        yield f"{kind}: 1 MB of query", query


def _case(i: int) -> str:
    """The i-th spelling of SPELLED: bit n of i upper-cases its n-th letter."""
    letters = iter(range(len(SPELLED)))
    return "".join(c.upper() if c.isalpha() and i >> next(letters) & 1 else c for c in SPELLED)


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"k": [value]}
    return value


SPELLED = "x-one-header-name-spelled-many-ways"
MEGABYTE_EVENTS = list(_megabyte_events())
NEVER = "header.never: sent"  # no event sends it: every rule reads its heavy part, then fails
HEAVY_CONDITIONS = [  # each reads one awkward part of the event in full, before failing
    f"header.x-api-key: {{secret: key}}, {NEVER}",
    f"query.q: {{values: any, prefix: x}}, {NEVER}",
    f"header.x-big: {{values: any, regex: 'a+'}}, {NEVER}",
    f"header.{SPELLED}: {{values: all, equals: k}}, {NEVER}",
    f"context.deep.k: {{exists: true}}, {NEVER}",
    "jmespath: \"length(keys(headers)) > `0` && length(keys(query)) >= `0` && headers.never == 'sent'\"",
    "jmespath: \"to_string(context) != '' && headers.never == 'sent'\"",
]
BIG_POLICY = "version: 1\nsecrets: {key: {env: HOSTILE_KEY}}\nrules:\n" + "".join(
    f"  - {{name: r{i}, effect: allow, when: {{{condition}}}}}\n" for i, condition in enumerate(HEAVY_CONDITIONS)
)


@pytest.mark.parametrize(("label", "item"), MEGABYTE_EVENTS, ids=[label for label, _ in MEGABYTE_EVENTS])
def test_1_mb_events_take_bounded_time_and_memory(label: str, item: dict[str, Any]) -> None:
    policy = load("big.yaml", BIG_POLICY.encode(), secrets={"key": "the-key"}.get).policy
    decisions = []
    assert peak_bytes(lambda: decisions.append(bounded(lambda: evaluate(item, policy).decision))) < 64_000_000
    assert decisions[0].effect == "unauthorized", label  # no rule holds: `header.never` is never sent


# -- the loader ------------------------------------------------------------------------------------
def assert_clean_refusal_or_policy(raw: bytes) -> None:
    """compile_text answers any bytes with a policy or PolicyError problems; nothing else escapes."""
    try:
        load("fuzz.yaml", raw)
    except PolicyError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert PROBLEM.match(str(problem)), str(problem)
            assert problem.line >= 1 and problem.col >= 1


EXAMPLE = (POLICIES / "example.yaml").read_bytes()
KITCHEN = b"""version: 1
on_no_match: deny
secrets: {k: {env: X}}
redact: [header.x-session]
rules:
  - name: a
    effect: allow
    routes: ["GET /a/{id}", $connect]
    when:
      header.x: {values: any, regex: "a+", not: [b, c]}
      any: [{query.q: {cidr: [10.0.0.0/8]}}, {token: {secret: k}}]
      not: {stage.s: {lt: 5}}
      jmespath: "length(keys(headers)) > `1`"
    principal: {from: header.x}
    context: {n: 1, b: true, s: {from: path.p}}
"""
JUNK_BYTES = st.sampled_from(
    [b":", b"-", b"{", b"[", b"&a", b"*a", b"!!", b"\t", b"\x00", b"\xff", b"\n  ", b"'", b'"', b"<<", b"? ", b"%"]
)


@st.composite
def mutated_policies(draw: st.DrawFn) -> bytes:
    text = bytearray(draw(st.sampled_from([EXAMPLE, KITCHEN])))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert":
            text[at:at] = draw(JUNK_BYTES | st.binary(max_size=4))
        elif action == "delete":
            del text[at : at + draw(st.integers(1, 8))]
        else:
            text[at : at + 1] = draw(JUNK_BYTES)
    return bytes(text)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=10), kids, max_size=3),
    max_leaves=15,
)
POLICY_KEYS = ["version", "rules", "name", "effect", "when", "routes", "principal", "context", "secrets", "resource"]


@st.composite
def structured_policies(draw: st.DrawFn) -> bytes:
    """YAML whose shape is policy-like but whose values are anything (types, nesting, unknown keys)."""
    rule = draw(st.dictionaries(st.sampled_from(POLICY_KEYS) | st.text(max_size=6), JSONISH, max_size=5))
    policy = draw(st.dictionaries(st.sampled_from(POLICY_KEYS), JSONISH, max_size=4))
    policy.setdefault("version", 1)
    policy.setdefault("rules", [rule])
    return yaml.safe_dump(policy, allow_unicode=True).encode()


OPERATOR_NAMES = ["equals", "one_of", "regex", "glob", "cidr", "prefix", "lt", "not", "exists", "secret", "values"]
TEXTISH = st.text(max_size=20) | st.sampled_from(["(", "[", "a{99999}", "\\", "*", "10.0.0.0/33", "$connect", ".inf"])


@st.composite
def junk_conditions(draw: st.DrawFn) -> bytes:
    """Well-formed policies whose conditions, routes and JMESPath hold junk: the compiler's messages."""
    source = draw(st.sampled_from(["header.x", "query.q", "token", "context.a.b", "headers.x", "cookie."]) | TEXTISH)
    operators = st.dictionaries(st.sampled_from(OPERATOR_NAMES), JSONISH | TEXTISH, max_size=3)
    rule: dict[str, Any] = {"name": "r", "effect": "allow", "when": {source: draw(operators | JSONISH)}}
    if draw(st.booleans()):
        rule["when"]["jmespath"] = draw(TEXTISH)
    if draw(st.booleans()):
        rule["routes"] = draw(st.lists(TEXTISH, max_size=2))
    policy = {"version": 1, "secrets": {"k": {"env": "K"}}, "rules": [rule]}
    return yaml.safe_dump(policy, allow_unicode=True).encode()


FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(FUZZ, max_examples=300)
@given(raw=st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_loader_never_tracebacks_on_arbitrary_bytes(raw: bytes) -> None:
    assert_clean_refusal_or_policy(raw)


@settings(FUZZ, max_examples=300)
@given(raw=mutated_policies())
def test_loader_never_tracebacks_on_mutated_policies(raw: bytes) -> None:
    assert_clean_refusal_or_policy(raw)


@settings(FUZZ, max_examples=150)
@given(raw=structured_policies())
def test_loader_never_tracebacks_on_policy_shaped_junk(raw: bytes) -> None:
    assert_clean_refusal_or_policy(raw)


@settings(FUZZ, max_examples=200)
@given(raw=junk_conditions())
def test_loader_never_tracebacks_on_junk_conditions(raw: bytes) -> None:
    assert_clean_refusal_or_policy(raw)


@pytest.mark.slow
@settings(FUZZ, max_examples=10_000)
@given(raw=st.binary(max_size=2_000) | mutated_policies() | structured_policies() | junk_conditions())
def test_loader_fuzz_long(raw: bytes) -> None:
    assert_clean_refusal_or_policy(raw)


def _laughs(levels: int) -> bytes:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return ("\n".join(lines) + f"\nversion: 1\nrules: *a{levels - 1}\n").encode()


@pytest.mark.parametrize("levels", [6, 20])
def test_alias_bombs_are_refused_quickly(levels: int) -> None:
    """10**levels strings if expanded: refused after MAX_NODES values, whatever the depth."""
    with pytest.raises(PolicyError, match="alias expansion bomb"):
        bounded(lambda: load("bomb.yaml", _laughs(levels)), 5.0)


@pytest.mark.slow
def test_alias_bomb_refusal_stays_small() -> None:
    def refuse() -> None:
        with pytest.raises(PolicyError):
            load("bomb.yaml", _laughs(20))

    assert peak_bytes(refuse) < 200_000_000


@pytest.mark.parametrize(
    "document",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "version: 1\nrules: !!python/object/apply:os.system ['touch {marker}']",
        "version: 1\nrules: [!!python/object/new:os.system ['touch {marker}']]",
        "version: !!python/name:os.system 1\nrules: []",
        "version: 1\nrules: !!python/object:argparse.Namespace {{x: 1}}",
        "version: 1\nrules: !!set {{a, b}}",
        "version: 1\nrules: !!omap [a: 1]",
        "version: 1\nrules: []\ndescription: !!binary aGk=",
        "version: 1\nrules: []\ndescription: 2024-01-01",
        "version: 1\nrules: []\ndescription: !custom x",
        "version: 1\nrules: []\n!!python/tuple [a]: x",
    ],
)
def test_object_constructing_tags_are_refused(document: str, tmp_path: Any) -> None:
    marker = tmp_path / "constructed"
    with pytest.raises(PolicyError, match=r"tag|key"):
        load("tags.yaml", document.format(marker=marker).encode())
    assert not marker.exists()


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200)),
        one_rule('      jmespath: "' + "!" * 10_000 + 'a"\n'),
        one_rule('      jmespath: "' + "(" * 5_000 + "a" + ")" * 5_000 + '"\n'),
        one_rule("      header.x: {lt: 1" + "0" * 5_000 + "}\n"),
        "version: 1\nrules: []\n<<: {a: 1}\n",
        "version: 1\nrules: []\n" + "x" * (MAX_POLICY_BYTES + 1),
    ],
    ids=["deep-flow", "deep-block", "deep-jmespath", "nested-jmespath", "huge-number", "merge-key", "too-big"],
)
def test_pathological_policies_are_clean_problems(text: str) -> None:
    assert bounded(lambda: assert_clean_refusal_or_policy(text.encode()), 5.0) is None
