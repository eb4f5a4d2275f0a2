"""Every problem of one policy text, in one pass: what `authorizer validate` reports for a policy.

Loading reports every YAML, structure and meaning error with its position; a policy that loads is
then linted (lint.py) for what it probably does not mean. One parse serves both.
"""

from __future__ import annotations

from authorizer.policy.errors import PolicyError, Problem
from authorizer.policy.lint import lint
from authorizer.policy.load import LoadedPolicy, Parsed, load


def check_policy(name: str, raw: bytes, parsed: Parsed | None = None) -> tuple[LoadedPolicy | None, list[Problem]]:
    """The loaded policy (None when it does not load) and its problems: errors, else lint warnings."""
    try:
        loaded = load(name, raw, parsed=parsed)
    except PolicyError as exc:
        return None, list(exc.problems)
    warnings = [loaded.problem(loc, message, "warning") for loc, message in lint(loaded.data, loaded.policy)]
    return loaded, warnings
