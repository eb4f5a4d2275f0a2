"""The commands users run in CI, in-process, as the CLI runs them (CPU seconds, median of a few runs,
modules already imported):

- `authorizer validate` on a policy of 1,000 regex rules (`scaling.policy_text("regex", 1000)`):
  YAML with positions, validation, compile, the rule index and lint. Target: ≤ 1 s.
- `authorizer test` on a folder holding a copy of the shipped example policy and a suite of 5,000
  cases made from its shipped suite's cases (every request form it uses: compact requests of each
  kind, event files; one kind per case), renamed: discovery, loading, both decisions per case, the
  report. Target: ≥ 6,000 cases per second.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from authorizer.cli.main import build_parser
from benchmarks.events import POLICIES
from benchmarks.scaling import policy_text

VALIDATE_TARGET_S, TEST_TARGET_PER_S = 1.0, 6000.0
VALIDATE_RULES, SUITE_CASES = 1000, 5000


def _cli(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> tuple[float, int, str]:
    """CPU seconds of one run of a CLI command, its exit code and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        started = time.thread_time()
        code = command(args)
        return time.thread_time() - started, code, out.getvalue()


def validate(rounds: int) -> dict[str, Any]:
    from authorizer.cli import validate_cmd

    with tempfile.TemporaryDirectory(prefix="authorizer-bench-") as folder:
        path = Path(folder) / "regex-1000.yaml"
        path.write_text(policy_text("regex", VALIDATE_RULES))
        args = build_parser().parse_args(["validate", "--strict", str(path)])  # as the command line parses it
        runs = [_cli(validate_cmd.run, args) for _ in range(rounds)]
    for _, code, output in runs:
        if code != 0:
            raise SystemExit(f"authorizer validate failed on the benchmark policy: {output}")
    seconds = statistics.median(s for s, _, _ in runs)
    return {
        "rules": VALIDATE_RULES,
        "seconds": seconds,
        "target_s": VALIDATE_TARGET_S,
        "ok": seconds <= VALIDATE_TARGET_S,
    }


def suite_text(cases: int) -> str:
    """The shipped example suite's cases (one per kind where a case lists several: each case one run),
    repeated and renamed up to `cases`, event files by absolute path."""
    shipped = yaml.safe_load((POLICIES / "tests" / "example.yaml").read_text())
    templates = []
    for case in shipped.pop("cases"):
        if "event" in case:
            case["event"] = str((POLICIES / "tests" / case["event"]).resolve())
        kinds = case["kind"] if isinstance(case.get("kind"), list) else [case.get("kind")]
        templates += [{**case, "kind": kind} if kind else case for kind in kinds]
    made = [
        {**templates[i % len(templates)], "name": f"{i}: {templates[i % len(templates)]['name']}"} for i in range(cases)
    ]
    return yaml.safe_dump({**shipped, "policy": "../example.yaml", "cases": made}, sort_keys=False)


def test_suite(rounds: int) -> dict[str, Any]:
    from authorizer.cli import test_cmd

    with tempfile.TemporaryDirectory(prefix="authorizer-bench-") as folder:
        shutil.copy(POLICIES / "example.yaml", Path(folder) / "example.yaml")
        (Path(folder) / "tests").mkdir()
        (Path(folder) / "tests" / "example.yaml").write_text(suite_text(SUITE_CASES))
        args = build_parser().parse_args(["test", folder])
        runs = [_cli(test_cmd.run, args) for _ in range(rounds)]
    counts = set()
    for _, code, output in runs:
        summary = re.search(r"^(\d+) passed, (\d+) failed$", output, re.MULTILINE)
        if code != 0 or summary is None or summary[2] != "0":
            raise SystemExit(f"authorizer test failed on the benchmark suite: {output[-2000:]}")
        counts.add(int(summary[1]))
    (passed,) = counts
    seconds = statistics.median(s for s, _, _ in runs)
    return {
        "suite_cases": SUITE_CASES,
        "cases": passed,
        "seconds": seconds,
        "cases_per_s": passed / seconds,
        "target_per_s": TEST_TARGET_PER_S,
        "ok": passed / seconds >= TEST_TARGET_PER_S,
    }
