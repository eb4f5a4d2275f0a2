"""Shared CLI plumbing: reading events and policies, printing problems, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any

from authorizer.files import EVENT_LIMIT, kind_of, one_line, parse_json, read_bytes
from authorizer.policy.compiler import TokenOptions
from authorizer.policy.errors import PolicyError
from authorizer.policy.load import LoadedPolicy, load_file

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or unreadable input: exit 2."""


def say(command: str, message: object) -> None:
    """One line on stderr, `authorizer COMMAND: message`, whatever the names it quotes hold."""
    print(f"authorizer {command}: {one_line(str(message))}", file=sys.stderr)


def read_json(path: str) -> Any:
    """An event file (or - for stdin), no larger than Lambda accepts; a UTF-8 BOM is accepted."""
    try:
        raw = sys.stdin.buffer.read(EVENT_LIMIT + 1) if path == "-" else read_bytes(path, EVENT_LIMIT)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > EVENT_LIMIT:
        raise UsageError(f"{path}: cannot read: larger than {EVENT_LIMIT} bytes")
    try:
        return parse_json(raw)
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON: {exc}") from None


def load_policy_or_report(path: str, tokens: TokenOptions | None = None) -> LoadedPolicy | None:
    """The loaded policy, or None after printing every problem to stderr."""
    found = kind_of(path)
    if found != "file":
        raise UsageError(f"{path}: {'no such policy file' if found == 'missing' else 'not a file'}")
    try:
        return load_file(path, tokens=tokens)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))
