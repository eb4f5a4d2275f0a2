"""An event's kind comes only from what API Gateway sets (`type`, `version`, the ARN's shape,
requestContext.eventType), never from what the caller chooses: a REST path that ends in
`$connect` is a REST request, and events whose parts disagree on their kind are refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authorizer.event.builder import RequestSpec
from authorizer.event.kinds import NAMES
from authorizer.event.readers import BadEvent, classify
from tests.adversarial.conftest import allowed, both_paths, served

CONNECT_ONLY = "version: 1\nrules:\n  - {name: ws, effect: allow, routes: [$connect]}\n"
KIND_RULES = "version: 1\nrules:\n  - {name: ws, effect: allow, when: {kind: websocket}}\n"


@pytest.mark.parametrize("path", ["/$connect", "/chat/$connect", "/x/%24connect", "/$connect/"])
@pytest.mark.parametrize("kind", ["rest", "http-v1", "http-v2", "token"])
def test_a_path_ending_in_connect_is_not_a_websocket_connect(path: str, kind: str) -> None:
    event = RequestSpec(path=path).to_event(kind)
    assert classify(event)[0].name == kind
    for text in (CONNECT_ONLY, KIND_RULES):
        assert not any(allowed(r) for r in both_paths(served(text), event)), (text, path)


def test_the_real_connect_is_allowed_by_those_rules() -> None:
    event = RequestSpec().to_event("websocket")
    for text in (CONNECT_ONLY, KIND_RULES):
        assert all(allowed(r) for r in both_paths(served(text), event))


def _websocket_without(field: str) -> dict[str, Any]:
    event = RequestSpec().to_event("websocket")
    del event["requestContext"][field]
    return event


def _mutated(kind: str, change: Any) -> dict[str, Any]:
    event = RequestSpec().to_event(kind)
    change(event)
    return event


DISAGREEING = {
    "REST ARN, eventType CONNECT": _mutated("rest", lambda e: e["requestContext"].update(eventType="CONNECT")),
    "websocket ARN, eventType MESSAGE": _mutated(
        "websocket", lambda e: e["requestContext"].update(eventType="MESSAGE")
    ),
    "websocket ARN for $default": _mutated(
        "websocket", lambda e: e.update(methodArn=e["methodArn"].replace("$connect", "$default"))
    ),
    "HTTP 1.0 event with a route ARN": _mutated(
        "http-v1", lambda e: e.update(methodArn=e["methodArn"].rsplit("/", 2)[0] + "/$connect")
    ),
    "HTTP 2.0 event, eventType CONNECT": _mutated("http-v2", lambda e: e["requestContext"].update(eventType="CONNECT")),
    "TOKEN event with a route ARN": _mutated(
        "token", lambda e: e.update(methodArn=e["methodArn"].rsplit("/", 2)[0] + "/$connect")
    ),
    "TOKEN event with a version": _mutated("token", lambda e: e.update(version="1.0")),
}


@pytest.mark.parametrize("name", sorted(DISAGREEING))
def test_events_whose_parts_disagree_on_the_kind_are_refused(name: str) -> None:
    event = DISAGREEING[name]
    with pytest.raises(BadEvent):
        classify(event)
    open_policy = served("version: 1\nrules:\n  - {name: open, effect: allow}\n")
    assert both_paths(open_policy, copy.deepcopy(event)) == (None, None)


def test_a_connect_without_event_type_is_still_a_connect() -> None:
    """requestContext.eventType may be missing (console tests): the ARN alone says `$connect`."""
    assert classify(_websocket_without("eventType"))[0].name == "websocket"


PATHS = st.lists(st.sampled_from(["$connect", "connect", "$default", "a", "%24connect", "", ":", "$"]), max_size=4)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(NAMES), parts=PATHS, method=st.sampled_from(["GET", "POST", "DELETE"]))
def test_every_built_event_is_the_kind_it_was_built_as(kind: str, parts: list[str], method: str) -> None:
    """Whatever the caller puts in the path and method, the kind is the one API Gateway's event says."""
    event = RequestSpec(method=method, path="/" + "/".join(parts)).to_event(kind)
    assert classify(event)[0].name == kind
