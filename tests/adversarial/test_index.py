"""The rule index must never change a decision: for random policies big enough to be indexed (rules
keyed on a plain header, on a secret-bearing one compared by digest, or on the route, or on their
pattern for a header or query parameter (regex, glob, prefix, suffix, contains: one RE2 set, several
patterns matching one value); the keyed condition first or last in its rule; unkeyed rules, `not`,
`any`, other value modes and route scopes among them) and random events (the keyed value present,
missing, repeated, conflicting, in another case, not ASCII, a lone surrogate), deciding with the
index answers exactly as trying every rule in order, on the engine and on the generated code; and so
it does when the pattern set cannot answer (RE2 out of memory: every rule is tried)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from authorizer.decide.evaluate import evaluate
from authorizer.decide.generated import FALLBACK, build
from authorizer.event.builder import RequestSpec
from authorizer.policy.ir import CompiledPolicy, RuleIndex
from authorizer.policy.load import load
from tests.conftest import generated_response

KEYS = ["a", "b", "c", "A", "secret-1", "secret-2"]
OTHER = ["x", "y"]
KEYED_ON = {"plain": "header.x-client", "secret": "header.x-api-key", "query": "query.client"}
PATTERNS_ON = {"patterns": "header.x-client", "query patterns": "query.client"}
PATTERNS = {  # each operator's arguments, overlapping so that one value often matches several rules
    "regex": ["a", "[ab]", "a|c", ".*", "s.*-1", "[^-]*", "A", "x?", "é"],
    "glob": ["a", "*", "?", "s*", "*-1", "secret-?", "A*", "*é*"],
    "prefix": ["", "a", "s", "secret-", "A", "é"],
    "suffix": ["", "1", "-2", "a", "t-1"],
    "contains": ["", "e", "cr", "-", "é"],
}


def pattern_condition(draw: st.DrawFn, keyed: bool = True) -> dict[str, Any]:
    op = draw(st.sampled_from(sorted(PATTERNS)))
    condition: dict[str, Any] = {op: draw(st.sampled_from(PATTERNS[op]))}
    if not keyed:  # another value mode: the index keys single values only
        condition["values"] = draw(st.sampled_from(["any", "all", "joined"]))
    elif draw(st.integers(0, 6)) == 0:  # a second test on the same value
        condition["not"] = {"equals": draw(st.sampled_from(KEYS))}
    return condition


@st.composite
def indexed_policies(draw: st.DrawFn) -> dict[str, Any]:
    shape = draw(st.sampled_from([*KEYED_ON, "route", *PATTERNS_ON]))
    rules: list[dict[str, Any]] = []
    for i in range(draw(st.integers(8, 14))):
        rule: dict[str, Any] = {"name": f"k{i}", "effect": draw(st.sampled_from(["allow", "allow", "deny"]))}
        extra: dict[str, Any] = {}
        if draw(st.booleans()):
            extra["header.x-other"] = draw(st.sampled_from(OTHER))
        if draw(st.integers(0, 4)) == 0:
            extra["not"] = {"query.flag": "on"}
        if draw(st.integers(0, 4)) == 0:
            extra["any"] = [{"header.x-other": "x"}, {"query.flag": {"exists": True}}]
        if shape == "route":
            rule["routes"] = [draw(st.sampled_from(["GET /a", "POST /a", "GET /b", "GET /a/1"]))]
            when = extra
        else:
            value = draw(st.sampled_from(KEYS))
            if shape in PATTERNS_ON:
                keyed = {PATTERNS_ON[shape]: pattern_condition(draw)}
            elif draw(st.integers(0, 5)) == 0:  # one rule compares the source with a secret too: digest keys for all
                keyed = {KEYED_ON[shape]: {"equals": value, "not": {"secret": "k"}}}
            else:
                keyed = {KEYED_ON[shape]: value}
            when = {**keyed, **extra} if draw(st.booleans()) else {**extra, **keyed}  # keyed first, or last
            if draw(st.integers(0, 5)) == 0:
                rule["routes"] = ["GET /a/*"]
        if when:
            rule["when"] = when
        rules.append(rule)
    for _ in range(draw(st.integers(0, 3))):  # unkeyed rules among them
        at = draw(st.integers(0, len(rules)))
        when = {"header.x-other": "y"}
        if shape in PATTERNS_ON and draw(st.booleans()):  # the same source, in another value mode
            when = {PATTERNS_ON[shape]: pattern_condition(draw, keyed=False)}
        rules.insert(at, {"name": f"u{at}-{len(rules)}", "effect": "allow", "when": when})
    return {
        "version": 1,
        "on_no_match": draw(st.sampled_from(["unauthorized", "deny"])),
        "secrets": {"k": {"env": "INDEX_TEST_SECRET"}},
        "rules": rules,
    }


VALUES = st.one_of(
    st.sampled_from([*KEYS, "", "zz", "é", "secret-é"]), st.lists(st.sampled_from(KEYS), min_size=2, max_size=3)
)
HEADER_VALUES = VALUES | st.just("\ud800a")  # a lone surrogate (the builder cannot quote one in a query string)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    for name in ("x-client", "x-api-key", "x-other"):
        if draw(st.booleans()):
            spelled = name.upper() if draw(st.integers(0, 3)) == 0 else name
            headers[spelled] = draw(HEADER_VALUES) if name != "x-other" else draw(st.sampled_from(OTHER))
    query: dict[str, Any] = {}
    if draw(st.booleans()):
        query["client"] = draw(VALUES)
    if draw(st.booleans()):
        query["flag"] = "on"
    spec = RequestSpec(
        method=draw(st.sampled_from(["GET", "POST"])),
        path=draw(st.sampled_from(["/a", "/b", "/a/1"])),
        headers=headers,
        query=query,
    )
    return spec.to_event(draw(st.sampled_from(["rest", "http-v1", "http-v2", "websocket", "token"])))


def scanning(policy: CompiledPolicy) -> CompiledPolicy:
    """The same policy trying every rule in order: no index."""
    return policy.replace(index=RuleIndex(None, {}, policy.rules), fast=None)


def generated(policy: CompiledPolicy) -> CompiledPolicy:
    return policy.replace(fast=build(policy))


def exact(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def unsure(policy: CompiledPolicy) -> CompiledPolicy:
    """The same pattern index, its RE2 set never able to answer (as when its DFA runs out of memory)."""
    index = policy.index
    unable = RuleIndex(
        index.keyed_on,
        index.table,
        index.rest,
        index.get,
        index.lookup,
        index.value_key,
        lambda text: None,
        index.keyed,
        index.every,
    )
    return policy.replace(index=unable)


def check_same(data: dict[str, Any], items: list[dict[str, Any]]) -> None:
    indexed = load("indexed.yaml", yaml.safe_dump(data).encode()).policy
    assert indexed.index.keyed_on is not None, "the policy must be indexed for the property to mean anything"
    event(f"keyed on {indexed.index.keyed_on}{' (patterns)' if indexed.index.patterns else ''}")
    scan = scanning(indexed)
    others = [indexed, *([unsure(indexed)] if indexed.index.patterns else [])]
    fast_scan = generated(scan)
    for policy in others:
        fast = generated(policy)
        for item in items:
            with_index, without = evaluate(item, policy), evaluate(item, scan)
            summary = (with_index.decision.effect, with_index.decision.rule, with_index.decision.principal)
            assert summary == (without.decision.effect, without.decision.rule, without.decision.principal), item
            assert exact(with_index.response) == exact(without.response)
            answers = [generated_response(item, fast), generated_response(item, fast_scan)]
            answers = [without.response if a is FALLBACK else a for a in answers]
            assert exact(answers[0]) == exact(answers[1]) == exact(without.response), item


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=indexed_policies(), items=st.lists(events(), min_size=1, max_size=8))
def test_the_index_never_changes_a_decision(data: dict[str, Any], items: list[dict[str, Any]]) -> None:
    check_same(data, items)


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=indexed_policies(), items=st.lists(events(), min_size=1, max_size=8))
def test_the_index_never_changes_a_decision_long(data: dict[str, Any], items: list[dict[str, Any]]) -> None:
    check_same(data, items)
