"""The generated decision function reads every header a policy names in one call before its rules
(`readers.headers_values`, `sources.headers_reader`), finding the map's folding plan once. It must
answer exactly as reading each header on its own does, which the engine does: the same values, the
same empty-value filtering, and a BadEvent whenever any one read would raise one."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from authorizer.event.builder import RequestSpec
from authorizer.event.kinds import KINDS
from authorizer.event.readers import BadEvent, classify, header_values, headers_values
from authorizer.policy.sources import headers_reader, lookup

NAMES = st.sampled_from(["x-a", "X-A", "x-A", "x-b", "X-B", "origin", "Origin", "user-agent", "x-c"])
VALUES = st.sampled_from(["", "v", "w", "v,w", " v , w ", "a,,b"]) | st.integers() | st.none() | st.just(["v"])
BASE = {name: RequestSpec().to_event(name) for name in ("rest", "websocket", "http-v1", "http-v2")}  # maps replaced


@st.composite
def events(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    kind_name = draw(st.sampled_from(sorted(BASE)))
    event = dict(BASE[kind_name])
    single = draw(st.dictionaries(NAMES, VALUES, max_size=6))
    event["headers"] = single
    if KINDS[kind_name].value_maps == "multi":
        agreeing = {k: [v] if isinstance(v, str) else v for k, v in single.items()}
        multi = draw(st.just(agreeing) | st.dictionaries(NAMES, st.lists(VALUES, max_size=2) | VALUES, max_size=6))
        if draw(st.booleans()):  # the same names in another order
            multi = dict(reversed(list(multi.items())))
        event["multiValueHeaders"] = multi
    kind, _, _ = classify(event)
    return event, kind


def one_by_one(event: dict[str, Any], kind: Any, names: tuple[str, ...]) -> list[Any]:
    out = []
    for name in names:
        try:
            out.append(header_values(event, kind, name))
        except BadEvent:
            out.append(BadEvent)
    return out


@settings(max_examples=400, deadline=None)
@given(case=events(), names=st.lists(NAMES.map(str.lower), min_size=1, max_size=4, unique=True).map(tuple))
def test_headers_read_at_once_as_one_by_one(case: tuple[dict[str, Any], Any], names: tuple[str, ...]) -> None:
    event, kind = case
    separately = one_by_one(event, kind, names)
    try:
        together: list[Any] = headers_values(event, kind, names)
    except BadEvent:
        assert BadEvent in separately, separately
        return
    assert together == separately


@settings(max_examples=200, deadline=None)
@given(case=events(), names=st.lists(NAMES.map(str.lower), min_size=1, max_size=4, unique=True).map(tuple))
def test_the_policy_reader_filters_as_each_lookup(case: tuple[dict[str, Any], Any], names: tuple[str, ...]) -> None:
    event, kind = case
    _, _, arn = classify(event)
    separately: list[Any] = []
    for name in names:
        try:
            separately.append(lookup(f"header.{name}").read(event, kind, arn))
        except BadEvent:
            separately.append(BadEvent)
    try:
        together: list[Any] = headers_reader(names)(event, kind, arn)
    except BadEvent:
        assert BadEvent in separately
        return
    assert together == separately
