"""Problems found in a policy file, each pinned to file:line:col."""

from __future__ import annotations

from typing import Literal

from authorizer.files import one_line

Loc = tuple[str | int, ...]
Severity = Literal["error", "warning"]
MAX_PROBLEMS = 50  # per file: beyond this a file is not a policy with mistakes, and printing them all helps no one


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
        return one_line(f"{self.file}:{self.line}:{self.col}: {tag}{self.message}")


def capped(problems: list[Problem]) -> list[Problem]:
    """Problems in file order, at most MAX_PROBLEMS of them, the rest counted in one last line."""
    ordered = sorted(problems, key=lambda p: (p.line, p.col))
    if len(ordered) <= MAX_PROBLEMS:
        return ordered
    first_hidden = ordered[MAX_PROBLEMS]
    hidden = f"stopped after {MAX_PROBLEMS} problems ({len(ordered) - MAX_PROBLEMS} more)"
    return [*ordered[:MAX_PROBLEMS], Problem(first_hidden.file, first_hidden.line, first_hidden.col, hidden)]


def together(earlier: list[Problem], later: list[Problem]) -> list[Problem]:
    """One stage's problems after another's: where the text already has one (a refused tag, read as
    null), a later stage's problem at the same place is the same mistake seen again."""
    seen = {(p.line, p.col) for p in earlier}
    return [*earlier, *(p for p in later if (p.line, p.col) not in seen)]


class PolicyError(Exception):
    """A policy that cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
