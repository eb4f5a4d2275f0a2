"""Properties over random policy pairs (tests/test_reference_strategies.py): every change the diff
reports reproduces when its example is decided by both versions, and a policy diffed with itself
reports nothing."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authorizer.decide.evaluate import evaluate
from authorizer.diff import generate
from authorizer.diff.changes import kind_of_change
from authorizer.diff.compare import compare
from authorizer.diff.versions import load_version
from tests.test_reference_strategies import policies

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _small_searches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random policies can have large products: keep each comparison to a few thousand requests."""
    monkeypatch.setattr(generate, "PRODUCT_LIMIT", 800)
    monkeypatch.setattr(generate, "DIRECTED_LIMIT", 1500)
    monkeypatch.setattr(generate, "FIRE_LIMIT", 200)


def _check_pair(old_data: dict, new_data: dict) -> None:
    old = load_version("old.yaml", yaml.safe_dump(old_data).encode())
    new = load_version("new.yaml", yaml.safe_dump(new_data).encode())
    for group in compare(old, new, []).groups:
        before, after = evaluate(group.example.event, old.policy), evaluate(group.example.event, new.policy)
        assert kind_of_change(before, after) == group.group
        assert (before.decision.rule, after.decision.rule) == (group.before_rule, group.after_rule)


def _check_self(data: dict) -> None:
    loaded = load_version("p.yaml", yaml.safe_dump(data).encode())
    again = load_version("p.yaml", yaml.safe_dump(data).encode())
    assert compare(loaded, again, []).groups == []


@FAST
@given(old=policies(), new=policies())
def test_every_reported_change_reproduces(old: dict, new: dict) -> None:
    _check_pair(old, new)


@FAST
@given(data=policies(), cut=st.integers(0, 3))
def test_a_small_edit_reports_only_real_changes(data: dict, cut: int) -> None:
    edited = {**data, "rules": [r for i, r in enumerate(data["rules"]) if i != cut]}
    _check_pair(data, edited)


@FAST
@given(data=policies())
def test_a_policy_diffed_with_itself_reports_nothing(data: dict) -> None:
    _check_self(data)


@pytest.mark.slow
@LONG
@given(old=policies(), new=policies())
def test_every_reported_change_reproduces_long(old: dict, new: dict) -> None:
    _check_pair(old, new)
