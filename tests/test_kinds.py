"""The event-kind table (authorizer/event/kinds.py) is the one place kinds are listed: every other
list of kinds is derived from it or checked against it here."""

from __future__ import annotations

import typing

import pytest

from authorizer.event.builder import BUILDERS, RequestSpec
from authorizer.event.kinds import KINDS, NAMES, kind_named
from authorizer.event.readers import classify
from authorizer.testing.suite import Kind


def test_one_builder_per_kind() -> None:
    assert tuple(BUILDERS) == NAMES


def test_suite_files_name_the_same_kinds() -> None:
    assert typing.get_args(Kind) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_built_event_reads_back_as_its_kind(name: str) -> None:
    kind = kind_named(name)
    event = RequestSpec().to_event(kind)
    read, arn_text, _ = classify(event)
    assert read is kind and arn_text == event[kind.arn_field]
    assert event["type"] == kind.type and event.get("version") == kind.version


def test_unknown_kind_names_the_kinds() -> None:
    with pytest.raises(ValueError, match="one of token, rest"):
        kind_named("graphql")


def test_kinds_are_distinct_and_named_once() -> None:
    shapes = {(k.type, k.version, k.connect) for k in KINDS.values()}
    assert len(shapes) == len(KINDS), "two kinds an event could not tell apart"
    assert all(str(kind) == name for name, kind in KINDS.items())
