"""What people see of a request: the echo backend's JSON, the HTML page and the WebSocket echo.

Sensitivity belongs to a source for the whole policy (`CompiledPolicy.sensitive`, plus names that
look secret-bearing): wherever the gateway shows a request or an answer, those values are
redacted, as traces and logs redact them. Shown redacted: the principal and context values taken
from such sources, in `requestContext.authorizer` too (the `Decision.shown_*` helpers); in the
echoed authorizer event, such headers (names in any case), query parameters, stage variables and
path parameters in every map they appear in, every cookie's value (the Cookie header and
`cookies[]`), and always `authorizationToken` and `identitySource` (they are the credentials). When a
path parameter bears secrets, the concrete path and the ARN's path are redacted too, everywhere a
request is shown (the route template, `resource` or `routeKey`, stays: `CompiledPolicy.shown_route`).
What goes to an `--upstream` is not a display: it gets the request as sent and the real values.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from authorizer.decide.decision import Decision
from authorizer.event.kinds import EventKind
from authorizer.policy.sources import REDACTED, hides_paths, is_sensitive, source_key

_MAPS = {  # event field → the source family its names belong to
    "headers": "header",
    "multiValueHeaders": "header",
    "queryStringParameters": "query",
    "multiValueQueryStringParameters": "query",
    "stageVariables": "stage",
    "pathParameters": "path",
}
_CREDENTIALS = ("authorizationToken", "identitySource")


def shown_authorizer(authorizer: dict[str, Any], decision: Decision | None, kind: EventKind) -> dict[str, Any]:
    """`requestContext.authorizer` as shown: REST's principal and context keys, HTTP's `lambda` map."""
    if decision is None:
        return authorizer
    if kind.api == "http":
        return {**authorizer, "lambda": decision.shown_context(authorizer.get("lambda") or {})}
    shown = decision.shown_context({k: v for k, v in authorizer.items() if k != "principalId"})
    if "principalId" in authorizer:
        shown = {"principalId": REDACTED if decision.principal_sensitive else authorizer["principalId"], **shown}
    return shown


def shown_event(event: dict[str, Any] | None, sensitive: frozenset[str]) -> dict[str, Any] | None:
    """The authorizer event with the values of secret-bearing sources redacted."""
    if event is None:
        return None

    def secret(family: str, name: str) -> bool:
        source = f"{family}.{name}"
        return source_key(source) in sensitive or is_sensitive(source)

    def value(family: str, name: str, value: Any) -> Any:
        if family == "header" and name.lower() == "cookie":
            return [_cookie(v) for v in value] if isinstance(value, list) else _cookie(value)
        return _redacted(value) if secret(family, name) else value

    shown = dict(event)
    for field, family in _MAPS.items():
        values = shown.get(field)
        if isinstance(values, dict):
            shown[field] = {name: value(family, name, v) for name, v in values.items()}
    for field in _CREDENTIALS:
        if field in shown:
            shown[field] = _redacted(shown[field])
    if isinstance(shown.get("cookies"), list):
        shown["cookies"] = [_cookie(c) for c in shown["cookies"]]
    if hides_paths(sensitive):  # the path holds a secret: its route template only
        _hide_paths(shown)
    if isinstance(shown.get("rawQueryString"), str):
        shown["rawQueryString"] = "&".join(
            f"{part.partition('=')[0]}={REDACTED}" if secret("query", unquote(part.partition("=")[0])) else part
            for part in shown["rawQueryString"].split("&")
        )
    return shown


def _hide_paths(shown: dict[str, Any]) -> None:
    """Every field holding the concrete path (or the ARN that ends with it), redacted in place; the
    route templates (`resource`, `routeKey`) stay."""
    for field in ("path", "rawPath"):
        if field in shown:
            shown[field] = _redacted(shown[field])
    for field in ("methodArn", "routeArn"):
        arn = shown.get(field)
        if isinstance(arn, str) and arn.count("/") >= 3:  # …/stage/METHOD/path: the path goes
            shown[field] = "/".join([*arn.split("/", 3)[:3], REDACTED])
    context = shown.get("requestContext")
    if isinstance(context, dict):
        context = shown["requestContext"] = dict(context)
        if "path" in context:
            context["path"] = _redacted(context["path"])
        http = context.get("http")
        if isinstance(http, dict) and "path" in http:
            context["http"] = {**http, "path": _redacted(http["path"])}


def _redacted(value: Any) -> Any:
    """A value, or each value of a list, redacted; empty values stay empty (nothing to hide)."""
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return REDACTED if value not in (None, "") else value


def _cookie(pair: Any) -> Any:
    """`name=value` → `name=<redacted>`: which cookies were sent, never their values."""
    if not isinstance(pair, str):
        return _redacted(pair)
    return "; ".join(f"{part.partition('=')[0].strip()}={REDACTED}" for part in pair.split(";") if part.strip())
