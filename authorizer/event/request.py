"""One read-only view of an authorizer event, whatever its kind: what rules read from.

Built per request and filled lazily: a per-name lookup reads only that name (readers.py), and
`found` remembers the identity sources already read, so many rules reading one header read it once.
The whole maps (and `view()`, the request as plain data for JMESPath) are built only when asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authorizer.event.arn import ExecuteApiArn
from authorizer.event.kinds import EventKind
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


def _by_name(raw: object, fold_case: bool) -> dict[str, dict[str, Any]] | None:
    """A map cut into one small map per (folded) name, so that reading every name stays linear in the
    number of names (a lookup in the whole map costs a pass over it); None when it is not a map."""
    if not isinstance(raw, dict):
        return None
    parts: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        if isinstance(key, str):
            parts.setdefault(key.lower() if fold_case else key, {})[key] = value
    return parts


def _all_values(single: object, multi: object, fold_case: bool) -> dict[str, Values]:
    """Every name of a pair of maps → its values, read as `multi_values` reads one name."""
    single_parts, multi_parts = _by_name(single, fold_case), _by_name(multi, fold_case)
    names = dict.fromkeys([*(multi_parts or {}), *(single_parts or {})])
    out = {}
    for name in names:
        one = single_parts.get(name, {}) if single_parts is not None else None
        listed = multi_parts.get(name, {}) if multi_parts is not None else None
        values = multi_values(one, listed, name.lower() if fold_case else name, fold_case)
        if values:
            out[name] = values
    return out


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

    def __init__(self, event: object, classified: tuple[EventKind, str, ExecuteApiArn] | None = None) -> None:
        """`classified`: what `readers.classify(event)` gave already (the generated code has it)."""
        self.kind, self.arn_text, self.arn = classify(event) if classified is None else classified
        self.event: dict[str, Any] = event  # type: ignore[assignment]  # classify checked it
        self._headers: dict[str, Values] | None = None
        self._query: dict[str, Values] | None = None
        self._cookies: dict[str, Values] | None = None
        self._view: dict[str, Any] | None = None
        # identity sources already looked up (many rules, one lookup), and values several sources are
        # read from, computed once (the verified token: policy/sources.Basis)
        self.found: dict[str, Any] = {}

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
            if self.kind.value_maps == "joined":
                parts = _by_name(ev.get("headers"), True) or {}
                self._headers = {n: v for n, part in parts.items() if (v := joined_values(part, n, True))}
            else:
                self._headers = _all_values(ev.get("headers"), ev.get("multiValueHeaders"), True)
        return self._headers

    def query(self) -> dict[str, Values]:
        """Query parameter name → every value received (the whole map: for the JMESPath view)."""
        if self._query is None:
            ev = self.event
            if self.kind.value_maps == "joined":
                parts = _by_name(ev.get("queryStringParameters"), False) or {}
                self._query = {n: v for n, part in parts.items() if (v := joined_values(part, n, False))}
            else:
                pair = ev.get("queryStringParameters"), ev.get("multiValueQueryStringParameters")
                self._query = _all_values(*pair, False)
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
