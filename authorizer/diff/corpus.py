"""Requests people wrote down: the cases of the test suites that name the policy, each built for every
event kind (a case described as a request; a case naming an event file is that event), and event
files (`<policy folder>/events/<policy name>/*.json`, or any given with `--corpus`).

Suites' secret values are not used: a diff gives every secret a stand-in (versions.py), so cases
carrying a test secret stand for "a wrong secret" here; generated requests carry the stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authorizer.diff.requests import KIND_NAMES
from authorizer.files import kind_of, read_bytes, read_json
from authorizer.policy.load import MAX_POLICY_BYTES
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
    for file in yaml_files(path) if kind_of(path) == "folder" else [path]:
        try:
            data, _ = load_yaml(read_bytes(file, MAX_POLICY_BYTES))
        except Exception:  # not YAML, unreadable: not a suite (`authorizer validate` reports it)
            continue
        if is_suite(data):
            found.append(file)
    return found


def _events(path: Path) -> list[Path]:
    return sorted(path.rglob("*.json")) if kind_of(path) == "folder" else [path] if path.suffix == ".json" else []


def collect(policy: Path, extra: list[str]) -> list[Recorded]:
    """The recorded requests for `policy` (a working-tree file): suites naming it, and event files."""
    wanted = policy.resolve()
    event_paths = _events(policy.parent / "events" / policy.stem)
    suite_paths = _suites(policy.parent)
    for text in extra:
        path, found = Path(text), kind_of(text)
        if found in ("missing", "other"):
            raise CorpusError(f"{text}: {'no such file or folder' if found == 'missing' else 'not a file or folder'}")
        events, suites = _events(path), _suites(path)
        if not events and not suites:  # nothing usable where the user pointed: a mistake, not an empty corpus
            usable = "no test suites or .json event files in this folder"
            raise CorpusError(f"{text}: {usable if found == 'folder' else 'not a test suite or a .json event file'}")
        event_paths += events
        suite_paths += suites
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
            out.append(Recorded(str(event_path), read_json(event_path)))
        except (OSError, ValueError) as exc:
            raise CorpusError(f"{event_path}: not a readable JSON event: {exc}") from None
    return out
