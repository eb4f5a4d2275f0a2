"""Finding policy and test-suite files in the paths a command was given."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from authorizer.files import kind_of, read_bytes
from authorizer.policy.load import MAX_POLICY_BYTES
from authorizer.policy.yamlsource import YamlProblems, read_yaml
from authorizer.testing.suite import is_suite

YAML_SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = ("__authorizer_cache__", "node_modules")


_NOT_USABLE = {"missing": "no such file or folder", "other": "not a file or folder"}


def yaml_files(folder: Path) -> Iterator[Path]:
    """Every YAML file below `folder`, in order, skipping caches and hidden folders."""
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(p in SKIPPED_DIRS or p.startswith(".") for p in parts):
            continue
        if path.suffix in YAML_SUFFIXES and kind_of(path) == "file":
            yield path


def discover_suites(paths: list[str]) -> tuple[list[Path], list[Path], list[str]]:
    """(suite files, policy files seen in folders, unusable paths)."""
    suites: list[Path] = []
    policies: list[Path] = []
    unusable: list[str] = []
    for text in paths:
        path, what = Path(text), kind_of(text)
        if what == "file":
            suites.append(path)
            continue
        if what != "folder":
            unusable.append(f"{text}: {_NOT_USABLE[what]}")
            continue
        found = 0
        for file in yaml_files(path):
            try:
                data = read_yaml(read_bytes(file, MAX_POLICY_BYTES), located=0)[0]  # what it holds, not where
            except (OSError, YamlProblems):
                data = None
                if "tests" not in file.relative_to(path).parts[:-1]:
                    continue  # a broken policy: `authorizer validate` reports it
            if data is None or is_suite(data):
                suites.append(file)  # a broken file in tests/ runs as a broken suite: it must not vanish
                found += 1
            elif isinstance(data, dict) and "rules" in data:
                policies.append(file)
        if not found:
            unusable.append(f"{text}: no test suites (YAML files with `cases`) in this folder")
    return list(dict.fromkeys(suites)), policies, unusable


def collect_files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """The YAML files named or found in folders, and the paths that name nothing usable."""
    files: list[Path] = []
    unusable: list[str] = []
    for text in paths:
        path, what = Path(text), kind_of(text)
        if what == "folder":
            found = list(yaml_files(path))
            if not found:
                unusable.append(f"{text}: no *.yaml or *.yml files in this folder")
            files += found
        elif what == "file":
            files.append(path)
        else:
            unusable.append(f"{text}: {_NOT_USABLE[what]}")
    return list(dict.fromkeys(files)), unusable
