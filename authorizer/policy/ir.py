"""The compiled policy: plain data, with the small functions (lookups, tests) built for it.

Plain `__slots__` classes, not dataclasses: each dataclass costs ~0.4 ms of every cold start to
create (its methods are generated and compiled at import).

This is what the compiler produces and what everything after it reads: the engine and the
generated code decide with it (authorizer.decide), lint reasons about it, coverage counts it.
Nothing here evaluates a request: conditions are evaluated by `authorizer.decide.conditions`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from authorizer.event.arn import ExecuteApiArn
from authorizer.event.readers import route_key
from authorizer.policy.errors import Loc
from authorizer.policy.sources import REDACTED, Basis, Getter, Lookup, hides_paths

if TYPE_CHECKING:  # `cryptography` comes with it: only policies with `tokens:` import it (policy/claims.py)
    from authorizer.tokens.verify import IssuerConfig

ValuesMode = Literal["single", "any", "all", "joined"]


class Check:
    """One operator applied to one identity source."""

    __slots__ = (
        "equals_key",
        "expected",
        "get",
        "holds_when_missing",
        "loc",
        "lookup",
        "mode",
        "op",
        "pattern",
        "sensitive",
        "source",
        "test",
    )

    def __init__(
        self,
        source: str,
        op: str,
        expected: Any,  # as shown in traces (already redacted when sensitive)
        get: Getter,
        lookup: Lookup,  # what `get` reads (the generated code reads it too)
        test: Callable[[Any], bool | None],  # None: it cannot tell (a secret that cannot be read)
        mode: ValuesMode = "single",
        holds_when_missing: bool | None = None,  # what a missing source answers: unknown, or True for `exists: false`
        sensitive: bool = False,
        loc: Loc = (),
        equals_key: Any = None,  # single-valued equality: the typed (or digest) key of its literal, for the index
        pattern: str | None = None,  # single-valued text test on a source bearing no secret: its RE2 pattern
    ) -> None:
        self.source = source
        self.op = op
        self.expected = expected
        self.get = get
        self.lookup = lookup
        self.test = test
        self.mode = mode
        self.holds_when_missing = holds_when_missing
        self.sensitive = sensitive
        self.loc = loc
        self.equals_key = equals_key
        self.pattern = pattern


class SourceMatch:
    """One source compared with another (`path.tenant: {equals: {from: header.x-tenant}}`): both
    must be present and single-valued, else the answer is unknown."""

    __slots__ = ("get", "get_other", "loc", "lookup", "lookup_other", "op", "other", "sensitive", "source", "test")

    def __init__(
        self,
        source: str,
        op: str,
        other: str,
        get: Getter,
        get_other: Getter,
        lookup: Lookup,
        lookup_other: Lookup,
        test: Callable[[Any, Any], bool],
        sensitive: bool = False,
        loc: Loc = (),
    ) -> None:
        self.source = source
        self.op = op
        self.other = other
        self.get = get
        self.get_other = get_other
        self.lookup = lookup
        self.lookup_other = lookup_other
        self.test = test
        self.sensitive = sensitive
        self.loc = loc


class JmesCheck:
    """Escape hatch: a JMESPath expression over the request view that must yield exactly true.

    `reads` are the request fields the expression reads from the view's root (`headers."x-a"` →
    ("headers", "x-a")): when any is missing or empty the answer is unknown, so a missing value
    never satisfies it. `sensitive` when one of them bears secrets: the expression is never shown."""

    __slots__ = ("expression", "loc", "reads", "search", "sensitive")

    def __init__(
        self,
        expression: str,
        search: Callable[[Any], Any],
        reads: tuple[tuple[str, ...], ...] = (),
        sensitive: bool = False,
        loc: Loc = (),
    ) -> None:
        self.expression = expression
        self.search = search
        self.reads = reads
        self.sensitive = sensitive
        self.loc = loc


class AllOf:
    __slots__ = ("children",)

    def __init__(self, children: tuple[Node, ...]) -> None:
        self.children = children


class AnyOf:
    __slots__ = ("children",)

    def __init__(self, children: tuple[Node, ...]) -> None:
        self.children = children


class Not:
    __slots__ = ("child",)

    def __init__(self, child: Node) -> None:
        self.child = child


Node = Check | SourceMatch | JmesCheck | AllOf | AnyOf | Not


class Output:
    """A rule output: a literal, or a value copied from the request."""

    __slots__ = ("get", "join", "literal", "lookup", "sensitive", "source")

    def __init__(
        self,
        literal: Any = None,
        source: str | None = None,
        get: Getter | None = None,
        lookup: Lookup | None = None,
        sensitive: bool = False,
        join: str | None = None,  # every value joined into one string (array claims, repeated headers)
    ) -> None:
        self.literal = literal
        self.source = source
        self.get = get
        self.lookup = lookup
        self.sensitive = sensitive
        self.join = join


class RoutePattern:
    """`GET /pets/*` or `$connect`: method ('' for WebSocket, '*' for ANY), path test, IAM path."""

    __slots__ = ("exact_path", "iam_path", "match_path", "method", "path_regex", "text")

    def __init__(
        self,
        text: str,
        method: str,
        exact_path: str | None,  # set when the pattern has no wildcard (indexable)
        match_path: Callable[[str], bool],
        iam_path: str,
        path_regex: str | None = None,  # the RE2 pattern `match_path` runs, when the path has wildcards
    ) -> None:
        self.text = text
        self.method = method
        self.exact_path = exact_path
        self.match_path = match_path
        self.iam_path = iam_path
        self.path_regex = path_regex

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method) and self.match_path(path)


class CompiledRule:
    __slots__ = (
        "conditions",
        "context",
        "effect",
        "literal_context",
        "loc",
        "name",
        "position",
        "principal",
        "resource",
        "routes",
        "usage_identifier_key",
    )

    def __init__(
        self,
        name: str,
        position: int,
        effect: Literal["allow", "deny"],
        conditions: tuple[Node, ...],
        routes: tuple[RoutePattern, ...] | None,
        principal: Output,
        context: tuple[tuple[str, Output], ...],
        usage_identifier_key: Output | None,
        resource: str,
        loc: Loc = (),
    ) -> None:
        self.name = name
        self.position = position
        self.effect = effect
        self.conditions = conditions
        self.routes = routes
        self.principal = principal
        self.context = context
        self.usage_identifier_key = usage_identifier_key
        self.resource = resource
        self.loc = loc
        # when no context value comes from the request: the context itself, built once
        literal = all(out.get is None for _, out in context)
        self.literal_context: dict[str, Any] | None = {k: out.literal for k, out in context} if literal else None

    def in_scope(self, arn: ExecuteApiArn) -> bool:
        if self.routes is None:
            return True
        method, path = arn.method, arn.path
        return any(p.matches(method, path) for p in self.routes)


class RuleIndex:
    """Narrows the rules worth trying for a request, keeping their order (first match wins).

    `keyed_on` names the discriminating value: "route" (the concrete route), an identity source
    compared for equality (read by `get`, its single value keyed by `value_key`) or with patterns
    (`patterns`), or None (no index: every request tries `rest`). `table` maps a key to the rules
    that could match it (the rules keyed on it merged with every rule that is not keyed); `rest` is
    for any other key. With `patterns`, a key is a pattern's id, `keyed[id]` its rule, and `every`
    (all the rules) is for a value the set cannot answer for (policy/index.py).
    """

    __slots__ = ("every", "get", "keyed", "keyed_on", "lookup", "patterns", "rest", "table", "value_key")

    def __init__(
        self,
        keyed_on: str | None,
        table: Mapping[Any, tuple[CompiledRule, ...]],
        rest: tuple[CompiledRule, ...],
        get: Getter | None = None,
        lookup: Lookup | None = None,
        value_key: Callable[[Any], Any] | None = None,
        patterns: Callable[[str], list[int] | None]
        | None = None,  # ids of the patterns a text matches (regex.PatternSet)
        keyed: tuple[CompiledRule, ...] = (),
        every: tuple[CompiledRule, ...] = (),
    ) -> None:
        self.keyed_on = keyed_on
        self.table = table
        self.rest = rest
        self.get = get
        self.lookup = lookup
        self.value_key = value_key
        self.patterns = patterns
        self.keyed = keyed
        self.every = every


class Tokens:
    """The `tokens:` section, compiled (policy/claims.py): where the token travels (`carriers`, sources
    tried in order, exactly one may hold it), its scheme, the leeway, the issuers by the names the
    policy gives them, and `verified`: the token verified once per request (`jwt.*` lookups read it).
    A plain class: a dataclass would cost every cold start, tokens or not."""

    __slots__ = ("carriers", "issuers", "leeway", "scheme", "verified")

    def __init__(
        self,
        carriers: tuple[str, ...],
        scheme: Literal["bearer", "raw"],
        leeway: float,
        issuers: Mapping[str, IssuerConfig],
        verified: Basis,
    ) -> None:
        self.carriers = carriers
        self.scheme = scheme
        self.leeway = leeway
        self.issuers = issuers
        self.verified = verified


class CompiledPolicy:
    """A whole policy, compiled (immutable by convention: `replace` gives a changed copy)."""

    __slots__ = (
        "digest",
        "fast",
        "hides_paths",
        "index",
        "map_reads",
        "name",
        "on_no_match",
        "reads_whole_maps",
        "resource",
        "response",
        "rules",
        "secrets",
        "sensitive",
        "tokens",
        "unavailable_secrets",
    )

    def __init__(
        self,
        name: str,
        digest: str,
        rules: tuple[CompiledRule, ...],
        index: RuleIndex,
        on_no_match: Literal["unauthorized", "deny"],
        resource: str,
        response: Literal["iam", "simple"],
        secrets: tuple[str, ...] = (),
        # the value maps (headers, query, cookies) the policy reads anywhere, read before any rule so
        # that maps that disagree on them refuse the request whatever the rules' order
        # (readers.multi_values); `reads_whole_maps` when a JMESPath condition reads every name
        map_reads: tuple[Lookup, ...] = (),
        reads_whole_maps: bool = False,
        sensitive: frozenset[str] = frozenset(),  # lookup keys of the secret-bearing sources (sources.is_sensitive)
        tokens: Tokens | None = None,  # the `tokens:` section, when the policy verifies bearer tokens
        # why each secret its conditions compare with cannot be read now (secrets.unavailable); None: it uses none
        unavailable_secrets: Callable[[], tuple[str, ...]] | None = None,
        fast: Callable[..., Any] | None = None,  # the same decisions as generated Python, attached by the store
    ) -> None:
        self.name = name
        self.digest = digest
        self.rules = rules
        self.index = index
        self.on_no_match = on_no_match
        self.resource = resource
        self.response = response
        self.secrets = secrets
        self.map_reads = map_reads
        self.reads_whole_maps = reads_whole_maps
        self.sensitive = sensitive
        self.tokens = tokens
        self.unavailable_secrets = unavailable_secrets
        self.fast = fast
        self.hides_paths = hides_paths(sensitive)  # derived: decided once, read by every decision line

    def shown_route(self, event: dict[str, Any], arn: ExecuteApiArn) -> str:
        """The request's route as logs and pages show it: `GET /hooks/abc`, or when the path bears
        secrets, the route API Gateway matched (`GET /hooks/{token}`; the method alone without one)."""
        if not self.hides_paths:
            return arn.route
        template = route_key(event, arn)
        if template != arn.route or "/" not in template:
            return template
        return f"{arn.method} {REDACTED}" if arn.method else REDACTED

    def shown_arn(self, arn_text: str, arn: ExecuteApiArn) -> str:
        """The request's ARN as messages show it: without its path when the path bears secrets."""
        if not self.hides_paths or not arn.method or not arn.path.strip("/"):
            return arn_text
        return f"{arn.prefix}/{arn.stage}/{arn.method}/{REDACTED}"

    def replace(self, **changes: Any) -> CompiledPolicy:
        """A copy with `changes` (the store attaching the generated function, tests removing the index)."""
        given = {name: getattr(self, name) for name in self.__slots__ if name != "hides_paths"}
        return CompiledPolicy(**{**given, **changes})
