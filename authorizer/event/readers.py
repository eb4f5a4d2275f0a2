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


DISAGREE = "the single- and multi-value maps disagree"


def multi_values(single: object, multi: object, name: str, fold_case: bool) -> Values:
    """One name's values from a pair of maps (REST, WebSocket, HTTP API 1.0): `headers` beside
    `multiValueHeaders`, or the query-string pair.

    API Gateway writes the same names in both maps, the single-value map holding the last of the
    values the other lists. When an event says otherwise for the name read (a name in one map only,
    a single value that is not the last one listed, anything but strings), neither map can be
    trusted and the request is refused (BadEvent). A map that is null, absent or not a map leaves
    the other to be read alone (console tests and some samples send one map).
    """
    has_single, has_multi = isinstance(single, dict), isinstance(multi, dict)
    if has_single and has_multi:
        return agreed_values(single, multi, _keys(single, name, fold_case), _keys(multi, name, fold_case))
    values: list[str] = []
    if has_multi:
        for key in _keys(multi, name, fold_case):
            listed = multi[key]  # type: ignore[index]
            if type(listed) is not list or not all(type(v) is str for v in listed):
                raise BadEvent("a multi-value map holds something other than lists of strings")
            values += listed
    elif has_single:
        for key in _keys(single, name, fold_case):
            value = single[key]  # type: ignore[index]
            if type(value) is not str:
                raise BadEvent("a value map holds something other than strings")
            values.append(value)
    return tuple(values)


def agreed_values(single: Any, multi: Any, single_keys: tuple[str, ...], multi_keys: tuple[str, ...]) -> Values:
    """The values of one name whose keys in each map are known: every listed value, each key's
    list checked against its single value (a header spelled differently in the two maps pairs up
    when each map has one spelling)."""
    if len(multi_keys) == 1 == len(single_keys):  # the usual event: one spelling, one value, the same in both maps
        listed = multi[multi_keys[0]]
        if type(listed) is list and len(listed) == 1 and type(listed[0]) is str and single[single_keys[0]] == listed[0]:
            return (listed[0],)
        pairs = [(single_keys[0], multi_keys[0])]
    elif not multi_keys and not single_keys:  # in neither map
        return ()
    elif single_keys == multi_keys or sorted(single_keys) == sorted(multi_keys):
        pairs = [(key, key) for key in multi_keys]
    else:
        raise BadEvent(DISAGREE)
    values: list[str] = []
    for single_key, multi_key in pairs:
        listed, last = multi[multi_key], single[single_key]
        if type(listed) is not list or not listed or type(last) is not str or listed[-1] != last:
            raise BadEvent(DISAGREE)
        if not all(type(v) is str for v in listed):
            raise BadEvent(DISAGREE)
        values += listed
    return tuple(values)


def joined_values(raw: object, name: str, fold_case: bool) -> Values:
    """HTTP API 2.0 comma-joins repeated names: `a,b` is two values."""
    return _joined_at(raw, _keys(raw, name, fold_case))


def _joined_at(raw: object, keys: tuple[str, ...]) -> Values:
    values: list[str] = []
    for key in keys:
        value = raw[key]  # type: ignore[index]
        if type(value) is not str:
            raise BadEvent("a value map holds something other than strings")
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
            return agreed_values(single, multi, keys, keys) or None
    return multi_values(single, multi, name, True) or None


def headers_values(event: dict[str, Any], kind: EventKind, names: tuple[str, ...]) -> list[Values | None]:
    """`header_values` of each name (lower-cased), the map's folding plan found once for them all:
    what a policy reading several headers pays before its rules (maps that disagree raise BadEvent)."""
    single = event.get("headers")
    if type(single) is dict and 1 < len(single) <= _PLANNED_MAP_SIZE:
        keys = tuple(single)
        if kind.value_maps == "joined":
            plan = folding_plan(keys)
            return [_joined_at(single, plan[name]) or None if name in plan else None for name in names]
        multi = event.get("multiValueHeaders")
        if type(multi) is dict and tuple(multi) == keys:
            plan = folding_plan(keys)
            return [agreed_values(single, multi, plan[n], plan[n]) or None if n in plan else None for n in names]
    return [header_values(event, kind, name) for name in names]


def query_values(event: dict[str, Any], kind: EventKind, name: str) -> Values | None:
    """Every value an event holds for one query parameter (names are case-sensitive), or None."""
    single = event.get("queryStringParameters")
    if kind.value_maps == "joined":
        return joined_values(single, name, False) or None
    multi = event.get("multiValueQueryStringParameters")
    if type(single) is dict and type(multi) is dict:
        if name in single:
            if name in multi:  # its own key in both
                return agreed_values(single, multi, (name,), (name,)) or None
        elif name not in multi:  # in neither
            return None
    return multi_values(single, multi, name, False) or None


def cookie_map(event: dict[str, Any], kind: EventKind) -> dict[str, Values]:
    """HTTP API 2.0 `cookies[]`, else the Cookie header, as name → values."""
    raw = event.get("cookies")
    if raw is None:
        raw = [c for h in header_values(event, kind, "cookie") or () for c in h.split(";")]
    out: dict[str, list[str]] = {}
    if isinstance(raw, list):
        for item in raw:
            if type(item) is not str:
                raise BadEvent("cookies holds something other than strings")
            if "=" in item:
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
    """The event's kind (its row of kinds.KINDS), its ARN as sent and parsed; BadEvent for anything else.

    The kind comes only from what API Gateway sets: `type`, `version`, the ARN's shape (a WebSocket
    `$connect` ARN names a route, not a method) and requestContext.eventType, which must agree with
    it. Nothing the caller chooses (a path ending in `$connect`, say) can make a request another kind.
    """
    if not isinstance(event, dict):
        raise BadEvent("event is not a JSON object")
    kind_type = event.get("type")
    try:
        plain, connect_kind = _SHAPES[(kind_type, event.get("version"))]
    except (KeyError, TypeError):  # TypeError: an unhashable `type` or `version`
        if kind_type not in _TYPES:
            raise BadEvent("not an authorizer event (type is neither TOKEN nor REQUEST)") from None
        raise BadEvent("unknown payload version") from None
    kind = plain or connect_kind
    assert kind is not None  # every shape in _SHAPES has a kind
    arn: Any = event.get(kind.arn_field)  # the ARN as sent: a string once parse_arn has accepted it
    try:  # parse_arn refuses anything but a string
        parsed = _cached_arn(arn) if isinstance(arn, str) and len(arn) <= _CACHED_ARN_LENGTH else parse_arn(arn)
    except ArnError as exc:
        raise BadEvent(str(exc)) from None
    if not parsed.method and connect_kind is not None:  # an ARN naming a route: a WebSocket `$connect`
        kind = connect_kind
    context = event.get("requestContext")
    event_type = context.get("eventType") if type(context) is dict else None
    if kind.connect:  # a route ARN: no method, the route key in `path`
        if parsed.path != "$connect" or event_type not in (None, "CONNECT"):
            raise BadEvent("a WebSocket authorizer event must be for $connect")
    elif not parsed.method or event_type == "CONNECT":
        raise BadEvent("the ARN and requestContext disagree on the kind of event")
    return kind, arn, parsed
