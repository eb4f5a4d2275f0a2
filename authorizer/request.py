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


def _str_map(raw: object) -> dict[str, str]:
    """Keep the string-valued entries of a map that may be null, absent or junk."""
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}


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
    return _values_at(single, multi, _keys(multi, name, fold_case), _keys(single, name, fold_case))


def _values_at(single: object, multi: object, multi_keys: tuple[str, ...], single_keys: tuple[str, ...]) -> Values:
    """`_multi_values`, the keys holding the name already found."""
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


def header_values(event: dict[str, Any], kind: str, name: str) -> Values | None:
    """Every value an event holds for one header (`name` lower-cased), or None."""
    single = event.get("headers")
    if kind == "http-v2":
        return _joined_values(single, name, True) or None
    multi = event.get("multiValueHeaders")
    if type(single) is dict and type(multi) is dict and 1 < len(single) <= _PLANNED_MAP_SIZE:
        names = tuple(single)
        if tuple(multi) == names:  # API Gateway's event: both maps hold the same names in the same order
            keys = _folding_plan(names).get(name, ())
            return _values_at(single, multi, keys, keys) or None
    return _multi_values(single, multi, name, True) or None


def query_values(event: dict[str, Any], kind: str, name: str) -> Values | None:
    """Every value an event holds for one query parameter (names are case-sensitive), or None."""
    single = event.get("queryStringParameters")
    if kind == "http-v2":
        return _joined_values(single, name, False) or None
    multi = event.get("multiValueQueryStringParameters")
    if type(single) is dict and type(multi) is dict:  # a name is its own key in both maps
        return _values_at(single, multi, (name,) if name in multi else (), (name,) if name in single else ()) or None
    return _multi_values(single, multi, name, False) or None


def cookie_map(event: dict[str, Any], kind: str) -> dict[str, Values]:
    """HTTP API 2.0 `cookies[]`, else the Cookie header, as name → values."""
    raw = event.get("cookies")
    if raw is None:
        raw = [c for h in header_values(event, kind, "cookie") or () for c in h.split(";")]
    return _cookies(raw)


def token(event: dict[str, Any], kind: str) -> str | None:
    value = event.get("authorizationToken") if kind == "token" else None
    return value if isinstance(value, str) else None


def source_ip(event: dict[str, Any], kind: str) -> str | None:
    context = event.get("requestContext")
    holder = context.get("http" if kind == "http-v2" else "identity") if isinstance(context, dict) else None
    ip = holder.get("sourceIp") if isinstance(holder, dict) else None
    return ip if isinstance(ip, str) else None


def route_key(event: dict[str, Any], arn: ExecuteApiArn) -> str:
    """The route as configured: v2/WebSocket `routeKey`, REST `METHOD /resource/{template}`."""
    context = event.get("requestContext")
    for holder in (event, context if isinstance(context, dict) else {}):
        key = holder.get("routeKey")
        if isinstance(key, str):
            return key
    resource = event.get("resource")
    if isinstance(resource, str) and arn.method:
        return f"{arn.method} {resource}"
    return arn.route


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


def classify(event: object) -> tuple[str, str, ExecuteApiArn]:
    """The event's kind (of the five shapes, apigw-domain.md §1.6), its ARN as sent and parsed;
    BadEvent for anything else (the request is refused)."""
    if not isinstance(event, dict):
        raise BadEvent("event is not a JSON object")
    kind_type = event.get("type")
    arn: Any  # the ARN as sent: a string once parse_arn has accepted it
    if kind_type == "REQUEST":
        version = event.get("version")
        if version is None:
            arn = event.get("methodArn")
            context = event.get("requestContext")
            connect = isinstance(context, dict) and context.get("eventType") == "CONNECT"
            kind = "websocket" if connect or (isinstance(arn, str) and arn.endswith("/$connect")) else "rest"
        elif version == "2.0":
            kind, arn = "http-v2", event.get("routeArn")
        elif version == "1.0":
            kind, arn = "http-v1", event.get("methodArn")
        else:
            raise BadEvent("unknown payload version")
    elif kind_type == "TOKEN":
        kind, arn = "token", event.get("methodArn")
    else:
        raise BadEvent("not an authorizer event (type is neither TOKEN nor REQUEST)")
    try:  # parse_arn refuses anything but a string
        parsed = _cached_arn(arn) if isinstance(arn, str) and len(arn) <= _CACHED_ARN_LENGTH else parse_arn(arn)
    except ArnError as exc:
        raise BadEvent(str(exc)) from None
    return kind, arn, parsed


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
        self.kind, self.arn_text, self.arn = classify(event)
        self.event: dict[str, Any] = event  # type: ignore[assignment]  # classify checked it
        self._headers: dict[str, Values] | None = None
        self._query: dict[str, Values] | None = None
        self._cookies: dict[str, Values] | None = None
        self._view: dict[str, Any] | None = None
        self.found: dict[str, Values | None] = {}  # identity sources already looked up (many rules, one lookup)

    # -- identity sources -------------------------------------------------------------------
    def header(self, name: str) -> Values | None:
        """Every value received for one header (`name` lower-cased), or None."""
        return header_values(self.event, self.kind, name)

    def query_parameter(self, name: str) -> Values | None:
        """Every value received for one query parameter (names are case-sensitive), or None."""
        return query_values(self.event, self.kind, name)

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
            self._cookies = cookie_map(self.event, self.kind)
        return self._cookies

    def stage_variables(self) -> dict[str, str]:
        return _str_map(self.event.get("stageVariables"))

    def path_parameters(self) -> dict[str, str]:
        return _str_map(self.event.get("pathParameters"))

    def request_context(self) -> dict[str, Any]:
        ctx = self.event.get("requestContext")
        return ctx if isinstance(ctx, dict) else {}

    def token(self) -> str | None:
        return token(self.event, self.kind)

    def source_ip(self) -> str | None:
        return source_ip(self.event, self.kind)

    def route_key(self) -> str:
        return route_key(self.event, self.arn)

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
