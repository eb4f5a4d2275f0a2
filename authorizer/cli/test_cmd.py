"""`authorizer test [PATH...] [--coverage] [--min-coverage N] [--junit FILE] [--token-attacks] [-v]`: run policy
test suites.

Suites are YAML files with `cases` (by convention in `policies/tests/`); folders are searched for
them. Every failure is printed with a readable diff and why each rule did or did not match; the
last line is always `N passed, N failed`. Exit 0 when all pass, 1 on any failure (or coverage
below --min-coverage), 2 when a path is missing or holds no suite.
"""

from __future__ import annotations

import argparse
import functools
import os
from pathlib import Path
from typing import Any

from authorizer.cli.io import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, say
from authorizer.policy.errors import Problem
from authorizer.testing.discover import discover_suites
from authorizer.testing.runner import CaseResult, Policies, run_case
from authorizer.testing.suite import load_suite


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "test",
        help="run policy test suites (default: policies/)",
        description="Run the test suites found in PATHs (files, or folders searched for YAML files with `cases`). "
        "Ends with `N passed, N failed`; exit 1 on any failure.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", default=["policies"], help="suite file or folder")
    p.add_argument("--coverage", action="store_true", help="report rules and conditions the cases exercised")
    p.add_argument("--min-coverage", type=float, metavar="N", help="fail when any policy's coverage is below N percent")
    p.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")
    p.add_argument(
        "--token-attacks",
        action="store_true",
        help="also send the token attack battery (alg none, HS256 with the public key, foreign keys, ...) in place "
        "of the token of every passing case that allows with one; any allow fails the run",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    p.set_defaults(run=run)


def display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    return _display(path, os.getcwd())


@functools.lru_cache(maxsize=1024)  # each case names its policy: the same few paths thousands of times a run
def _display(path: Path, cwd: str) -> str:
    absolute = path.absolute()
    return str(absolute.relative_to(cwd)) if absolute.is_relative_to(cwd) else str(path)


def run(args: argparse.Namespace) -> int:
    suite_files, folder_policies, unusable = discover_suites(args.paths)
    for message in unusable:
        say("test", message)
    if unusable:
        return EXIT_USAGE
    policies = Policies()
    results: list[CaseResult] = []
    broken: list[Problem] = []
    warnings: list[Problem] = []
    for file in suite_files:
        suite = load_suite(Path(display(file)))
        broken += suite.problems
        warnings += suite.warnings
        for case in suite.cases:
            policy = policies.get(case.policy, case.secrets, display(case.policy))
            if policy.loaded is not None:  # one that does not load is reported once, below
                results.append(run_case(case, policy, policies.keys))
    for result in results:
        case = result.case
        if result.passed:
            if args.verbose:
                print(f"PASS {case.suite}:{case.line}: {case.name}")
            continue
        print(f"FAIL {case.suite}:{case.line}: {case.name}")
        print("\n".join(f"  {line}" for line in result.differences))
        if result.why:
            print("  why:")
            print("\n".join(f"    {line}" for line in result.why))
    unloadable = policies.broken()
    for problem in [*broken, *(p for policy in unloadable for p in policy.problems)]:
        print(f"ERROR {problem}")
    for problem in warnings:
        print(problem)
    tested = {loaded.path.resolve() for loaded in policies.all()}
    untested = sorted({display(p) for p in folder_policies if p.resolve() not in tested})
    for name in untested:
        print(f"{name}:1:1: warning: no test case names this policy")
    code = EXIT_OK
    if args.token_attacks:
        from authorizer.testing.attacks import token_attacks

        reports = token_attacks(results, policies)
        print(
            "\n".join(
                ["token attacks:", *(f"  {r.line()}" for r in reports)]
                if reports
                else ["token attacks: no policy tested has tokens"]
            )
        )
        if not all(r.passed for r in reports):
            code = EXIT_FINDINGS
    if args.coverage or args.min_coverage is not None:
        from authorizer.testing.coverage import coverage_report

        lines, enough = coverage_report(policies.all(), results, untested, args.min_coverage)
        print("\n".join(lines))
        if not enough:
            code = EXIT_FINDINGS
    if args.junit:
        from authorizer.testing.junit import write_junit

        try:
            write_junit(Path(args.junit), results, broken, unloadable)
        except OSError as exc:
            say("test", f"cannot write {args.junit}: {exc.strerror or exc}")
            code = EXIT_USAGE
    passed = sum(1 for r in results if r.passed)
    failed = len(results) - passed + len(broken) + len(unloadable)  # a policy that does not load counts once
    print(f"{passed} passed, {failed} failed")
    if failed and code == EXIT_OK:
        code = EXIT_FINDINGS
    return code
