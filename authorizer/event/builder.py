"""Build the exact authorizer event API Gateway would send, from a compact description of a request.

Used by policy test suites (a case names headers/query/stage variables and a kind) and by the
local gateway (`authorizer serve`, from a real HTTP request). Shapes follow docs/api-gateway.md:
REST and WebSocket keep header case as received and carry multiValue maps (single-value maps hold
the last value); HTTP APIs lowercase header names; payload 2.0 comma-joins repeated names and
moves cookies to `cookies[]`; ARNs carry the concrete path. One builder method per kind (`BUILDERS`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from authorizer.event.kinds import EventKind, kind_named

MultiMap = Mapping[str, str | Sequence[str]]


def _multi(values: MultiMap | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in (values or {}).items():
        out.setdefault(name, []).extend([value] if isinstance(value, str) else list(value))
    return out


@dataclass
class RequestSpec:
    """A request as a person describes it; `to_event(kind)` gives what the authorizer receives."""

    method: str = "GET"
    path: str = "/"
    headers: MultiMap = field(default_factory=dict)
    query: MultiMap = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)  # merged into requestContext
    token: str | None = None  # TOKEN authorizers: the token header's value
    route_key: str | None = None  # HTTP API / REST template route, e.g. "GET /pets/{id}"
    identity_source: Sequence[str] | None = None  # HTTP API: the identity-source values, in order
    source_ip: str = "198.51.100.1"
    user_agent: str = "authorizer-test"
    account_id: str = "123456789012"
    api_id: str = "example123"
    region: str = "us-east-1"
    partition: str = "aws"
    stage: str = "dev"
    request_id: str | None = None
    now: float | None = None

    def arn(self, kind: EventKind) -> str:
        prefix = f"arn:{self.partition}:execute-api:{self.region}:{self.account_id}:{self.api_id}/{self.stage}"
        if kind.connect:
            return f"{prefix}/$connect"
        return f"{prefix}/{self.method.upper()}/{self.path.lstrip('/')}"

    def to_event(self, kind: str | EventKind) -> dict[str, Any]:
        """The event API Gateway sends an authorizer of this kind (a name from `kinds.NAMES`, or the kind)."""
        found = kind_named(kind) if isinstance(kind, str) else kind
        return BUILDERS[found.name](self, found)

    # -- common parts ------------------------------------------------------------------------
    def _clock(self) -> tuple[int, str]:
        now = time.time() if self.now is None else self.now
        return int(now * 1000), time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))

    def _id(self) -> str:
        return self.request_id or str(uuid.uuid4())

    def _headers(self, lowercase: bool) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, values in _multi(self.headers).items():
            out.setdefault(name.lower() if lowercase else name, []).extend(values)
        return out

    def _domain(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"

    def _raw_query(self) -> str:
        return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, vs in _multi(self.query).items() for v in vs)

    def _resource(self) -> str:
        if self.route_key and " " in self.route_key:
            return self.route_key.split(" ", 1)[1]
        return self.path

    def _rest_like(self, kind_headers_lower: bool) -> dict[str, Any]:
        headers = self._headers(kind_headers_lower)
        query = _multi(self.query)
        return {
            "headers": {k: v[-1] for k, v in headers.items()},
            "multiValueHeaders": headers,
            "queryStringParameters": {k: v[-1] for k, v in query.items()},
            "multiValueQueryStringParameters": query,
            "stageVariables": dict(self.stage_variables),
        }

    # -- the five kinds ----------------------------------------------------------------------
    def _token(self, kind: EventKind) -> dict[str, Any]:
        token = self.token
        if token is None:
            for name, values in _multi(self.headers).items():
                if name.lower() == "authorization" and values:
                    token = values[-1]
        event: dict[str, Any] = {"type": kind.type, kind.arn_field: self.arn(kind)}
        if kind.token_field is not None:
            event[kind.token_field] = token or ""
        return event

    def _rest(self, kind: EventKind) -> dict[str, Any]:
        epoch, stamp = self._clock()
        request_id = self._id()
        method = self.method.upper()
        return {
            "type": kind.type,
            kind.arn_field: self.arn(kind),
            "resource": self._resource(),
            "path": self.path,
            "httpMethod": method,
            **self._rest_like(False),
            "pathParameters": dict(self.path_parameters),
            "requestContext": {
                "path": f"/{self.stage}{self.path}",
                "accountId": self.account_id,
                "resourceId": "res123",
                "stage": self.stage,
                "requestId": request_id,
                "extendedRequestId": request_id,
                "requestTime": stamp,
                "requestTimeEpoch": epoch,
                "identity": {"sourceIp": self.source_ip, "userAgent": self.user_agent},
                "resourcePath": self._resource(),
                "httpMethod": method,
                "apiId": self.api_id,
                "domainName": self._domain(),
                "protocol": "HTTP/1.1",
                **self.context,
            },
        }

    def _websocket(self, kind: EventKind) -> dict[str, Any]:
        epoch, stamp = self._clock()
        request_id = self._id()
        return {
            "type": kind.type,
            kind.arn_field: self.arn(kind),
            **self._rest_like(False),
            "requestContext": {
                "routeKey": "$connect",
                "eventType": "CONNECT",
                "extendedRequestId": request_id,
                "requestTime": stamp,
                "messageDirection": "IN",
                "stage": self.stage,
                "connectedAt": epoch,
                "requestTimeEpoch": epoch,
                "identity": {"sourceIp": self.source_ip, "userAgent": self.user_agent},
                "requestId": request_id,
                "domainName": self._domain(),
                "connectionId": request_id[:12] + "=",
                "apiId": self.api_id,
                "accountId": self.account_id,
                **self.context,
            },
        }

    def _http_v1(self, kind: EventKind) -> dict[str, Any]:
        event = self._rest(kind)
        event["version"] = kind.version
        event.update(self._rest_like(True))
        identity = ",".join(self.identity_source or ())
        event["identitySource"] = identity
        event["authorizationToken"] = identity
        event["requestContext"]["domainPrefix"] = self.api_id
        return event

    def _http_v2(self, kind: EventKind) -> dict[str, Any]:
        epoch, stamp = self._clock()
        method = self.method.upper()
        route_key = self.route_key or "$default"
        headers = {k: ",".join(v) for k, v in self._headers(True).items() if k != "cookie"}
        cookies = [c.strip() for v in self._headers(True).get("cookie", []) for c in v.split(";") if c.strip()]
        event: dict[str, Any] = {
            "version": kind.version,
            "type": kind.type,
            kind.arn_field: self.arn(kind),
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": self._raw_query(),
            "headers": headers,
            "queryStringParameters": {k: ",".join(v) for k, v in _multi(self.query).items()},
            "requestContext": {
                "accountId": self.account_id,
                "apiId": self.api_id,
                "domainName": self._domain(),
                "domainPrefix": self.api_id,
                "http": {
                    "method": method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": self.source_ip,
                    "userAgent": self.user_agent,
                },
                "requestId": self._id(),
                "routeKey": route_key,
                "stage": self.stage,
                "time": stamp,
                "timeEpoch": epoch,
                **self.context,
            },
            "pathParameters": dict(self.path_parameters),
            "stageVariables": dict(self.stage_variables),
        }
        if self.identity_source is not None:
            event["identitySource"] = list(self.identity_source)
        if cookies:
            event["cookies"] = cookies
        return event


BUILDERS = {  # kind name → its builder (tests/test_kinds.py: one per kind)
    "token": RequestSpec._token,
    "rest": RequestSpec._rest,
    "websocket": RequestSpec._websocket,
    "http-v1": RequestSpec._http_v1,
    "http-v2": RequestSpec._http_v2,
}
