"""Problems found in a policy file, each pinned to file:line:col."""

from __future__ import annotations

from typing import Literal, NamedTuple

Loc = tuple[str | int, ...]
Severity = Literal["error", "warning"]


class Problem(NamedTuple):
    """One problem of a file, at its line and column (a NamedTuple: a dataclass costs every cold start)."""

    file: str
    line: int
    col: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.file}:{self.line}:{self.col}: {tag}{self.message}"


class PolicyError(Exception):
    """A policy that cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
