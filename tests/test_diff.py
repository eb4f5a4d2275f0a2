"""`authorizer diff` on mutated copies of every shipped policy: each change lands in its group, every
example is a real request that reproduces it (as kept, and rebuilt from what is printed), and an
identical copy reports nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from authorizer.decide.evaluate import evaluate
from authorizer.diff.changes import Group, kind_of_change
from authorizer.diff.compare import PolicyDiff, compare
from authorizer.diff.corpus import collect
from authorizer.diff.requests import event
from authorizer.event.request import Request
from authorizer.policy.load import LoadedPolicy
from authorizer.policy.sources import REDACTED, getter
from tests.conftest import POLICIES
from tests.diff_mutations import MUTATIONS, Mutation, mutate

SHIPPED = sorted(p.stem for p in POLICIES.glob("*.yaml"))


def load_pair(policy: str, new_text: str) -> tuple[LoadedPolicy, LoadedPolicy]:
    from authorizer.diff.versions import load_version

    path = POLICIES / f"{policy}.yaml"
    return load_version(str(path), path.read_bytes()), load_version("mutated.yaml", new_text.encode())


def diff_of(policy: str, new_text: str) -> tuple[PolicyDiff, LoadedPolicy, LoadedPolicy]:
    old, new = load_pair(policy, new_text)
    return compare(old, new, collect(POLICIES / f"{policy}.yaml", [])), old, new


def reproduces(event_: object, group: Group, old: LoadedPolicy, new: LoadedPolicy) -> bool:
    before, after = evaluate(event_, old.policy), evaluate(event_, new.policy)
    found = (kind_of_change(before, after), before.decision.rule, after.decision.rule)
    return found == (group.group, group.before_rule, group.after_rule)


def rebuilt(group: Group) -> object:
    """The printed example as a request again: its route and values, redacted ones read back from the
    kept event (the test knows them; the report never prints them)."""
    example = group.example
    request = Request(example.event)
    values = {}
    for source, shown in example.values.items():
        if shown == REDACTED:
            values[source] = getter(source)(request)
        else:
            values[source] = tuple(shown) if isinstance(shown, list) else (shown,)
    method, _, path = example.route.partition(" ")
    route = (method, path) if path else ("GET", "/")
    return event(example.kind, route, values)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: f"{m.policy}: {m.name}")
def test_each_mutation_is_reported_in_its_group(mutation: Mutation) -> None:
    text = (POLICIES / f"{mutation.policy}.yaml").read_text()
    diff, old, new = diff_of(mutation.policy, mutate(text, mutation))
    groups = {g.group for g in diff.groups}
    assert mutation.group in groups, [g.as_dict() for g in diff.groups]
    assert groups <= {mutation.group, *mutation.also}
    assert diff.exhaustive and not diff.unproven
    for group in diff.groups:
        assert reproduces(group.example.event, group, old, new), group.as_dict()
        assert group.differs, "every group says what differs"
        assert group.before.at is None or group.before.at.startswith(str(POLICIES))
        assert group.after.at is None or group.after.at.startswith("mutated.yaml:")


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: f"{m.policy}: {m.name}")
def test_printed_examples_are_real_requests(mutation: Mutation) -> None:
    text = (POLICIES / f"{mutation.policy}.yaml").read_text()
    diff, old, new = diff_of(mutation.policy, mutate(text, mutation))
    for group in diff.groups:
        if group.example.origin == "generated":  # recorded examples are their event file or suite case
            assert reproduces(rebuilt(group), group, old, new), group.as_dict()


@pytest.mark.parametrize("policy", SHIPPED)
def test_an_identical_copy_reports_nothing(policy: str) -> None:
    diff, _, _ = diff_of(policy, (POLICIES / f"{policy}.yaml").read_text())
    assert diff.status == "identical" and diff.groups == []
    assert diff.requests > 50, "the comparison decided requests (not vacuous)"


def test_the_corpus_expands_suite_cases_for_every_kind() -> None:
    recorded = collect(POLICIES / "example.yaml", [])
    origins = [r.origin for r in recorded]
    assert any(o.endswith("[token]") for o in origins) and any(o.endswith("[http-v2]") for o in origins)
    assert any(o.endswith(".json") for o in origins), "the policy's event files"


def test_a_change_only_the_corpus_sees_is_found_from_it(tmp_path: Path) -> None:
    """A JMESPath condition is not analysed: the corpus (here an event file) is what finds its change."""
    policy = (
        'version: 1\nrules:\n  - name: r\n    effect: allow\n    when: {jmespath: "headers.\\"x-odd\\" == \'zz\'"}\n'
    )
    old, new = (tmp_path / "old.yaml"), (tmp_path / "new.yaml")
    old.write_text(policy)
    new.write_text(policy.replace("'zz'", "'zy'"))
    from authorizer.diff.versions import load_version
    from authorizer.event.builder import RequestSpec

    sample = tmp_path / "sample.json"
    import json

    sample.write_text(json.dumps(RequestSpec(headers={"x-odd": "zz"}).to_event("rest")))
    a, b = load_version(str(old), old.read_bytes()), load_version(str(new), new.read_bytes())
    without = compare(a, b, [])
    with_corpus = compare(a, b, collect(new, [str(sample)]))
    assert without.unproven and "jmespath" in without.unproven[0].condition
    assert [g.group for g in with_corpus.groups] == ["narrowed"]
    assert with_corpus.groups[0].example.origin == str(sample)
