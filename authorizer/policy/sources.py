"""Identity sources: the names rules use for parts of a request, and direct lookups for each.

A source such as `header.X-Api-Key` becomes a plain function Request → values (a tuple, or None
when missing), so requests never go through `jmespath.search` for plain field paths. An empty
string counts as missing, as API Gateway counts it for identity sources.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authorizer.event.arn import ExecuteApiArn
from authorizer.event.kinds import NAMES, EventKind
from authorizer.event.readers import Values, cookie_map, header_values, query_values, route_key, source_ip, token
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
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_source(source: str) -> tuple[str, str]:
    """Split `family.name` (or a fixed source) and refuse what is not a source, with did-you-mean."""
    if source in FIXED:
        return source, ""
    family, dot, name = source.partition(".")
    if family in FAMILIES and dot and name:
        return family, name
    if family in FAMILIES:
        raise SourceError(f"identity source {source!r} needs a name after '{family}.'")
    candidates = list(FIXED) + [f"{f}.{name}" if name else f"{f}.NAME" for f in FAMILIES]
    hint = suggest(source, candidates) or suggest(family, [*FAMILIES, *FIXED])
    if not hint and family in ("headers", "querystring", "query_string", "stageVariables", "requestContext"):
        hint = "; families are header., query., stage., path., cookie., context."
    raise SourceError(f"unknown identity source {source!r}{hint}")


def source_key(source: str) -> str:
    """One name per source: `header.X-Key` and `header.x-key` are one header (what `Lookup.key` names)."""
    family, dot, name = source.partition(".")
    return f"header.{name.lower()}" if family == "header" and dot else source


def is_sensitive(source: str, extra: frozenset[str] = frozenset()) -> bool:
    """Secret-looking by its name (tokens, keys, cookies, ...), or named in `extra` (any spelling of a
    header). A policy adds the sources compared with a secret (`CompiledPolicy.sensitive`)."""
    if source == "token" or source_key(source) in {source_key(e) for e in extra}:
        return True
    family, _, name = source.partition(".")
    if family == "cookie":
        return True
    lowered = name.lower()
    return family in FAMILIES and any(word in lowered for word in _SENSITIVE_WORDS)


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


@dataclass(frozen=True, slots=True)
class Lookup:
    """How one source is read from a raw event (already classified: kind and parsed ARN).

    `key` names what is read: `header.X-Key` and `header.x-key` share one. `from_value_maps` marks
    the headers, query string and cookies: a scan of a map worth remembering within a request, and
    maps that must agree (readers.py) wherever the policy reads them.
    """

    key: str
    read: Reader
    from_value_maps: bool = False


def lookup(source: str) -> Lookup:
    """The lookup for one source (already checked by check_source)."""
    family, name = check_source(source)
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


def getter(source: str) -> Getter:
    """A Request → values function for one source; map scans are remembered in `Request.found`."""
    source_lookup = lookup(source)
    found_as, read = source_lookup.key, source_lookup.read
    if not source_lookup.from_value_maps:
        return lambda r: read(r.event, r.kind, r.arn)

    def remembered(r: Request) -> Values | None:
        found = r.found
        if found_as in found:  # read by an earlier rule (or the index) in this request
            return found[found_as]
        found[found_as] = values = read(r.event, r.kind, r.arn)
        return values

    return remembered
