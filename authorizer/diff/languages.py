"""String conditions as regular languages, so that the values telling two policies apart are found by
search over automata rather than guessed.

`prefix`, `suffix`, `contains`, `glob`, `regex`, route paths and literals each become an automaton
(`interegular`, imported here only). Policies' regexes are RE2, and interegular reads Python's
syntax: only the part both read the same way is handed over — literals, escaped punctuation,
classes and ranges, `.`, groups, alternation, repetition, `\\d \\w \\s` spelt out as RE2 defines
them (ASCII), a leading `(?s)`, a leading `^` and a trailing `$` (no-ops in a full match). Anything
else raises `Unanalysable`, and its condition is reported as not proven instead of guessed at.
"""

from __future__ import annotations

import re
from collections import deque
from typing import TYPE_CHECKING, Any

from authorizer.policy.operators import glob_regex

if TYPE_CHECKING:
    from interegular import FSM

_SHORTHANDS = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}  # RE2's ASCII classes
_CONTROL = "ntrfv"
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ")
_REPEAT = re.compile(r"\{(\d+)(,\d*)?\}")
_NAMED = re.compile(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>")
# characters a witness prefers, most readable first (no comma, semicolon or space: HTTP API 2.0
# splits comma-joined values, cookies split on semicolons)
_READABLE = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_./:@~+=!*'()$&%?#[]^`{}|<>\"\\"
_RANK = {c: i for i, c in enumerate(_READABLE)}
_LAST_RESORT = ", ;"
MAX_STATES = 20_000  # product automata beyond this are not searched (the condition is not proven)


class Unanalysable(ValueError):
    """The pattern uses syntax whose language this module cannot state exactly."""


def _escape(c: str) -> str:
    return f"\\{c}" if c in _PUNCTUATION else c


def _class(pattern: str, i: int) -> tuple[str, int]:
    """Translate the character class starting at `pattern[i] == '['`; return it and the index after it."""
    out, i = ["["], i + 1
    if i < len(pattern) and pattern[i] == "^":
        out.append("^")
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        raise Unanalysable("a class starting with ']'")
    while i < len(pattern):
        c = pattern[i]
        if c == "]":
            return "".join(out) + "]", i + 1
        if c == "[":
            raise Unanalysable("'[' inside a class (POSIX classes, nested sets)")
        if pattern.startswith(("&&", "--", "~~", "||"), i):
            raise Unanalysable(f"{pattern[i : i + 2]!r} inside a class")
        if c == "\\":
            if i + 1 >= len(pattern):
                raise Unanalysable("a trailing backslash")
            e = pattern[i + 1]
            if e in _SHORTHANDS:
                out.append(_SHORTHANDS[e])
            elif e in _CONTROL or e in _PUNCTUATION:
                out.append("\\" + e)
            else:
                raise Unanalysable(f"the escape \\{e}")
            i += 2
            continue
        out.append(c)
        i += 1
    raise Unanalysable("an unterminated class")


def translate(pattern: str) -> str:
    """The RE2 `pattern` in the syntax interegular reads identically, or Unanalysable."""
    out: list[str] = []
    i, end = 0, len(pattern)
    if pattern.startswith("(?s)"):
        out.append("(?s)")
        i = 4
    if pattern.startswith("^", i):
        i += 1
    if end > i and pattern.endswith("$"):
        body = pattern[:-1]
        if (len(body) - len(body.rstrip("\\"))) % 2 == 0:
            end -= 1  # an unescaped `$` at the very end
    while i < end:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= end:
                raise Unanalysable("a trailing backslash")
            e = pattern[i + 1]
            if e in _SHORTHANDS:
                out.append(f"[{_SHORTHANDS[e]}]")
            elif e.lower() in _SHORTHANDS:
                out.append(f"[^{_SHORTHANDS[e.lower()]}]")
            elif e in _CONTROL or e in _PUNCTUATION:
                out.append("\\" + e)
            else:
                raise Unanalysable(f"the escape \\{e}")
            i += 2
        elif c == "[":
            text, i = _class(pattern[:end], i)
            out.append(text)
        elif c == "(" and pattern.startswith("(?", i):
            named = _NAMED.match(pattern, i)
            if pattern.startswith("(?:", i):
                out.append("(?:")
                i += 3
            elif named:
                out.append(f"(?P<{named.group(1)}>")
                i = named.end()
            else:
                raise Unanalysable("flags or group syntax other than (?:...), (?P<name>...) and a leading (?s)")
        elif c in "^$":
            raise Unanalysable(f"the anchor {c!r} inside the pattern")
        elif c == "{":
            repeat = _REPEAT.match(pattern, i)
            if repeat and repeat.end() <= end:
                out.append(repeat.group(0))
                i = repeat.end()
            else:
                out.append("\\{")  # RE2 and Python: a brace that is no repetition is literal
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _fsm(pattern: str) -> FSM:
    from interegular import parse_pattern

    try:
        return parse_pattern(translate(pattern)).to_fsm()
    except Unanalysable:
        raise
    except Exception as exc:  # interegular's Unsupported, InvalidSyntax, ...
        raise Unanalysable(f"not readable as an automaton ({type(exc).__name__})") from None


def literal(text: str) -> FSM:
    """Exactly the string `text`."""
    return _fsm("(?s)" + "".join(_escape(c) if c in _PUNCTUATION else c for c in text))


def language(op: str, arg: Any) -> FSM:
    """The strings a string operator accepts; Unanalysable for anything else it cannot state."""
    if op in ("equals", "not_equals") and isinstance(arg, str):
        return literal(arg)
    escaped = "".join(_escape(c) for c in arg) if isinstance(arg, str) else ""
    if op == "prefix":
        return _fsm(f"(?s){escaped}.*")
    if op == "suffix":
        return _fsm(f"(?s).*{escaped}")
    if op == "contains":
        return _fsm(f"(?s).*{escaped}.*")
    if op == "glob":
        return _fsm(glob_regex(arg))
    if op == "regex":
        return _fsm(arg)
    raise Unanalysable(f"{op} is not a string language")


def pattern(text: str) -> FSM:
    """A route path pattern (RE2 text built by the compiler)."""
    return _fsm(text)


def nonempty(prefix: str = "") -> FSM:
    """Every non-empty string (an empty value counts as missing), or every string after `prefix`."""
    return _fsm(f"(?s){''.join(_escape(c) for c in prefix)}.*") if prefix else _fsm("(?s).+")


def _symbol(symbols: Any, alphabet: Any) -> str | None:
    """The most readable character one transition stands for (any character outside the alphabet
    for interegular's `anything_else`)."""
    from interegular.fsm import anything_else

    if anything_else in symbols:
        for c in _READABLE + _LAST_RESORT:
            if c not in alphabet:
                return c
        return next(chr(n) for n in range(0x100, 0x10000) if chr(n) not in alphabet)
    concrete = [s for s in symbols if isinstance(s, str)]
    return min(concrete, key=lambda c: (_RANK.get(c, len(_RANK) + (c in _LAST_RESORT)), c)) if concrete else None


def witness(fsm: FSM) -> str | None:
    """A shortest string the automaton accepts, of readable characters where it has a choice; None when empty."""
    if len(fsm.states) > MAX_STATES:
        raise Unanalysable("the automata are too large to search")
    choices = []
    for key, symbols in fsm.alphabet.by_transition.items():
        char = _symbol(symbols, fsm.alphabet)
        if char is not None:
            choices.append((_RANK.get(char, len(_RANK)), key, char))
    choices.sort()
    parent: dict[Any, tuple[Any, str] | None] = {fsm.initial: None}
    queue = deque([fsm.initial])
    while queue:
        state = queue.popleft()
        if state in fsm.finals:
            chars = []
            while (step := parent[state]) is not None:
                state, char = step
                chars.append(char)
            return "".join(reversed(chars))
        moves = fsm.map.get(state, {})
        for _, key, char in choices:
            target = moves.get(key)
            if target is not None and target not in parent:
                parent[target] = (state, char)
                queue.append(target)
    return None


def split(universe: FSM, atoms: list[FSM], limit: int) -> list[FSM]:
    """The non-empty cells of `universe` that the atoms tell apart (every combination of in/out);
    Unanalysable when there are more than `limit`."""
    cells = [universe]
    for atom in atoms:
        refined = []
        for cell in cells:
            for part in (cell & atom, cell - atom):
                if len(part.states) > MAX_STATES:
                    raise Unanalysable("the automata are too large to search")
                if not part.empty():
                    refined.append(part)
        cells = refined
        if len(cells) > limit:
            raise Unanalysable(f"more than {limit} classes of values")
    return cells
