"""Requests people wrote down: the cases of the test suites that name the policy, each built for every
event kind (a case described as a request; a case naming an event file is that event), and event
files (`<policy folder>/events/<policy name>/*.json`, or any given with `--corpus`).

Suites' secret values are not used: a diff gives every secret a stand-in (versions.py), so cases
carrying a test secret stand for "a wrong secret" here; generated requests carry the stand-in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authorizer.diff.requests import KIND_NAMES
from authorizer.policy.yamlsource import load_yaml
from authorizer.testing.discover import yaml_files
from authorizer.testing.suite import is_suite, load_suite


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event from the corpus and where it came from (`file:line: case [kind]`, or the event file)."""

    origin: str
    event: Any


class CorpusError(Exception):
    """A corpus path that cannot be used: exit 2."""


def _suites(path: Path) -> list[Path]:
    found = []
    for file in yaml_files(path) if path.is_dir() else [path]:
        try:
            data, _ = load_yaml(file.read_bytes())
        except Exception:  # not YAML, unreadable: not a suite (`authorizer validate` reports it)
            continue
        if is_suite(data):
            found.append(file)
    return found


def _events(path: Path) -> list[Path]:
    return sorted(path.rglob("*.json")) if path.is_dir() else [path] if path.suffix == ".json" else []


def collect(policy: Path, extra: list[str]) -> list[Recorded]:
    """The recorded requests for `policy` (a working-tree file): suites naming it, and event files."""
    wanted = policy.resolve()
    event_paths = _events(policy.parent / "events" / policy.stem)
    suite_paths = _suites(policy.parent)
    for text in extra:
        path = Path(text)
        if not path.exists():
            raise CorpusError(f"{text}: no such file or folder")
        event_paths += _events(path)
        suite_paths += _suites(path)
    out: list[Recorded] = []
    for suite_path in dict.fromkeys(suite_paths):
        expanded: set[int] = set()  # a case listing several kinds is one request
        for case in load_suite(suite_path).cases:
            if case.policy.resolve() != wanted or case.line in expanded:
                continue
            where = f"{suite_path}:{case.line}"
            if case.spec is None:
                out.append(Recorded(f"{where}: {case.name}", case.event))
                continue
            expanded.add(case.line)
            name = case.name.rsplit(" [", 1)[0] if case.name.endswith("]") else case.name
            out += [Recorded(f"{where}: {name} [{kind}]", case.spec.to_event(kind)) for kind in KIND_NAMES]
    for event_path in dict.fromkeys(event_paths):
        try:
            out.append(Recorded(str(event_path), json.loads(event_path.read_bytes().decode("utf-8-sig"))))
        except (OSError, ValueError) as exc:
            raise CorpusError(f"{event_path}: not a readable JSON event: {exc}") from None
    return out
