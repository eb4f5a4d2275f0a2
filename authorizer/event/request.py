"""One read-only view of an authorizer event, whatever its kind: what rules read from.

Built per request and filled lazily: a per-name lookup reads only that name (readers.py), and
`found` remembers the identity sources already read, so many rules reading one header read it once.
The whole maps (and `view()`, the request as plain data for JMESPath) are built only when asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authorizer.event.readers import (
    Values,
    classify,
    cookie_map,
    header_values,
    joined_values,
    multi_values,
    query_values,
    route_key,
    source_ip,
    token,
)


def _str_map(raw: object) -> dict[str, str]:
    """Keep the string-valued entries of a map that may be null, absent or junk."""
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}


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
            if self.kind.value_maps == "joined":
                names = _names((ev.get("headers"), str), fold_case=True)
                self._headers = {n: v for n in names if (v := joined_values(single.get(n), n, True))}
            else:
                multi = _by_name(ev.get("multiValueHeaders"))
                names = _names((ev.get("multiValueHeaders"), list), (ev.get("headers"), str), fold_case=True)
                self._headers = {n: v for n in names if (v := multi_values(single.get(n), multi.get(n), n, True))}
        return self._headers

    def query(self) -> dict[str, Values]:
        """Query parameter name → every value received (the whole map: for the JMESPath view)."""
        if self._query is None:
            ev = self.event
            if self.kind.value_maps == "joined":
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
            "kind": self.kind.name,
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
