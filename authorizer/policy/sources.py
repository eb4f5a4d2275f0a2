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
    if values is None:
        return None
    kept = tuple(v for v in values if v != "")
    return kept or None


def getter(source: str) -> Getter:
    """A direct lookup for one source (already checked by check_source)."""
    family, name = check_source(source)
    if family == "header":
        lowered = name.lower()
        return lambda r: _nonempty(r.headers().get(lowered))
    if family == "query":
        return lambda r: _nonempty(r.query().get(name))
    if family == "cookie":
        return lambda r: _nonempty(r.cookies().get(name))
    if family == "stage":
        return lambda r: _present(r.stage_variables().get(name))
    if family == "path":
        return lambda r: _present(r.path_parameters().get(name))
    if family == "context":
        keys = name.split(".")

        def lookup(r: Request) -> Values | None:
            node: Any = r.request_context()
            for key in keys:
                if not isinstance(node, dict):
                    return None
                node = node.get(key)
            return _present(node)

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
