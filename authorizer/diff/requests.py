"""From chosen values to the exact event: an `Assignment` (a value, or none, for each identity source,
and a route) becomes a `RequestSpec`, which builds the event API Gateway sends for each kind.

Each source is put where API Gateway puts it (header, query string, Cookie header, stage variable,
path parameter, requestContext field, token, source IP, route key, ARN part); which sources a kind
carries at all is found by building one probe event per kind and reading it back, so a kind's
rules live only in `event/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from authorizer.diff.classes import Route, Value
from authorizer.event.builder import RequestSpec
from authorizer.event.kinds import KINDS
from authorizer.event.request import Request
from authorizer.policy.sources import getter

_FIELDS = {  # fixed sources set through a RequestSpec field
    "token": "token",
    "source_ip": "source_ip",
    "route.key": "route_key",
    "arn.partition": "partition",
    "arn.region": "region",
    "arn.account": "account_id",
    "arn.api": "api_id",
    "arn.stage": "stage",
}
_ABSENT = ("token", "source_ip")  # fields an empty string leaves absent; the ARN's parts and route key always exist
_MAPS = {"header.": "headers", "query.": "query", "stage.": "stage_variables", "path.": "path_parameters"}


@dataclass(frozen=True, slots=True)
class Assignment:
    """A request as the diff generates it: the route, and the values of the sources that are present."""

    route: Route
    values: tuple[tuple[str, tuple[Any, ...]], ...]  # (source, values), in a fixed order; absent sources omitted

    @staticmethod
    def of(route: Route, values: Mapping[str, Value]) -> Assignment:
        return Assignment(route, tuple(sorted((s, v) for s, v in values.items() if v is not None)))

    def as_dict(self) -> dict[str, Value]:
        return dict(self.values)


def _context(values: Mapping[str, Value]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for source, value in values.items():
        if source.startswith("context."):
            *parents, leaf = source.split(".")[1:]
            node = tree
            for key in parents:
                if not isinstance(node.get(key), dict):
                    node[key] = {}
                node = node[key]
            node[leaf] = None if value is None else value[0]
    return tree


def spec(route: Route, values: Mapping[str, Value]) -> RequestSpec:
    """The request that holds `values` (None: absent) on `route`."""
    fields: dict[str, Any] = {"method": route[0], "path": route[1], "request_id": "diff", "now": 0}
    maps: dict[str, dict[str, Any]] = {}
    cookies = []
    for source, value in values.items():
        family = source.partition(".")[0] + "."
        if source in _FIELDS:
            if value is not None or source in _ABSENT:
                fields[_FIELDS[source]] = "" if value is None else value[0]
        elif family in _MAPS and value is not None:
            maps.setdefault(_MAPS[family], {})[source.partition(".")[2]] = value[0] if len(value) == 1 else list(value)
        elif family == "cookie." and value is not None:
            cookies += [f"{source.partition('.')[2]}={v}" for v in value]
    if cookies:
        maps.setdefault("headers", {})["Cookie"] = "; ".join(cookies)
    fields.update(maps)
    context = _context(values)
    if context:
        fields["context"] = context
    return RequestSpec(**fields)


def event(kind: str, route: Route, values: Mapping[str, Value]) -> dict[str, Any]:
    return spec(route, values).to_event(kind)


@cache
def _carried(kind: str, sources: tuple[str, ...]) -> frozenset[str]:
    probed = [s for s in sources if s not in _FIELDS or s in _ABSENT]  # the ARN's parts are in every event
    request = Request(event(kind, ("GET", "/"), {s: (f"p{i}",) for i, s in enumerate(probed)}))
    return frozenset(s for s in sources if s not in probed or getter(s)(request) is not None)


def carried(kind: str, sources: list[str]) -> frozenset[str]:
    """The sources a request of this kind can hold a value for (TOKEN events carry only the token, ...)."""
    return _carried(kind, tuple(sources))


KIND_NAMES = tuple(KINDS)
