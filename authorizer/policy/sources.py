"""Identity sources: the names rules use for parts of a request, and direct lookups for each.

A source such as `header.X-Api-Key` becomes a plain function Request → values (a tuple, or None
when missing), so requests never go through `jmespath.search` for plain field paths. An empty
string counts as missing, as API Gateway counts it for identity sources.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from authorizer.event.arn import ExecuteApiArn
from authorizer.event.kinds import NAMES, EventKind
from authorizer.event.readers import (
    Values,
    cookie_map,
    header_values,
    headers_values,
    query_values,
    route_key,
    source_ip,
    token,
)
from authorizer.event.request import Request

Getter = Callable[[Request], Values | None]
Reader = Callable[[dict[str, Any], EventKind, ExecuteApiArn], Values | None]
REDACTED = "<redacted>"  # what traces, logs and pages show instead of a sensitive value

# name-taking families: `family.name`
FAMILIES = {
    "header": "request header (name case-insensitive)",
    "query": "query string parameter (case-sensitive)",
    "stage": "stage variable",
    "path": "path parameter",
    "cookie": "cookie (HTTP API cookies[] or the Cookie header)",
    "context": "requestContext field, dotted path (context.identity.sourceIp)",
}
# fixed sources
FIXED = {
    "token": "TOKEN authorizer's authorizationToken",
    "source_ip": "caller's IP address",
    "kind": f"event kind: {', '.join(NAMES)}",
    "route.method": "HTTP method from the ARN ('' for WebSocket)",
    "route.path": "request path from the ARN (concrete, e.g. /pets/42)",
    "route.key": "route as configured (GET /pets/{id}, $connect, $default)",
    "arn.partition": "ARN partition",
    "arn.region": "ARN region",
    "arn.account": "ARN account id",
    "arn.api": "API id",
    "arn.stage": "stage name",
}
# verified token claims (policy/claims.py, only for policies with a `tokens:` section): `jwt.a.b`
# (dotted path), `jwt[name:with.dots]` (bracket form, segment by segment), and two derived sources
CLAIMS = "jwt"
DERIVED_CLAIMS = {
    "jwt.scopes": "the token's scopes: `scope` split on spaces, then `scp`",
    "jwt.issuer": "the name the policy gives the token's issuer (under tokens.issuers)",
}
CLAIM_PATTERN = r"jwt(?:\.[^.\[\]]+|\[[^\[\]]+\])+"  # what `when` keys and `from:` may name (the JSON Schema too)
LIST_CLAIMS = frozenset({"cognito:groups", "cognito:roles", "groups", "roles", "amr"})  # arrays by convention
_SEGMENT = r"\.([^.\[\]]+)|\[([^\[\]]+)\]"  # compiled on first use (by `re`'s cache): no cost to a cold start
_SENSITIVE_WORDS = (
    "auth",
    "token",
    "key",
    "secret",
    "passw",
    "session",
    "cookie",
    "signature",
    "credential",
    "jwt",
)


class SourceError(ValueError):
    pass


def suggest(word: str, choices: list[str]) -> str:
    import difflib  # only for an error: not on the cold path

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def claim_path(source: str) -> tuple[str, ...]:
    """The claim names a `jwt` source reads, outermost first: `jwt.a.b` and `jwt[a][b]` → ("a", "b");
    () for the derived `jwt.scopes` and `jwt.issuer`. SourceError when it is not a claim source."""
    if source in DERIVED_CLAIMS:
        return ()
    rest = source[len(CLAIMS) :] if source.startswith(CLAIMS) else None
    path: list[str] = []
    at = 0
    while rest is not None and at < len(rest):
        match = re.compile(_SEGMENT).match(rest, at)
        if match is None:
            break
        path.append(match[1] if match[1] is not None else match[2])
        at = match.end()
    if rest is None or not rest or at < len(rest):
        raise SourceError(
            f"claim source {source!r} is malformed: write jwt.NAME, jwt.a.b for nested claims, or "
            "jwt[name] for names holding '.', '[' or ']' (jwt[https://example.com/tenant])"
        )
    if rest.startswith((".scopes.", ".issuer.")):  # jwt.issuer.x: a claim named issuer, or a mistake
        head = rest[1:].split(".", 1)[0]
        raise SourceError(f"jwt.{head} is derived, not a claim: for a claim named {head!r} write jwt[{head}]...")
    return tuple(path)


def is_claim(source: str) -> bool:
    """A `jwt.*` source (a verified token's claim, its scopes or its issuer's name)."""
    return source.startswith(CLAIMS) and source[len(CLAIMS) : len(CLAIMS) + 1] in (".", "[")


def check_source(source: str) -> tuple[str, str]:
    """Split `family.name` (or a fixed source) and refuse what is not a source, with did-you-mean.
    A claim source gives ("jwt", what follows `jwt`)."""
    if source in FIXED:
        return source, ""
    if is_claim(source) or source == CLAIMS:
        if source == CLAIMS:
            raise SourceError("`jwt` needs a claim: jwt.sub, jwt[cognito:groups], jwt.scopes, jwt.issuer")
        claim_path(source)
        return CLAIMS, source[len(CLAIMS) :]
    family, dot, name = source.partition(".")
    if family in FAMILIES and dot and name:
        return family, name
    if family in FAMILIES:
        raise SourceError(f"identity source {source!r} needs a name after '{family}.'")
    candidates = list(FIXED) + [f"{f}.{name}" if name else f"{f}.NAME" for f in (*FAMILIES, CLAIMS)]
    hint = suggest(source, candidates) or suggest(family, [*FAMILIES, *FIXED])
    if not hint and family in ("headers", "querystring", "query_string", "stageVariables", "requestContext"):
        hint = "; families are header., query., stage., path., cookie., context."
    raise SourceError(f"unknown identity source {source!r}{hint}")


def source_key(source: str) -> str:
    """One name per source: `header.X-Key` and `header.x-key` are one header, `jwt.a.b` and `jwt[a][b]`
    one claim, written `jwt[a][b]` (what `Lookup.key` names)."""
    if is_claim(source) and source not in DERIVED_CLAIMS:
        try:
            return CLAIMS + "".join(f"[{name}]" for name in claim_path(source))
        except SourceError:
            return source
    family, dot, name = source.partition(".")
    return f"header.{name.lower()}" if family == "header" and dot else source


def is_sensitive(source: str, extra: frozenset[str] = frozenset()) -> bool:
    """Secret-looking by its name (tokens, keys, cookies, ...), a claim about the person (`jwt.email`,
    tokens.claims.PERSONAL_CLAIMS), or named in `extra` (any spelling of a header). A policy adds the
    sources compared with a secret and where its token travels (`CompiledPolicy.sensitive`)."""
    if source == "token" or source_key(source) in {source_key(e) for e in extra}:
        return True
    if is_claim(source):  # claims are signed, not secret; those about the person are redacted
        from authorizer.tokens.claims import PERSONAL_CLAIMS  # only token policies name claims

        try:
            return any(name in PERSONAL_CLAIMS for name in claim_path(source))
        except SourceError:
            return True
    family, _, name = source.partition(".")
    if family == "cookie":
        return True
    lowered = name.lower()
    return family in FAMILIES and any(word in lowered for word in _SENSITIVE_WORDS)


def hides_paths(sensitive: frozenset[str]) -> bool:
    """A path parameter bears secrets, so the path holds one: what we show of a request names its
    route, never its path (`CompiledPolicy.shown_route`, the local gateway)."""
    return any(key.startswith("path.") for key in sensitive)


TEXT_ONLY = ("header", "query", "stage", "path", "cookie", "token", "source_ip", "route", "arn", "kind")


def holds_text(source: str) -> bool:
    """Values of this source are always strings (everything but requestContext fields)."""
    return source.partition(".")[0] in TEXT_ONLY


def _present(value: Any) -> Values | None:
    return None if value is None or value == "" else (value,)


def _nonempty(values: Values | None) -> Values | None:
    if values is None or "" not in values:
        return values
    return tuple([v for v in values if v != ""]) or None


class Basis:
    """A value several sources are read from, computed at most once per request (the verified token):
    kept in `Request.found` under `key`. `compute` reads what it needs through getters (memoised in the
    request too); `missing_because` says why a source read from it is missing (a reason code such as
    `token.expired`), for traces and the decision's reason; None if it is not. (A plain class: a
    dataclass costs every cold start, tokens or not.)"""

    __slots__ = ("compute", "key", "missing_because")

    def __init__(
        self, key: str, compute: Callable[[Request], Any], missing_because: Callable[[Any], str | None]
    ) -> None:
        self.key = key
        self.compute = compute
        self.missing_because = missing_because


class Lookup:
    """How one source is read from a raw event (already classified: kind and parsed ARN).

    `key` names what is read: `header.X-Key` and `header.x-key` share one. `from_value_maps` marks
    the headers, query string and cookies: a scan of a map worth remembering within a request, and
    maps that must agree (readers.py) wherever the policy reads them. With a `basis`, the source is
    `take(basis value)`: the basis is computed once per request by whichever reads it first (`read`
    alone computes it afresh: right, but without the memo). A plain class: a dataclass costs every
    cold start ~0.4 ms.
    """

    __slots__ = ("basis", "from_value_maps", "key", "read", "take")

    def __init__(
        self,
        key: str,
        read: Reader,
        from_value_maps: bool = False,
        basis: Basis | None = None,
        take: Callable[[Any], Values | None] | None = None,
    ) -> None:
        self.key = key
        self.read = read
        self.from_value_maps = from_value_maps
        self.basis = basis
        self.take = take


def lookup(source: str) -> Lookup:
    """The lookup for one source (already checked by check_source); a claim's is the policy's
    (policy/claims.py), since it needs the policy's issuers."""
    family, name = check_source(source)
    if family == CLAIMS:
        raise SourceError(
            f"{source} reads a verified token: declare where the token travels and who issues it under "
            "`tokens:` (from, issuers)"
        )
    if family == "header":
        key = name.lower()

        def header(ev: dict[str, Any], kind: EventKind, arn: ExecuteApiArn) -> Values | None:
            values = header_values(ev, kind, key)
            return values if values is None or "" not in values else _nonempty(values)

        return Lookup(source_key(source), header, from_value_maps=True)
    if family == "query":

        def query(ev: dict[str, Any], kind: EventKind, arn: ExecuteApiArn) -> Values | None:
            values = query_values(ev, kind, name)
            return values if values is None or "" not in values else _nonempty(values)

        return Lookup(source, query, from_value_maps=True)
    if family == "cookie":
        return Lookup(source, lambda ev, kind, arn: _nonempty(cookie_map(ev, kind).get(name)), from_value_maps=True)
    if family in ("stage", "path"):
        holder = "stageVariables" if family == "stage" else "pathParameters"

        def single(ev: dict[str, Any], kind: EventKind, arn: ExecuteApiArn) -> Values | None:
            raw = ev.get(holder)
            value = raw.get(name) if isinstance(raw, dict) else None
            return (value,) if isinstance(value, str) and value else None

        return Lookup(source, single)
    if family == "context":
        first, *rest = name.split(".")

        def field(ev: dict[str, Any], kind: EventKind, arn: ExecuteApiArn) -> Values | None:
            node = ev.get("requestContext")
            node = node.get(first) if isinstance(node, dict) else None
            for key in rest:
                node = node.get(key) if isinstance(node, dict) else None
            return None if node is None or node == "" else (node,)

        return Lookup(source, field)
    fixed: dict[str, Reader] = {
        "token": lambda ev, kind, arn: _present(token(ev, kind)),
        "source_ip": lambda ev, kind, arn: _present(source_ip(ev, kind)),
        "kind": lambda ev, kind, arn: (kind.name,),
        "route.method": lambda ev, kind, arn: (arn.method,),
        "route.path": lambda ev, kind, arn: (arn.path,),
        "route.key": lambda ev, kind, arn: (route_key(ev, arn),),
        "arn.partition": lambda ev, kind, arn: (arn.partition,),
        "arn.region": lambda ev, kind, arn: (arn.region,),
        "arn.account": lambda ev, kind, arn: (arn.account,),
        "arn.api": lambda ev, kind, arn: (arn.api,),
        "arn.stage": lambda ev, kind, arn: (arn.stage,),
    }
    return Lookup(source, fixed[family])


HeadersReader = Callable[[dict[str, Any], EventKind, ExecuteApiArn], list[Values | None]]


def headers_reader(keys: tuple[str, ...]) -> HeadersReader:
    """The headers `keys` (lower-cased) read at once, each as its `lookup` reads it: for a policy's
    value maps, read before any rule (readers.headers_values finds the folding plan once)."""

    def read(ev: dict[str, Any], kind: EventKind, arn: ExecuteApiArn) -> list[Values | None]:
        return [v if v is None or "" not in v else _nonempty(v) for v in headers_values(ev, kind, keys)]

    return read


def getter(source: str) -> Getter:
    """A Request → values function for one source of any policy (not `jwt.*`: see `getter_of`)."""
    return getter_of(lookup(source))


def getter_of(found: Lookup) -> Getter:
    """A Request → values function for a lookup; map scans and bases are remembered in `Request.found`."""
    found_as, read = found.key, found.read
    basis, take = found.basis, found.take
    if basis is not None and take is not None:
        basis_key, compute = basis.key, basis.compute

        def derived(r: Request) -> Values | None:
            memo = r.found
            if found_as in memo:
                return memo[found_as]  # type: ignore[no-any-return]
            value = memo[basis_key] if basis_key in memo else compute(r)
            memo[basis_key] = value
            memo[found_as] = values = take(value)
            return values

        return derived
    if not found.from_value_maps:
        return lambda r: read(r.event, r.kind, r.arn)

    def remembered(r: Request) -> Values | None:
        memo = r.found
        if found_as in memo:  # read by an earlier rule (or the index) in this request
            return memo[found_as]  # type: ignore[no-any-return]
        memo[found_as] = values = read(r.event, r.kind, r.arn)
        return values

    return remembered
