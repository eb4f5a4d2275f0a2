"""Identity sources: the names rules use for parts of a request, and direct lookups for each.

A source such as `header.X-Api-Key` becomes a plain function Request → values (a tuple, or None
when missing), so requests never go through `jmespath.search` for plain field paths. An empty
string counts as missing, as API Gateway counts it for identity sources.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from authorizer.request import Request, Values

Getter = Callable[[Request], Values | None]

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
    "kind": "event kind: token, rest, websocket, http-v1, http-v2",
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


def is_sensitive(source: str, extra: frozenset[str] = frozenset()) -> bool:
    """Values of this source are redacted in traces and logs (tokens, keys, cookies, ...)."""
    if source in extra or source == "token":
        return True
    family, _, name = source.partition(".")
    if family == "cookie":
        return True
    lowered = name.lower()
    return family in FAMILIES and any(word in lowered for word in _SENSITIVE_WORDS)


def _present(value: Any) -> Values | None:
    return None if value is None or value == "" else (value,)


def _nonempty(values: Values | None) -> Values | None:
    if values is None or "" not in values:
        return values
    return tuple([v for v in values if v != ""]) or None


def getter(source: str) -> Getter:
    """A direct lookup for one source (already checked by check_source); one call deep on the hot path."""
    family, name = check_source(source)
    if family in ("header", "query", "cookie"):
        read_all = {"header": Request.header, "query": Request.query_parameter, "cookie": Request.cookie}[family]
        key = name.lower() if family == "header" else name
        found_as = f"{family}.{key}"  # header.X-Key and header.x-key are one lookup

        def listed(r: Request) -> Values | None:
            found = r.found
            if found_as in found:  # read by an earlier rule (or the index) in this request
                return found[found_as]
            values = read_all(r, key)
            found[found_as] = values = values if values is None or "" not in values else _nonempty(values)
            return values

        return listed
    if family in ("stage", "path"):
        read = Request.stage_variable if family == "stage" else Request.path_parameter

        def single(r: Request) -> Values | None:
            value = read(r, name)
            return (value,) if value else None

        return single
    if family == "context" and "." not in name:  # one level, the usual case (accountId, stage, apiId)

        def field(r: Request) -> Values | None:
            context = r.event.get("requestContext")
            value = context.get(name) if isinstance(context, dict) else None
            return None if value is None or value == "" else (value,)

        return field
    if family == "context":
        keys = name.split(".")

        def lookup(r: Request) -> Values | None:
            node: Any = r.event.get("requestContext")
            for key in keys:
                if not isinstance(node, dict):
                    return None
                node = node.get(key)
            return None if node is None or node == "" else (node,)

        return lookup
    fixed: dict[str, Getter] = {
        "token": lambda r: _present(r.token()),
        "source_ip": lambda r: _present(r.source_ip()),
        "kind": lambda r: (r.kind,),
        "route.method": lambda r: (r.arn.method,),
        "route.path": lambda r: (r.arn.path,),
        "route.key": lambda r: (r.route_key(),),
        "arn.partition": lambda r: (r.arn.partition,),
        "arn.region": lambda r: (r.arn.region,),
        "arn.account": lambda r: (r.arn.account,),
        "arn.api": lambda r: (r.arn.api,),
        "arn.stage": lambda r: (r.arn.stage,),
    }
    return fixed[family]
