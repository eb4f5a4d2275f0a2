"""README.md's first screen holds: it fits on a screen, and the make targets and files the README
names exist."""

from __future__ import annotations

import re

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
TARGETS = set(re.findall(r"^([A-Za-z][\w-]*):", (REPO / "Makefile").read_text(), re.MULTILINE))


def test_the_first_screen_fits() -> None:
    first = README.split("\n## ", 1)[0]
    assert len(first.splitlines()) <= 24, "keep the title, the pitch, make serve / make test and how to try them"
    assert "make serve" in first and "make test" in first


def test_every_make_target_named_exists() -> None:
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", README))
    assert named and named <= TARGETS, f"no such make target: {sorted(named - TARGETS)}"


def test_every_file_named_exists() -> None:
    named = set(re.findall(r"`((?:policies|deploy|schemas|docs|authorizer|benchmarks)/[\w./-]+)`", README))
    named |= set(re.findall(r"\]\(((?:docs/)?[\w-]+\.md)\)", README))
    missing = sorted(path for path in named if "<" not in path and not (REPO / path).exists())
    assert named and not missing, f"README.md names files that do not exist: {missing}"
