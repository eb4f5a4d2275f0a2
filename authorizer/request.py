"""One read-only view of an authorizer event, whatever its kind.

The five kinds (REST TOKEN, REST REQUEST, WebSocket `$connect`, HTTP API payload 1.0 and 2.0) are
told apart from the event itself. Every map may be null or absent; header names are
case-insensitive; values are kept as tuples so that a name sent twice with different values is
visible (and, by default, fails a condition instead of silently taking the last value).
Lookups are per name and lazy, so a request pays only for what its rules read: a header is found
through a cached case-folding plan of the event's header names (clients repeat the same few sets
of names), not by lower-casing every header of every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
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


def _str_value(raw: object, name: str) -> str | None:
    """`_str_map(raw).get(name)`, without building the map."""
    value = raw.get(name) if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


_PLANNED_MAP_SIZE = 256  # maps up to this many names get a cached folding plan (bounds the cache's memory)


@lru_cache(maxsize=256)
def _folding_plan(names: tuple[Any, ...]) -> dict[str, tuple[str, ...]]:
    """Lower-cased name → the names that fold to it, in order (read-only: shared between requests)."""
    plan: dict[str, list[str]] = {}
    for name in names:
        if isinstance(name, str):
            plan.setdefault(name.lower(), []).append(name)
    return {key: tuple(group) for key, group in plan.items()}


def _keys(raw: object, name: str, fold_case: bool) -> tuple[str, ...]:
    """The keys of an event map that hold `name` (any case when folding)."""
    if not isinstance(raw, dict) or not raw:
        return ()
    if not fold_case:
        return (name,) if name in raw else ()
    if len(raw) == 1:  # one name needs no plan
        key = next(iter(raw))
        return (key,) if isinstance(key, str) and key.lower() == name else ()
    if len(raw) <= _PLANNED_MAP_SIZE:
        return _folding_plan(tuple(raw)).get(name, ())
    return tuple(k for k in raw if isinstance(k, str) and k.lower() == name)  # a huge map must not pin a plan


def _multi_values(single: object, multi: object, name: str, fold_case: bool) -> Values:
    """One name's values: its multiValue entries (all values), then single-value entries not among them.

    API Gateway's single value is one of the multiValue ones; if an event says otherwise, both are
    kept, so the name reads as conflicting (refused by default) rather than trusting either map.
    """
    multi_keys, single_keys = _keys(multi, name, fold_case), _keys(single, name, fold_case)
    if len(multi_keys) == 1 and len(single_keys) <= 1:  # the usual event: one spelling, the same value in both maps
        listed = multi[multi_keys[0]]  # type: ignore[index]
        if (
            type(listed) is list
            and len(listed) == 1
            and type(listed[0]) is str
            and (not single_keys or single[single_keys[0]] == listed[0])  # type: ignore[index]
        ):
            return (listed[0],)
    values: list[str] = []
    for key in multi_keys:
        listed = multi[key]  # type: ignore[index]
        if isinstance(listed, list):
            values += [v for v in listed if isinstance(v, str)]
    seen = set(values)  # linear, however many names fold to `name`
    for key in single_keys:
        value = single[key]  # type: ignore[index]
        if isinstance(value, str) and value not in seen:
            values.append(value)
            seen.add(value)
    return tuple(values)


def _joined_values(raw: object, name: str, fold_case: bool) -> Values:
    """HTTP API 2.0 comma-joins repeated names: `a,b` is two values."""
    values: list[str] = []
    for key in _keys(raw, name, fold_case):
        value = raw[key]  # type: ignore[index]
        if isinstance(value, str):
            values += [p.strip() for p in value.split(",")] if "," in value else [value]
    return tuple(values)


def _by_name(raw: object) -> dict[str, dict[str, Any]]:
    """A header map cut into one small map per lower-cased name, so that reading every header stays
    linear in the number of headers (a lookup in the whole map costs a pass over it)."""
    parts: dict[str, dict[str, Any]] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            if isinstance(key, str):
                parts.setdefault(key.lower(), {})[key] = value
    return parts


def _names(*maps: tuple[object, type], fold_case: bool) -> list[str]:
    """Every name the maps hold (folded when asked), in order: what a whole-map view lists."""
    names: dict[str, None] = {}
    for raw, value_type in maps:
        if isinstance(raw, dict):
            for key, value in raw.items():
                if isinstance(key, str) and isinstance(value, value_type):
                    names[key.lower() if fold_case else key] = None
    return list(names)


def _cookies(raw: object) -> dict[str, Values]:
    out: dict[str, list[str]] = {}
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, str) and "=" in item:
                name, _, value = item.partition("=")
                out.setdefault(name.strip(), []).append(value.strip())
    return {k: tuple(v) for k, v in out.items()}


_cached_arn = lru_cache(maxsize=512)(parse_arn)  # ExecuteApiArn is immutable: share it between requests
_CACHED_ARN_LENGTH = 1600  # API Gateway's limit (414 beyond): longer ones, never sent, are not kept


def _parsed_arn(arn: str) -> ExecuteApiArn:
    return _cached_arn(arn) if len(arn) <= _CACHED_ARN_LENGTH else parse_arn(arn)


class Request:
    """Normalised, read-only view of one authorizer event (built per request, filled lazily)."""

    __slots__ = (
        "_cookies",
        "_headers",
        "_query",
        "_view",
        "arn",
        "arn_text",
        "event",
        "found",
        "kind",
    )

    def __init__(self, event: object) -> None:
        if not isinstance(event, dict):
            raise BadEvent("event is not a JSON object")
        self.event: dict[str, Any] = event
        self.kind = detect_kind(event)
        arn_text = event.get("routeArn") if self.kind == "http-v2" else event.get("methodArn")
        try:
            self.arn: ExecuteApiArn = _parsed_arn(arn_text) if isinstance(arn_text, str) else parse_arn(arn_text)
        except ArnError as exc:
            raise BadEvent(str(exc)) from None
        self.arn_text: str = str(arn_text)
        self._headers: dict[str, Values] | None = None
        self._query: dict[str, Values] | None = None
        self._cookies: dict[str, Values] | None = None
        self._view: dict[str, Any] | None = None
        self.found: dict[str, Values | None] = {}  # identity sources already looked up (many rules, one lookup)

    # -- identity sources -------------------------------------------------------------------
    def header(self, name: str) -> Values | None:
        """Every value received for one header (`name` lower-cased), or None."""
        ev = self.event
        if self.kind == "http-v2":
            return _joined_values(ev.get("headers"), name, True) or None
        return _multi_values(ev.get("headers"), ev.get("multiValueHeaders"), name, True) or None

    def query_parameter(self, name: str) -> Values | None:
        """Every value received for one query parameter (names are case-sensitive), or None."""
        ev = self.event
        single, multi = ev.get("queryStringParameters"), ev.get("multiValueQueryStringParameters")
        if self.kind == "http-v2":
            return _joined_values(single, name, False) or None
        return _multi_values(single, multi, name, False) or None

    def headers(self) -> dict[str, Values]:
        """Lower-cased header name → every value received (the whole map: for the JMESPath view)."""
        if self._headers is None:
            ev = self.event
            single = _by_name(ev.get("headers"))
            if self.kind == "http-v2":
                names = _names((ev.get("headers"), str), fold_case=True)
                self._headers = {n: v for n in names if (v := _joined_values(single.get(n), n, True))}
            else:
                multi = _by_name(ev.get("multiValueHeaders"))
                names = _names((ev.get("multiValueHeaders"), list), (ev.get("headers"), str), fold_case=True)
                self._headers = {n: v for n in names if (v := _multi_values(single.get(n), multi.get(n), n, True))}
        return self._headers

    def query(self) -> dict[str, Values]:
        """Query parameter name → every value received (the whole map: for the JMESPath view)."""
        if self._query is None:
            ev = self.event
            if self.kind == "http-v2":
                names = _names((ev.get("queryStringParameters"), str), fold_case=False)
            else:
                single, multi = ev.get("queryStringParameters"), ev.get("multiValueQueryStringParameters")
                names = _names((multi, list), (single, str), fold_case=False)
            self._query = {name: values for name in names if (values := self.query_parameter(name))}
        return self._query

    def cookies(self) -> dict[str, Values]:
        """HTTP API 2.0 `cookies[]`, else the Cookie header, as name → values."""
        if self._cookies is None:
            raw = self.event.get("cookies")
            if raw is None:
                raw = [c for h in self.header("cookie") or () for c in h.split(";")]
            self._cookies = _cookies(raw)
        return self._cookies

    def cookie(self, name: str) -> Values | None:
        return self.cookies().get(name)

    def stage_variables(self) -> dict[str, str]:
        return _str_map(self.event.get("stageVariables"))

    def stage_variable(self, name: str) -> str | None:
        return _str_value(self.event.get("stageVariables"), name)

    def path_parameters(self) -> dict[str, str]:
        return _str_map(self.event.get("pathParameters"))

    def path_parameter(self, name: str) -> str | None:
        return _str_value(self.event.get("pathParameters"), name)

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
