"""Loading suites cheaply without losing a position: a parse that records only the top levels (as
suites and discovery parse) reads the same data and the same positions there; a suite whose cases
load without problems is parsed once, and a problem deep in a case is still located exactly (the
text parsed again, in full); paths shown follow the working directory; the garbage collector
paused while loading comes back as it was."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from authorizer.cli.test_cmd import display
from authorizer.policy import yamlsource
from authorizer.policy.collector import collector_paused
from authorizer.policy.yamlsource import load_yaml
from authorizer.testing import suite as suite_module
from authorizer.testing.suite import CASE_PATHS, load_suite
from tests.conftest import POLICIES

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([*POLICIES.rglob("*.yaml"), *(REPO / "tests" / "data").rglob("*.yaml")])


@pytest.mark.parametrize("located", [0, 1, CASE_PATHS, 3])
@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_a_parse_locating_the_top_levels_reads_the_same(path: Path, located: int) -> None:
    raw = path.read_bytes()
    try:
        data, full = load_yaml(raw)
    except yamlsource.YamlProblems as exc:
        with pytest.raises(yamlsource.YamlProblems) as partial:
            load_yaml(raw, located=located)
        assert partial.value.problems == exc.problems, "the same problems, at the same positions"
        return
    same, partial = load_yaml(raw, located=located)
    assert same == data
    for table in ("keys", "values", "typed"):
        want = {loc: at for loc, at in getattr(full, table).items() if len(loc) <= located}
        assert getattr(partial, table) == want, table


SUITE = """\
policy: ../policy.yaml
cases:
  - name: allowed
    request: {headers: {x-role: admin}}
    expect: {effect: allow, rule: admins}
  - name: refused
    request: {headers: {x-role: guest}}
    expect: {effect: unauthorized}
"""
POLICY = "version: 1\nrules:\n  - {name: admins, effect: allow, when: {header.x-role: admin}}\n"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """How each parse of a suite located its positions (None: every one)."""
    seen: list[int | None] = []
    real = suite_module.read_yaml

    def spy(data: bytes, *, located: int | None = None) -> Any:
        seen.append(located)
        return real(data, located=located)

    monkeypatch.setattr(suite_module, "read_yaml", spy)
    return seen


def write(folder: Path, suite: str) -> Path:
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "tests").mkdir()
    path = folder / "tests" / "suite.yaml"
    path.write_text(suite)
    return path


def test_a_suite_without_problems_is_parsed_once_with_each_cases_line(tmp_path: Path, parses: list[Any]) -> None:
    loaded = load_suite(write(tmp_path, SUITE))
    assert not loaded.problems and not loaded.warnings
    assert [(c.name, c.line) for c in loaded.cases] == [("allowed", 3), ("refused", 6)]
    assert parses == [CASE_PATHS]


def test_a_problem_deep_in_a_case_is_located_exactly(tmp_path: Path, parses: list[Any]) -> None:
    broken = SUITE.replace("expect: {effect: allow, rule: admins}", "expect: {effect: allow}")
    loaded = load_suite(write(tmp_path, broken))
    where = load_yaml(broken.encode())[1].locate(("cases", 0, "expect"))
    assert [(p.line, p.col, p.severity) for p in loaded.warnings] == [(*where, "warning")]
    assert parses == [CASE_PATHS, None], "parsed again, in full, for the warning's position"
    invalid = tmp_path / "tests" / "invalid.yaml"
    invalid.write_text(SUITE.replace("effect: unauthorized", "effect: unauthorised"))
    (problem,) = load_suite(invalid).problems
    where = load_yaml(invalid.read_bytes())[1].locate(("cases", 1, "expect", "effect"))
    assert (problem.line, problem.col) == where == (8, 22) and "unauthorised" in problem.message


def test_display_follows_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = tmp_path / "a" / "policy.yaml"
    monkeypatch.chdir(tmp_path)
    assert display(inside) == "a/policy.yaml"
    monkeypatch.chdir(REPO)
    assert display(inside) == str(inside), "outside the working directory: as given"


def test_the_collector_paused_comes_back_as_it_was() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner pause does not turn it back on"
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled(), "off before, off after"
    finally:
        gc.enable()
