"""One read-only view of an authorizer event, whatever its kind.

The five kinds (REST TOKEN, REST REQUEST, WebSocket `$connect`, HTTP API payload 1.0 and 2.0) are
told apart from the event itself. Every map may be null or absent; header names are
case-insensitive; values are kept as tuples so that a name sent twice with different values is
visible (and, by default, fails a condition instead of silently taking the last value).
Maps are normalised lazily, on first use, so a request pays only for what its rules read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authorizer.arn import ArnError, ExecuteApiArn, parse_arn

Values = tuple[Any, ...]

KINDS = ("token", "rest", "websocket", "http-v1", "http-v2")


class BadEvent(ValueError):
    """The event is not an API Gateway authorizer event; the request is refused."""


def detect_kind(event: Mapping[str, Any]) -> str:
    """Which of the five authorizer event shapes this is (apigw-domain.md §1.6)."""
    kind_type = event.get("type")
    version = event.get("version")
    if kind_type == "TOKEN":
        return "token"
    if kind_type != "REQUEST":
        raise BadEvent("not an authorizer event (type is neither TOKEN nor REQUEST)")
    if version == "2.0":
        return "http-v2"
    if version == "1.0":
        return "http-v1"
    if version is not None:
        raise BadEvent("unknown payload version")
    context = event.get("requestContext")
    if isinstance(context, dict) and context.get("eventType") == "CONNECT":
        return "websocket"
    arn = event.get("methodArn")
    if isinstance(arn, str) and arn.endswith("/$connect"):
        return "websocket"
    return "rest"


def _str_map(raw: object) -> dict[str, str]:
    """Keep the string-valued entries of a map that may be null, absent or junk."""
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}


def _multi_map(single: object, multi: object, fold_case: bool) -> dict[str, Values]:
    """Merge a single-value map (last value) with its multiValue twin (all values).

    API Gateway's single value is one of the multiValue ones; if an event says otherwise, both are
    kept, so the name reads as conflicting (refused by default) rather than trusting either map.
    """
    merged: dict[str, list[str]] = {}
    if isinstance(multi, dict):
        for name, values in multi.items():
            if isinstance(name, str) and isinstance(values, list):
                key = name.lower() if fold_case else name
                merged.setdefault(key, []).extend(v for v in values if isinstance(v, str))
    for name, value in _str_map(single).items():
        key = name.lower() if fold_case else name
        known = merged.setdefault(key, [])
        if value not in known:
            known.append(value)
    return {k: tuple(v) for k, v in merged.items() if v}


def _joined_map(raw: object, fold_case: bool) -> dict[str, Values]:
    """HTTP API 2.0 comma-joins repeated names: `a,b` becomes two values."""
    out: dict[str, Values] = {}
    for name, value in _str_map(raw).items():
        key = name.lower() if fold_case else name
        parts = tuple(p.strip() for p in value.split(",")) if "," in value else (value,)
        out[key] = out.get(key, ()) + parts
    return out


def _cookies(raw: object) -> dict[str, Values]:
    out: dict[str, list[str]] = {}
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, str) and "=" in item:
                name, _, value = item.partition("=")
                out.setdefault(name.strip(), []).append(value.strip())
    return {k: tuple(v) for k, v in out.items()}


class Request:
    """Normalised, read-only view of one authorizer event (built per request, filled lazily)."""

    __slots__ = ("_cookies", "_headers", "_query", "_view", "arn", "arn_text", "event", "kind")

    def __init__(self, event: object) -> None:
        if not isinstance(event, dict):
            raise BadEvent("event is not a JSON object")
        self.event: dict[str, Any] = event
        self.kind = detect_kind(event)
        arn_text = event.get("routeArn") if self.kind == "http-v2" else event.get("methodArn")
        try:
            self.arn: ExecuteApiArn = parse_arn(arn_text)
        except ArnError as exc:
            raise BadEvent(str(exc)) from None
        self.arn_text: str = str(arn_text)
        self._headers: dict[str, Values] | None = None
        self._query: dict[str, Values] | None = None
        self._cookies: dict[str, Values] | None = None
        self._view: dict[str, Any] | None = None

    # -- identity sources -------------------------------------------------------------------
    def headers(self) -> dict[str, Values]:
        """Lower-cased header name → every value received."""
        if self._headers is None:
            ev = self.event
            if self.kind == "http-v2":
                self._headers = _joined_map(ev.get("headers"), fold_case=True)
            else:
                self._headers = _multi_map(ev.get("headers"), ev.get("multiValueHeaders"), fold_case=True)
        return self._headers

    def query(self) -> dict[str, Values]:
        """Query parameter name (case-sensitive, as API Gateway treats it) → every value."""
        if self._query is None:
            ev = self.event
            if self.kind == "http-v2":
                self._query = _joined_map(ev.get("queryStringParameters"), fold_case=False)
            else:
                self._query = _multi_map(
                    ev.get("queryStringParameters"), ev.get("multiValueQueryStringParameters"), False
                )
        return self._query

    def cookies(self) -> dict[str, Values]:
        """HTTP API 2.0 `cookies[]`, else the Cookie header, as name → values."""
        if self._cookies is None:
            raw = self.event.get("cookies")
            if raw is None:
                raw = [c for h in self.headers().get("cookie", ()) for c in h.split(";")]
            self._cookies = _cookies(raw)
        return self._cookies

    def stage_variables(self) -> dict[str, str]:
        return _str_map(self.event.get("stageVariables"))

    def path_parameters(self) -> dict[str, str]:
        return _str_map(self.event.get("pathParameters"))

    def request_context(self) -> dict[str, Any]:
        ctx = self.event.get("requestContext")
        return ctx if isinstance(ctx, dict) else {}

    def token(self) -> str | None:
        token = self.event.get("authorizationToken") if self.kind == "token" else None
        return token if isinstance(token, str) else None

    def source_ip(self) -> str | None:
        ctx = self.request_context()
        holder = ctx.get("http") if self.kind == "http-v2" else ctx.get("identity")
        ip = holder.get("sourceIp") if isinstance(holder, dict) else None
        return ip if isinstance(ip, str) else None

    def route_key(self) -> str:
        """The route as configured: v2/WebSocket `routeKey`, REST `METHOD /resource/{template}`."""
        for holder in (self.event, self.request_context()):
            key = holder.get("routeKey")
            if isinstance(key, str):
                return key
        resource = self.event.get("resource")
        if isinstance(resource, str) and self.arn.method:
            return f"{self.arn.method} {resource}"
        return self.arn.route

    def view(self) -> dict[str, Any]:
        """The whole request as plain data: what raw JMESPath conditions are evaluated against."""
        if self._view is not None:
            return self._view
        arn = self.arn

        def flat(m: Mapping[str, Values]) -> dict[str, Any]:
            return {k: v[0] if len(set(v)) == 1 else list(v) for k, v in m.items()}

        self._view = {
            "kind": self.kind,
            "token": self.token(),
            "headers": flat(self.headers()),
            "query": flat(self.query()),
            "cookies": flat(self.cookies()),
            "stage": self.stage_variables(),
            "path": self.path_parameters(),
            "context": self.request_context(),
            "source_ip": self.source_ip(),
            "route": {"method": arn.method, "path": arn.path, "key": self.route_key()},
            "arn": {
                "partition": arn.partition,
                "region": arn.region,
                "account": arn.account,
                "api": arn.api,
                "stage": arn.stage,
                "method": arn.method,
                "path": arn.path,
            },
        }
        return self._view
