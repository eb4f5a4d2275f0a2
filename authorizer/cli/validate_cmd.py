"""`authorizer validate PATH... [--strict] [--format text|json]`: every problem in every policy file.

Built on `authorizer.policy.check` (every YAML, structure and meaning problem with its
file:line:col, plus lint warnings for policies that load). A YAML file whose top
level has `cases` and no `rules` is a test suite and is checked against the suite model instead.
Exit 0 clean (warnings allowed unless --strict), 1 on any error, 2 when a path is missing or unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from authorizer.cli.io import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, say
from authorizer.files import read_bytes
from authorizer.policy.errors import PolicyError, Problem
from authorizer.policy.load import MAX_POLICY_BYTES
from authorizer.testing.discover import collect_files


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


def check_file(path: Path, raw: bytes) -> FileReport:
    """Every problem in one file: a test suite's, or a policy's (errors, else lint warnings)."""
    from authorizer.policy.check import check_policy
    from authorizer.policy.load import parse
    from authorizer.testing.suite import is_suite, load_suite

    name = str(path)
    try:
        parsed = parse(name, raw)
    except PolicyError as exc:
        return FileReport(name, problems=list(exc.problems))
    if is_suite(parsed[0]):
        loaded = load_suite(path)
        return FileReport(name, "test-suite", [*loaded.problems, *loaded.warnings])
    return FileReport(name, problems=check_policy(name, raw, parsed)[1])


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


def run(args: argparse.Namespace) -> int:
    files, unusable = collect_files(args.paths)
    reports: list[FileReport] = []
    for path in files:
        try:
            raw = read_bytes(path, MAX_POLICY_BYTES)
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
    if args.format == "text" and not unusable:  # otherwise the unusable paths are what stderr says
        print(
            f"{len(reports)} file{'s' if len(reports) != 1 else ''} checked: "
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}",
            file=sys.stderr,
        )
    for message in unusable:
        say("validate", message)
    if unusable:
        return EXIT_USAGE
    if errors or (args.strict and warnings):
        return EXIT_FINDINGS
    return EXIT_OK
