"""Problems found in a policy file, each pinned to file:line:col."""

from __future__ import annotations

from typing import Literal

Loc = tuple[str | int, ...]
Severity = Literal["error", "warning"]


class Problem:
    """One problem of a file, at its line and column, compared by value. A plain class: a dataclass
    or a NamedTuple costs every cold start a few hundred µs to create."""

    __slots__ = ("col", "file", "line", "message", "severity")

    def __init__(self, file: str, line: int, col: int, message: str, severity: Severity = "error") -> None:
        self.file = file
        self.line = line
        self.col = col
        self.message = message
        self.severity = severity

    def _parts(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.col, self.message, self.severity)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and self._parts() == other._parts()

    def __hash__(self) -> int:
        return hash(self._parts())

    def __repr__(self) -> str:
        return f"Problem{self._parts()!r}"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.file}:{self.line}:{self.col}: {tag}{self.message}"


class PolicyError(Exception):
    """A policy that cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
