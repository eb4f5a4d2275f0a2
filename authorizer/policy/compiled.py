"""The compiled policy: plain data plus the small functions each condition needs.

Conditions answer in three-valued logic: True, False, or None ("unknown": a source was missing or
arrived with conflicting values). A rule applies only on True, and `not` leaves unknown unknown,
so a missing key never satisfies a condition, negative ones included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from authorizer.arn import ExecuteApiArn
from authorizer.policy.errors import Loc
from authorizer.policy.sources import Getter
from authorizer.request import Request

Result = bool | None
Outcome = Literal["true", "false", "missing", "ambiguous", "error"]
REDACTED = "<redacted>"


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One condition as it was evaluated, for `--explain` and test failures."""

    rule: str
    source: str
    op: str
    expected: Any
    actual: Any
    outcome: Outcome
    loc: Loc = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "source": self.source,
            "op": self.op,
            "expected": self.expected,
            "actual": self.actual,
            "outcome": self.outcome,
        }


Trace = list[TraceEntry]


def _shown(values: tuple[Any, ...] | None, sensitive: bool) -> Any:
    if values is None:
        return None
    if sensitive:
        return REDACTED
    return values[0] if len(values) == 1 else list(values)


@dataclass(slots=True, eq=False)
class Check:
    """One operator applied to one identity source."""

    source: str
    op: str
    expected: Any  # as shown in traces (already redacted when sensitive)
    get: Getter
    test: Callable[[Any], bool]
    mode: str = "single"  # single | any | all | joined
    missing: Result = None  # exists: false answers True on a missing source
    sensitive: bool = False
    loc: Loc = ()
    index_key: Any = None  # set for single-valued equality: what RuleIndex may key this rule on

    def eval(self, r: Request) -> Result:
        values = self.get(r)
        if values is None:
            return self.missing
        mode = self.mode
        if mode == "single":
            if len(values) > 1 and len(set(values)) > 1:
                return None
            return self.test(values[0])
        if mode == "any":
            return any(self.test(v) for v in values)
        if mode == "all":
            return all(self.test(v) for v in values)
        return self.test(",".join(str(v) for v in values))

    def trace(self, r: Request, rule: str, out: Trace) -> Result:
        try:
            values = self.get(r)
            result = self.eval(r)
        except Exception:  # a test that fails on odd input never lets a request in
            values, result = None, None
            outcome: Outcome = "error"
        else:
            if values is None:
                outcome = "true" if result else "missing"
            elif result is None:
                outcome = "ambiguous"
            else:
                outcome = "true" if result else "false"
        out.append(
            TraceEntry(rule, self.source, self.op, self.expected, _shown(values, self.sensitive), outcome, self.loc)
        )
        return result


@dataclass(slots=True, eq=False)
class JmesCheck:
    """Escape hatch: a JMESPath expression over the request view that must yield exactly true."""

    expression: str
    search: Callable[[Any], Any]
    loc: Loc = ()

    def eval(self, r: Request) -> Result:
        try:
            return self.search(r.view()) is True
        except Exception:  # JMESPath raises on type errors in functions: treat as unknown
            return None

    def trace(self, r: Request, rule: str, out: Trace) -> Result:
        result = self.eval(r)
        outcome: Outcome = "error" if result is None else "true" if result else "false"
        out.append(TraceEntry(rule, "jmespath", "jmespath", self.expression, None, outcome, self.loc))
        return result


@dataclass(slots=True, eq=False)
class AllOf:
    children: tuple[Node, ...]

    def eval(self, r: Request) -> Result:
        unknown = False
        for child in self.children:
            result = child.eval(r)
            if result is False:
                return False
            if result is None:
                unknown = True
        return None if unknown else True

    def trace(self, r: Request, rule: str, out: Trace) -> Result:
        results = [child.trace(r, rule, out) for child in self.children]
        return False if False in results else None if None in results else True


@dataclass(slots=True, eq=False)
class AnyOf:
    children: tuple[Node, ...]

    def eval(self, r: Request) -> Result:
        unknown = False
        for child in self.children:
            result = child.eval(r)
            if result is True:
                return True
            if result is None:
                unknown = True
        return None if unknown else False

    def trace(self, r: Request, rule: str, out: Trace) -> Result:
        results = [child.trace(r, rule, out) for child in self.children]
        return True if True in results else None if None in results else False


@dataclass(slots=True, eq=False)
class Not:
    child: Node

    def eval(self, r: Request) -> Result:
        result = self.child.eval(r)
        return None if result is None else not result

    def trace(self, r: Request, rule: str, out: Trace) -> Result:
        result = self.child.trace(r, rule, out)
        return None if result is None else not result


Node = Check | JmesCheck | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True)
class Output:
    """A rule output: a literal, or a value copied from the request."""

    literal: Any = None
    source: str | None = None
    get: Getter | None = None
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class RoutePattern:
    """`GET /pets/*` or `$connect`: method ('' for WebSocket, '*' for ANY), path test, IAM path."""

    text: str
    method: str
    exact_path: str | None  # set when the pattern has no wildcard (indexable)
    match_path: Callable[[str], bool]
    iam_path: str

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method) and self.match_path(path)


@dataclass(slots=True, eq=False)
class CompiledRule:
    name: str
    position: int
    effect: Literal["allow", "deny"]
    conditions: tuple[Node, ...]
    routes: tuple[RoutePattern, ...] | None
    principal: Output
    context: tuple[tuple[str, Output], ...]
    usage_identifier_key: Output | None
    resource: str
    loc: Loc = ()
    literal_context: dict[str, Any] | None = field(init=False, default=None)  # when no value comes from the request

    def __post_init__(self) -> None:
        if all(out.get is None for _, out in self.context):
            self.literal_context = {key: out.literal for key, out in self.context}

    def in_scope(self, arn: ExecuteApiArn) -> bool:
        if self.routes is None:
            return True
        method, path = arn.method, arn.path
        return any(p.matches(method, path) for p in self.routes)


@dataclass(frozen=True, slots=True)
class RuleIndex:
    """Narrows the rules worth trying for a request, keeping their order (first match wins).

    `key` reads one discriminating value from the request (an identity source compared for
    equality, or the concrete route); `table` maps that value to the rules that could match it
    (the rules keyed on it merged with every rule that is not indexed); `rest` is for any other value.
    """

    key: Callable[[Request], Any] | None
    table: Mapping[Any, tuple[CompiledRule, ...]]
    rest: tuple[CompiledRule, ...]
    describes: str = "none"  # "route", or the identity source keyed on
    value_key: Callable[[Any], Any] | None = None  # for a source: its single value → the table's key

    def candidates(self, r: Request) -> tuple[CompiledRule, ...]:
        if self.key is None:
            return self.rest
        return self.table.get(self.key(r), self.rest)


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    name: str
    digest: str
    rules: tuple[CompiledRule, ...]
    index: RuleIndex
    on_no_match: Literal["unauthorized", "deny"]
    resource: str
    response: Literal["iam", "simple"]
    secrets: tuple[str, ...] = field(default=())
    fast: Callable[..., Any] | None = None  # the same decisions as generated Python (codegen.py), for the handler
