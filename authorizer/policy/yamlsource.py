"""YAML → plain data, keeping where every key and value came from.

Stricter than `yaml.safe_load`: duplicate keys are errors (PyYAML silently keeps the last), tags
that would construct objects are refused, alias expansion is bounded (no "billion laughs"), and
the text must be UTF-8. Composing uses libyaml's C parser when present.

Problems are collected while the rest of the document is still read, so that one run reports them
all (`read_yaml`): a duplicate key keeps its first value, a refused tag or merge key is left out (a
tagged value reads as null). A syntax error stops the parser: then it is the one problem there is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from authorizer.policy.collector import collector_paused
from authorizer.policy.errors import MAX_PROBLEMS, Loc
from authorizer.policy.sensitivity import NOT_SHOWN

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_NODES = 200_000  # constructed values, aliases counted each time they are expanded
MAX_DEPTH = 64

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_SafeConstructor = yaml.constructor.SafeConstructor
_CONSTRUCTOR = _SafeConstructor()  # turns plain scalars (true, 12, 1.5, null) into values, as safe_load does
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


@dataclass(frozen=True, slots=True)
class Located:
    """A problem found while reading the text, with its 1-based position; where it quotes the text
    (a key, a tag), where in the data it is and the message that quotes nothing, for a place under a
    condition on a secret-bearing source (sensitivity.py)."""

    line: int
    col: int
    message: str
    loc: Loc = ()
    unquoted: str | None = None


class YamlProblems(Exception):
    def __init__(self, problems: list[Located]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


@dataclass(slots=True)
class SourceMap:
    """Where each path was written: the key's position and the value's."""

    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    typed: dict[Loc, str] = field(default_factory=dict)  # plain scalars YAML read as non-strings, as written

    def written(self, loc: Loc) -> str | None:
        """How a value YAML read as a boolean, number or null was written (`yes`, `0123`)."""
        return self.typed.get(loc)

    def locate(self, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
        """Position of the longest known prefix of `loc`."""
        for end in range(len(loc), -1, -1):
            prefix = loc[:end]
            table = self.keys if at_key and end == len(loc) else self.values
            if prefix in table:
                return table[prefix]
            if prefix in self.keys:
                return self.keys[prefix]
        return (1, 1)


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, located: int | None) -> None:
        self.smap = SourceMap()
        self.located = located  # positions of paths at most this long (None: every path)
        self.problems: list[Located] = []
        self.count = 0

    def fail(self, node: yaml.Node, message: str, loc: Loc = (), unquoted: str | None = None) -> None:
        self.problems.append(Located(*_pos(node), message, loc, unquoted))
        if len(self.problems) >= MAX_PROBLEMS:  # a hostile file (a million duplicate keys) stops here
            raise YamlProblems([*self.problems, Located(*_pos(node), f"stopped after {MAX_PROBLEMS} problems")])

    def tag(self, node: yaml.Node, loc: Loc, hint: str = "") -> None:
        message = "is not allowed in a policy" + hint
        self.fail(node, f"YAML tag {node.tag!r} {message}", loc, f"a YAML tag ({NOT_SHOWN}) {message}")

    def scalar(self, node: yaml.Node) -> Any:
        """A plain scalar's value, as safe_load reads it; one Python cannot build is a problem."""
        try:
            return _SafeConstructor.yaml_constructors[node.tag](_CONSTRUCTOR, node)
        except ValueError as exc:  # an integer of more than 4300 digits (sys.get_int_max_str_digits)
            self.fail(node, f"cannot read this {node.tag.rsplit(':', 1)[-1]}: {str(exc).split(':')[0]}")
            return None

    def build(self, node: yaml.Node, loc: Loc, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            message = f"document expands to more than {MAX_NODES} values (alias expansion bomb?)"
            raise YamlProblems([*self.problems, Located(*_pos(node), message)])
        if depth > MAX_DEPTH:
            raise YamlProblems([*self.problems, Located(*_pos(node), f"nesting deeper than {MAX_DEPTH} levels")])
        record = self.located is None or depth <= self.located
        inner = self.located is None or depth < self.located  # whether the children's positions are recorded
        if record:
            self.smap.values.setdefault(loc, _pos(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                hint = " (quote dates and times)" if node.tag.endswith(":timestamp") else ""
                self.tag(node, loc, hint)
                return None
            value = self.scalar(node)
            if not isinstance(value, str) and record:
                self.smap.typed[loc] = node.value
            return value
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self.tag(node, loc)
                return None
            return [self.build(item, (*loc, i) if inner else loc, depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                self.tag(node, loc)
                return None
            out: dict[Any, Any] = {}
            first_seen: dict[Any, yaml.Node] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.fail(key_node, "YAML merge keys (<<) are not allowed in a policy")
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.fail(key_node, "mapping keys must be plain scalars")
                    continue
                if key_node.tag not in _SCALAR_TAGS:
                    self.tag(key_node, loc)
                    continue
                key = self.scalar(key_node)
                if not isinstance(key, str):
                    key = "null" if key is None else str(key).lower() if isinstance(key, bool) else str(key)
                if key in first_seen:
                    line, col = _pos(first_seen[key])
                    first = f"(first defined at line {line}, column {col})"
                    shown = f"duplicate key {key!r} {first}"
                    self.fail(key_node, shown, (*loc, key), f"duplicate key ({NOT_SHOWN}) {first}")
                    continue
                first_seen[key] = key_node
                if inner:
                    self.smap.keys[(*loc, key)] = _pos(key_node)
                out[key] = self.build(value_node, (*loc, key) if inner else loc, depth + 1)
            return out
        self.fail(node, "unsupported YAML node")  # pragma: no cover - composer yields only the three
        return None


def load_yaml(data: bytes, *, located: int | None = None) -> tuple[Any, SourceMap]:
    """One YAML document with nothing wrong; YamlProblems listing everything wrong with the text."""
    value, smap, problems = read_yaml(data, located=located)
    if problems:
        raise YamlProblems(problems)
    return value, smap


@collector_paused()
def read_yaml(data: bytes, *, located: int | None = None) -> tuple[Any, SourceMap, list[Located]]:
    """One YAML document, read as far as it can be: its data, positions, and the problems that did not
    stop the reading; YamlProblems for those that did (syntax, not UTF-8, empty, too deep, too big).
    With `located`, the source map holds only the paths at most that long (recording every position
    is a third of a parse): a caller locating anything deeper parses again, in full."""
    if not data.strip():
        raise YamlProblems([Located(1, 1, "file is empty")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlProblems([Located(line, 1, f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlProblems([Located(line, col, f"YAML syntax error: {exc.problem or exc.context}")]) from None
    except yaml.YAMLError as exc:  # the reader's errors (control characters) carry a position only
        at = getattr(exc, "position", None)
        line, col = (text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)) if isinstance(at, int) else (1, 1)
        raise YamlProblems([Located(line, col, f"YAML error: {str(exc).splitlines()[0]}")]) from None
    if root is None:
        raise YamlProblems([Located(1, 1, "file holds no YAML document")])
    builder = _Builder(located)
    try:
        value = builder.build(root, (), 0)
    except RecursionError:
        raise YamlProblems([*builder.problems, Located(1, 1, "document nested too deeply")]) from None
    if builder.problems and located is not None:  # a problem's path decides what it may quote: read in full
        return read_yaml(data)
    return value, builder.smap, builder.problems
