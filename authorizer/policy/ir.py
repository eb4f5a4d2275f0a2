"""The compiled policy: plain data, with the small functions (lookups, tests) built for it.

This is what the compiler produces and what everything after it reads: the engine and the
generated code decide with it (authorizer.decide), lint reasons about it, coverage counts it.
Nothing here evaluates a request: conditions are evaluated by `authorizer.decide.conditions`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from authorizer.event.arn import ExecuteApiArn
from authorizer.policy.errors import Loc
from authorizer.policy.sources import Getter, Lookup

ValuesMode = Literal["single", "any", "all", "joined"]


@dataclass(slots=True, eq=False)
class Check:
    """One operator applied to one identity source."""

    source: str
    op: str
    expected: Any  # as shown in traces (already redacted when sensitive)
    get: Getter
    test: Callable[[Any], bool | None]  # None: it cannot tell (a secret that cannot be read)
    mode: ValuesMode = "single"
    holds_when_missing: bool | None = None  # what a missing source answers: unknown, or True for `exists: false`
    sensitive: bool = False
    loc: Loc = ()
    equals_key: Any = None  # single-valued equality: the typed (or digest) key of its literal, for the index


@dataclass(slots=True, eq=False)
class SourceMatch:
    """One source compared with another (`path.tenant: {equals: {from: header.x-tenant}}`): both
    must be present and single-valued, else the answer is unknown."""

    source: str
    op: str
    other: str
    get: Getter
    get_other: Getter
    test: Callable[[Any, Any], bool]
    sensitive: bool = False
    loc: Loc = ()


@dataclass(slots=True, eq=False)
class JmesCheck:
    """Escape hatch: a JMESPath expression over the request view that must yield exactly true.

    `reads` are the request fields the expression reads from the view's root (`headers."x-a"` →
    ("headers", "x-a")): when any is missing or empty the answer is unknown, so a missing value
    never satisfies it. `sensitive` when one of them bears secrets: the expression is never shown."""

    expression: str
    search: Callable[[Any], Any]
    reads: tuple[tuple[str, ...], ...] = ()
    sensitive: bool = False
    loc: Loc = ()


@dataclass(slots=True, eq=False)
class AllOf:
    children: tuple[Node, ...]


@dataclass(slots=True, eq=False)
class AnyOf:
    children: tuple[Node, ...]


@dataclass(slots=True, eq=False)
class Not:
    child: Node


Node = Check | SourceMatch | JmesCheck | AllOf | AnyOf | Not


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
    path_regex: str | None = None  # the RE2 pattern `match_path` runs, when the path has wildcards

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

    `keyed_on` names the discriminating value: "route" (the concrete route), an identity source
    compared for equality (read by `get`, its single value keyed by `value_key`), or None (no
    index: every request tries `rest`). `table` maps a key to the rules that could match it (the
    rules keyed on it merged with every rule that is not keyed); `rest` is for any other key.
    """

    keyed_on: str | None
    table: Mapping[Any, tuple[CompiledRule, ...]]
    rest: tuple[CompiledRule, ...]
    get: Getter | None = None
    value_key: Callable[[Any], Any] | None = None


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
    # the value maps (headers, query, cookies) the policy reads anywhere, read before any rule so that
    # maps that disagree on them refuse the request whatever the rules' order (readers.multi_values);
    # `reads_whole_maps` when a JMESPath condition reads every name
    map_reads: tuple[Lookup, ...] = ()
    reads_whole_maps: bool = False
    sensitive: frozenset[str] = frozenset()  # lookup keys of the secret-bearing sources (sources.is_sensitive)
    # why each secret its conditions compare with cannot be read now (secrets.unavailable); None: it uses none
    unavailable_secrets: Callable[[], tuple[str, ...]] | None = None
    fast: Callable[..., Any] | None = None  # the same decisions as generated Python, attached by the store
