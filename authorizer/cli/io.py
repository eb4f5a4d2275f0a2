"""Shared CLI plumbing: reading events and policies, printing problems, JSON output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from authorizer.policy.compiler import TokenOptions
from authorizer.policy.errors import PolicyError
from authorizer.policy.load import LoadedPolicy, load_file

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or unreadable input: exit 2."""


def read_json(path: str) -> Any:
    """A JSON file (or - for stdin); a UTF-8 BOM is accepted, as some AWS samples carry one."""
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: not valid JSON: {exc}") from None


def load_policy_or_report(path: str, tokens: TokenOptions | None = None) -> LoadedPolicy | None:
    """The loaded policy, or None after printing every problem to stderr."""
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such policy file")
    try:
        return load_file(path, tokens=tokens)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))
