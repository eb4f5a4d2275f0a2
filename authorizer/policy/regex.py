"""Regular expressions that run in linear time on attacker-controlled input (RE2).

Python's `re` backtracks: `(a+)+$` against 100 KB of `a`s never finishes. Every regex a policy
or a route pattern compiles goes through RE2 instead. The public `re2` wrapper spends ~10 µs per
call decoding spans we never use; we call its matcher directly (~1.5 µs), anchored at both ends.
`PatternSet` runs many patterns at once (RE2::Set, one pass over the text) for the rule index.
"""

from __future__ import annotations

from collections.abc import Sequence

import re2
from re2 import _re2

_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH
MAX_PROGRAM_SIZE = 5_000  # RE2 "program size": refuses patterns that would be huge automata


class RegexError(ValueError):
    """A pattern RE2 refuses. The message quotes the pattern; `problem` says what is wrong without a
    character of it, for patterns that must not be shown (compared with a secret-bearing source)."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


def _options() -> re2.Options:
    options = re2.Options()
    options.never_capture = True
    options.log_errors = False
    return options


class FullMatcher:
    """A compiled pattern that answers one question: does the whole text match?"""

    __slots__ = ("_match", "pattern")

    def __init__(self, pattern: str) -> None:
        try:
            compiled = re2.compile(pattern, _options())
        except re2.error as exc:
            reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
            detail = str(reason).replace("\n", "\\n")  # RE2 quotes the offending text raw: keep one line
            problem = detail.split(": ", 1)[0]  # RE2 writes "missing ): <the offending text>"
            raise RegexError(f"invalid regular expression {pattern!r}: {detail}", problem) from None
        if compiled._regexp.ProgramSize() > MAX_PROGRAM_SIZE:
            raise RegexError(f"regular expression {pattern!r} is too large", "too large")
        self.pattern = pattern
        self._match = compiled._regexp.Match

    def __call__(self, text: str) -> bool:
        data = text.encode("utf-8", "surrogatepass")
        return bool(self._match(_BOTH, data, 0, len(data))[0][0] == 0)


class PatternSet:
    """Patterns matched all at once: which of them match the whole text (as `FullMatcher` would, in
    one pass whatever their number). `ids[i]` is pattern i's id, or None when RE2 refused it; ids
    count the accepted patterns in order. RegexError when the set cannot be compiled."""

    __slots__ = ("_everything", "_match", "ids")

    def __init__(self, patterns: Sequence[str]) -> None:
        compiled = _re2.Set(_BOTH, _options())
        ids: list[int | None] = []
        for pattern in patterns:
            try:
                added = compiled.Add(pattern.encode("utf-8"))
            except UnicodeEncodeError:  # a lone surrogate: RE2 reads UTF-8 patterns only
                added = -1
            ids.append(added if added >= 0 else None)
        # matches every text: an answer without it means RE2 gave up (its DFA out of memory), not "none"
        self._everything = compiled.Add(rb"\C*")
        if not compiled.Compile():  # over RE2's memory budget (and then Match would crash): no set
            message = f"{len(patterns)} patterns are too many for one set"
            raise RegexError(message, message)
        self.ids = tuple(ids)
        self._match = compiled.Match

    def __call__(self, text: str) -> list[int] | None:
        """The ids of the patterns matching `text` as a whole, in no order; None when RE2 cannot say."""
        found: list[int] = self._match(text.encode("utf-8", "surrogatepass"))
        try:
            found.remove(self._everything)
        except ValueError:
            return None
        return found
