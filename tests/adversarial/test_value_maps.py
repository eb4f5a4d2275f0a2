"""REST, WebSocket and HTTP API 1.0 events carry each header (and query parameter) twice: in a
single-value map holding the last value, and in a multi-value map holding them all. API Gateway
always writes the two alike; an event where they disagree on a name the policy reads (a value in
one map only, an empty string or a non-string beside a good value, a single value that is not the
last one listed) is refused, on both handler paths, whatever the condition and its `values` mode,
and whichever rule would read the name first. Names the policy never reads do not matter."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authorizer.event.builder import RequestSpec
from tests.adversarial.conftest import allowed, both_paths, served

MAPS = {
    "header": ("headers", "multiValueHeaders"),
    "query": ("queryStringParameters", "multiValueQueryStringParameters"),
}
NAMES = {"header": "X-Role", "query": "role"}
JUNK = [5, 1.5, True, None, [], ["admin"], {}, {"v": "admin"}]

Mutation = Callable[[dict[str, Any], dict[str, Any], str], None]  # (single map, multi map, key)
MUTATIONS: dict[str, Mutation] = {
    "value only in the single map": lambda single, multi, key: multi.pop(key),
    "value only in the multi map": lambda single, multi, key: single.pop(key),
    "empty single beside a good list": lambda single, multi, key: single.update({key: ""}),
    "good single beside an empty string listed": lambda single, multi, key: multi.update({key: [""]}),
    "good single beside an empty list": lambda single, multi, key: multi.update({key: []}),
    "single is not the last value listed": lambda single, multi, key: multi.update({key: ["admin", "user"]}),
    "another value listed": lambda single, multi, key: multi.update({key: ["user"]}),
}
HEADER_ONLY = {  # header names fold case, so another spelling is the same header
    "another spelling in one map": lambda single, multi, key: single.update({key.swapcase(): "user"}),
}
for _junk in JUNK:
    MUTATIONS[f"single is {_junk!r}"] = lambda single, multi, key, junk=_junk: single.update({key: junk})
    if _junk != ["admin"]:  # that one is the list itself
        MUTATIONS[f"listed is {_junk!r}"] = lambda single, multi, key, junk=_junk: multi.update({key: junk})
    MUTATIONS[f"list holds {_junk!r}"] = lambda single, multi, key, junk=_junk: multi.update({key: ["admin", junk]})


def event_with(family: str, kind: str, mutation: str | None, *, name: str | None = None) -> dict[str, Any]:
    """An event whose `family` maps hold `role: admin` (and `other: x`), then mutated at `name`."""
    key = name or NAMES[family]
    spec = RequestSpec(**{"headers" if family == "header" else "query": {NAMES[family]: "admin", "other": "x"}})
    event = spec.to_event(kind)
    if kind == "http-v1" and family == "header":
        key = key.lower()
    if mutation is not None:
        single_name, multi_name = MAPS[family]
        {**MUTATIONS, **HEADER_ONLY}[mutation](event[single_name], event[multi_name], key)
    return event


CONDITIONS = [  # each allows the unmutated event; one keeps a missing value from satisfying it
    "{SOURCE: admin}",
    "{SOURCE: {values: any, equals: admin}}",
    "{SOURCE: {values: all, prefix: adm}}",
    "{SOURCE: {values: joined, regex: '.*admin.*'}}",
    "{SOURCE: {not: [user, guest]}}",
    "{SOURCE: {exists: true}}",
    "{any: [{SOURCE: admin}, {SOURCE: {values: any, equals: admin}}]}",
]


def policy_for(family: str, condition: str, *, first_rule_reads_other: bool = False) -> str:
    source = f"{family}.{NAMES[family] if family == 'query' else 'x-role'}"
    rules = "version: 1\nrules:\n"
    if first_rule_reads_other:  # a rule that never gets as far as reading SOURCE
        rules += f"  - {{name: first, effect: allow, when: {{{family}.other: nope, {source}: admin}}}}\n"
    return rules + f"  - {{name: r, effect: allow, when: {condition.replace('SOURCE', source)}}}\n"


@pytest.mark.parametrize("kind", ["rest", "websocket", "http-v1"])
@pytest.mark.parametrize("family", sorted(MAPS))
@pytest.mark.parametrize("condition", CONDITIONS)
def test_the_unmutated_event_is_allowed(kind: str, family: str, condition: str) -> None:
    """The baseline: without a disagreement every condition lets the event in (else the tests below mean nothing)."""
    policy = served(policy_for(family, condition))
    assert all(allowed(r) for r in both_paths(policy, event_with(family, kind, None)))


@pytest.mark.parametrize(
    ("mutation", "family"), [(m, f) for m in sorted(MUTATIONS) for f in sorted(MAPS)] + [(*HEADER_ONLY, "header")]
)
def test_every_disagreement_is_refused(mutation: str, family: str) -> None:
    for kind in ("rest", "websocket", "http-v1"):
        for condition in CONDITIONS:
            for reads_other_first in (False, True):
                policy = served(policy_for(family, condition, first_rule_reads_other=reads_other_first))
                event = event_with(family, kind, mutation)
                assert both_paths(policy, copy.deepcopy(event)) == (None, None), (kind, condition)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_disagreement_on_a_name_no_rule_reads_changes_nothing(mutation: str) -> None:
    policy = served(policy_for("header", CONDITIONS[0]))
    event = event_with("header", "rest", None)
    event["headers"]["Unread"], event["multiValueHeaders"]["Unread"] = "a", ["a"]
    MUTATIONS[mutation](event["headers"], event["multiValueHeaders"], "Unread")
    assert all(allowed(r) for r in both_paths(policy, event))


def test_one_map_alone_is_read_alone() -> None:
    """Console tests and some samples send a single map: it is read, not refused."""
    policy = served(policy_for("header", CONDITIONS[0]))
    for missing in ("headers", "multiValueHeaders"):
        for absent in (None, "drop"):
            event = event_with("header", "rest", None)
            if absent is None:
                event[missing] = None
            else:
                del event[missing]
            assert all(allowed(r) for r in both_paths(policy, event)), (missing, absent)


def test_the_same_name_spelled_differently_in_each_map_agrees() -> None:
    policy = served(policy_for("header", CONDITIONS[0]))
    event = event_with("header", "rest", None)
    event["headers"] = {"X-ROLE": "admin"}
    event["multiValueHeaders"] = {"x-role": ["admin"]}
    assert all(allowed(r) for r in both_paths(policy, event))


# -- the property: any disagreement, anywhere in the maps a policy reads, refuses ----------------------
_TEXT = st.text(max_size=6)
JUNK_VALUES = st.recursive(  # what a hand-made or hostile event could hold where a value belongs
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=2),
    max_leaves=5,
)
DRAWN: dict[str, Callable[[Any], Mutation]] = {  # the mutations above, with any junk in place of JUNK's
    "single is drawn junk": lambda junk: lambda single, multi, key: single.update({key: junk}),
    "listed is drawn junk": lambda junk: lambda single, multi, key: multi.update({key: junk}),
    "list holds drawn junk": lambda junk: lambda single, multi, key: multi.update({key: ["admin", junk]}),
}


def _agrees(mutation: str, junk: Any) -> bool:
    """Junk that happens to describe the same request: the value itself, or a list of values ending in it."""
    if mutation == "single is drawn junk":
        return junk == "admin"
    if mutation == "listed is drawn junk":
        return (
            isinstance(junk, list)
            and bool(junk)
            and junk[-1] == "admin"
            and all(isinstance(v, str) and v for v in junk)
        )
    return False


NOISE_NAMES = st.text("abcdefgXYZ-_", min_size=1, max_size=6).filter(
    lambda n: n.lower() not in {"x-role", "role", "other"}
)


@st.composite
def disagreements(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """One disagreement on the name the policy reads, spelled in any case (headers), among unread noise
    that may disagree too."""
    family = draw(st.sampled_from(sorted(MAPS)))
    kind = draw(st.sampled_from(["rest", "websocket", "http-v1"]))
    condition = draw(st.sampled_from(CONDITIONS))
    single_name, multi_name = MAPS[family]
    event = event_with(family, kind, None)
    single, multi = event[single_name], event[multi_name]
    key = next(k for k in single if k.lower() == NAMES[family].lower())
    if family == "header":  # the same header in another case, alike in both maps
        spelled = draw(st.sampled_from([key, key.lower(), key.upper(), key.swapcase(), key.title()]))
        single[spelled], multi[spelled] = single.pop(key), multi.pop(key)
        key = spelled
    for name in draw(st.lists(NOISE_NAMES, max_size=3, unique=True)):
        value = draw(_TEXT)
        single[name], multi[name] = value, draw(st.sampled_from([[value], [value, value], ["x", value], [value, "x"]]))
    fixed = sorted(MUTATIONS) + (sorted(HEADER_ONLY) if family == "header" else [])
    mutation = draw(st.sampled_from(fixed + sorted(DRAWN)))
    if mutation in DRAWN:
        junk = draw(JUNK_VALUES.filter(lambda j: not _agrees(mutation, j)))
        DRAWN[mutation](junk)(single, multi, key)
    else:
        {**MUTATIONS, **HEADER_ONLY}[mutation](single, multi, key)
    first = draw(st.booleans())
    return policy_for(family, condition, first_rule_reads_other=first), condition, event


_POLICIES: dict[str, Any] = {}


def check_refused(case: tuple[str, str, dict[str, Any]]) -> None:
    text, condition, event = case
    policy = _POLICIES.get(text) or _POLICIES.setdefault(text, served(text))
    assert both_paths(policy, event) == (None, None), (condition, event)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=disagreements())
def test_disagreeing_maps_are_refused(case: tuple[str, str, dict[str, Any]]) -> None:
    check_refused(case)


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=disagreements())
def test_disagreeing_maps_are_refused_long(case: tuple[str, str, dict[str, Any]]) -> None:
    check_refused(case)
