"""Reading an authorizer event: its kind and ARN, and the values of one name, whatever the kind.

Every map may be null, absent or junk; header names are case-insensitive; values are kept as
tuples so that a name sent twice with different values is visible (and, by default, fails a
condition instead of silently taking the last value). Reads are per name, so a request pays only
for what its rules read: a header is found through a cached case-folding plan of the event's
header names (clients repeat the same few sets of names), not by lower-casing every header of
every request. `Request` (request.py) and the policy's source lookups both read through here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from authorizer.event.arn import ArnError, ExecuteApiArn, parse_arn
from authorizer.event.kinds import KINDS, EventKind

Values = tuple[Any, ...]


class BadEvent(ValueError):
    """The event is not an API Gateway authorizer event; the request is refused."""


_PLANNED_MAP_SIZE = 256  # maps up to this many names get a cached folding plan (bounds the cache's memory)


@lru_cache(maxsize=256)
def folding_plan(names: tuple[Any, ...]) -> dict[str, tuple[str, ...]]:
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
        return folding_plan(tuple(raw)).get(name, ())
    return tuple(k for k in raw if isinstance(k, str) and k.lower() == name)  # a huge map must not pin a plan


def multi_values(single: object, multi: object, name: str, fold_case: bool) -> Values:
    """One name's values: its multiValue entries (all values), then single-value entries not among them.

    API Gateway's single value is one of the multiValue ones; if an event says otherwise, both are
    kept, so the name reads as conflicting (refused by default) rather than trusting either map.
    """
    return _values_at(single, multi, _keys(multi, name, fold_case), _keys(single, name, fold_case))


def _values_at(single: object, multi: object, multi_keys: tuple[str, ...], single_keys: tuple[str, ...]) -> Values:
    """`multi_values`, the keys holding the name already found."""
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


def joined_values(raw: object, name: str, fold_case: bool) -> Values:
    """HTTP API 2.0 comma-joins repeated names: `a,b` is two values."""
    values: list[str] = []
    for key in _keys(raw, name, fold_case):
        value = raw[key]  # type: ignore[index]
        if isinstance(value, str):
            values += [p.strip() for p in value.split(",")] if "," in value else [value]
    return tuple(values)


def header_values(event: dict[str, Any], kind: EventKind, name: str) -> Values | None:
    """Every value an event holds for one header (`name` lower-cased), or None."""
    single = event.get("headers")
    if kind.value_maps == "joined":
        return joined_values(single, name, True) or None
    multi = event.get("multiValueHeaders")
    if type(single) is dict and type(multi) is dict and 1 < len(single) <= _PLANNED_MAP_SIZE:
        names = tuple(single)
        if tuple(multi) == names:  # API Gateway's event: both maps hold the same names in the same order
            keys = folding_plan(names).get(name, ())
            return _values_at(single, multi, keys, keys) or None
    return multi_values(single, multi, name, True) or None


def query_values(event: dict[str, Any], kind: EventKind, name: str) -> Values | None:
    """Every value an event holds for one query parameter (names are case-sensitive), or None."""
    single = event.get("queryStringParameters")
    if kind.value_maps == "joined":
        return joined_values(single, name, False) or None
    multi = event.get("multiValueQueryStringParameters")
    if type(single) is dict and type(multi) is dict:  # a name is its own key in both maps
        return _values_at(single, multi, (name,) if name in multi else (), (name,) if name in single else ()) or None
    return multi_values(single, multi, name, False) or None


def cookie_map(event: dict[str, Any], kind: EventKind) -> dict[str, Values]:
    """HTTP API 2.0 `cookies[]`, else the Cookie header, as name → values."""
    raw = event.get("cookies")
    if raw is None:
        raw = [c for h in header_values(event, kind, "cookie") or () for c in h.split(";")]
    out: dict[str, list[str]] = {}
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, str) and "=" in item:
                name, _, value = item.partition("=")
                out.setdefault(name.strip(), []).append(value.strip())
    return {k: tuple(v) for k, v in out.items()}


def token(event: dict[str, Any], kind: EventKind) -> str | None:
    value = event.get(kind.token_field) if kind.token_field is not None else None
    return value if isinstance(value, str) else None


def source_ip(event: dict[str, Any], kind: EventKind) -> str | None:
    context = event.get("requestContext")
    holder = context.get(kind.source_ip_holder) if isinstance(context, dict) and kind.source_ip_holder else None
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


_cached_arn = lru_cache(maxsize=512)(parse_arn)  # ExecuteApiArn is immutable: share it between requests
_CACHED_ARN_LENGTH = 1600  # API Gateway's limit (414 beyond): longer ones, never sent, are not kept


def _shapes() -> dict[tuple[Any, Any], tuple[EventKind | None, EventKind | None]]:
    """(type, version) → (the kind, and the kind when the event is a `$connect`, if one can be)."""
    shapes: dict[tuple[Any, Any], tuple[EventKind | None, EventKind | None]] = {}
    for kind in KINDS.values():
        plain, connect = shapes.get((kind.type, kind.version), (None, None))
        shapes[(kind.type, kind.version)] = (plain, kind) if kind.connect else (kind, connect)
    return shapes


_SHAPES = _shapes()
_TYPES = tuple(dict.fromkeys(kind.type for kind in KINDS.values()))  # a tuple: `in` compares, never hashes


def classify(event: object) -> tuple[EventKind, str, ExecuteApiArn]:
    """The event's kind (its row of kinds.KINDS, from `type`, `version` and whether it is a `$connect`),
    its ARN as sent and parsed; BadEvent for anything else (the request is refused)."""
    if not isinstance(event, dict):
        raise BadEvent("event is not a JSON object")
    kind_type = event.get("type")
    try:
        kind, connect_kind = _SHAPES[(kind_type, event.get("version"))]
    except (KeyError, TypeError):  # TypeError: an unhashable `type` or `version`
        if kind_type not in _TYPES:
            raise BadEvent("not an authorizer event (type is neither TOKEN nor REQUEST)") from None
        raise BadEvent("unknown payload version") from None
    if connect_kind is not None:  # a `$connect`: so says requestContext.eventType, or the ARN's route
        context = event.get("requestContext")
        sent = event.get(connect_kind.arn_field)
        if (type(context) is dict and context.get("eventType") == "CONNECT") or (
            type(sent) is str and sent.endswith("/$connect")
        ):
            kind = connect_kind
    if kind is None:
        raise BadEvent("unknown payload version")
    arn: Any = event.get(kind.arn_field)  # the ARN as sent: a string once parse_arn has accepted it
    try:  # parse_arn refuses anything but a string
        parsed = _cached_arn(arn) if isinstance(arn, str) and len(arn) <= _CACHED_ARN_LENGTH else parse_arn(arn)
    except ArnError as exc:
        raise BadEvent(str(exc)) from None
    return kind, arn, parsed
