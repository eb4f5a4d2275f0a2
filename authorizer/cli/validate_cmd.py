"""`authorizer validate PATH... [--strict] [--format text|json]`: every problem in every policy file.

Built on the loader (which already collects every YAML, structure and meaning problem with its
file:line:col) plus `authorizer.lint` warnings for policies that load. A YAML file whose top
level has `cases` and no `rules` is a test suite and is checked against the suite model instead.
Exit 0 clean (warnings allowed unless --strict), 1 on any error, 2 when a path is missing or unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from authorizer.cli.io import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from authorizer.policy.errors import PolicyError, Problem
from authorizer.policy.yamlsource import YamlProblems, load_yaml

YAML_SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = ("__authorizer_cache__", "node_modules")


@dataclass(slots=True)
class FileReport:
    path: str
    kind: Literal["policy", "test-suite"] = "policy"
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")


def is_suite(data: Any) -> bool:
    """Test-suite files and policies live side by side; a suite has `cases` and no `rules`."""
    return isinstance(data, dict) and "cases" in data and "rules" not in data


def yaml_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(p in SKIPPED_DIRS or p.startswith(".") for p in parts):
            continue
        if path.suffix in YAML_SUFFIXES and path.is_file():
            yield path


def check_file(path: Path, raw: bytes) -> FileReport:
    """Every problem in one file: errors from the loader, then (if it loads) lint warnings."""
    from authorizer.lint import lint
    from authorizer.policy.load import MAX_POLICY_BYTES, compile_text, validate_data

    name = str(path)
    report = FileReport(name)
    try:
        if len(raw) > MAX_POLICY_BYTES:  # the loader reports it without parsing
            raise YamlProblems([])
        data, smap = load_yaml(raw)
    except YamlProblems:  # compile_text reports them
        data, smap = None, None
    if smap is not None and is_suite(data):
        from authorizer.testing.suite import load_suite

        loaded = load_suite(path)
        report.kind = "test-suite"
        report.problems = [*loaded.problems, *loaded.warnings]
        return report
    try:
        validated = validate_data(name, data, smap) if smap is not None else None
        compiled, validated = compile_text(name, raw, validated=validated)
    except PolicyError as exc:
        report.problems = list(exc.problems)
        return report
    if smap is not None:
        for loc, message in lint(validated, compiled):
            line, col = smap.locate(loc)
            report.problems.append(Problem(name, line, col, message, "warning"))
    return report


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "validate",
        help="check policy files (and test suites): every problem as file:line:col",
        description="Check policy files or folders of them (test suites found there too). Exit 0 when clean, "
        "1 on any error (or warning, with --strict), 2 when a path cannot be read.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="policy file or folder (searched for *.yaml, *.yml)")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 1)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
    p.set_defaults(run=run)


def _collect(paths: list[str]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    unusable: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = list(yaml_files(path))
            if not found:
                unusable.append(f"{text}: no *.yaml or *.yml files in this folder")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            unusable.append(f"{text}: no such file or folder")
    return list(dict.fromkeys(files)), unusable


def run(args: argparse.Namespace) -> int:
    files, unusable = _collect(args.paths)
    reports: list[FileReport] = []
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            unusable.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        reports.append(check_file(path, raw))
    errors = sum(r.errors for r in reports)
    warnings = sum(r.warnings for r in reports)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "files": [
                        {
                            "path": r.path,
                            "kind": r.kind,
                            "errors": r.errors,
                            "warnings": r.warnings,
                            "problems": [
                                {
                                    "file": p.file,
                                    "line": p.line,
                                    "col": p.col,
                                    "severity": p.severity,
                                    "message": p.message,
                                }
                                for p in r.problems
                            ],
                        }
                        for r in reports
                    ],
                    "unreadable": unusable,
                    "errors": errors,
                    "warnings": warnings,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        for report in reports:
            for problem in report.problems:
                print(problem)
        print(
            f"{len(reports)} file{'s' if len(reports) != 1 else ''} checked: "
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}",
            file=sys.stderr,
        )
    for message in unusable:
        print(f"authorizer validate: {message}", file=sys.stderr)
    if unusable:
        return EXIT_USAGE
    if errors or (args.strict and warnings):
        return EXIT_FINDINGS
    return EXIT_OK
