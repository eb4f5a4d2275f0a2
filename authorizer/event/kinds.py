"""The five authorizer events API Gateway sends, as one table: everything that differs between them.

Every module that needs to know how one kind of event differs from another reads it here, as an
attribute of the event's `EventKind`, rather than comparing kind names. Adding a kind is one row
below plus its reader (`readers.py`, when its fields live somewhere new), its builder
(`builder.py`) and its name in `testing/suite.Kind` (docs/architecture.md lists the rest). The
facts and their sources are in docs/api-gateway.md.
"""

from __future__ import annotations

from typing import Literal

Api = Literal["rest", "http", "websocket"]  # the API Gateway product the event comes from
API_LABELS: dict[Api, str] = {"rest": "REST", "http": "HTTP", "websocket": "WebSocket"}
ValueMaps = Literal["multi", "joined", "none"]


class EventKind:
    """One kind of authorizer event (immutable; one instance per kind, compared by identity)."""

    __slots__ = (
        "api",
        "arn_field",
        "cached",
        "catch_all",
        "connect",
        "name",
        "result_limit",
        "scalar_context",
        "simple_responses",
        "source_ip_holder",
        "token_field",
        "type",
        "value_maps",
        "version",
    )

    def __init__(
        self,
        name: str,
        *,
        api: Api,
        type: Literal["TOKEN", "REQUEST"],
        version: str | None,
        connect: bool,
        arn_field: str,
        value_maps: ValueMaps,
        source_ip_holder: str | None,
        token_field: str | None,
        scalar_context: bool,
        simple_responses: bool,
        result_limit: int | None,
        cached: bool,
        catch_all: str | None,
    ) -> None:
        self.name = name  # as policies, suites and logs name it
        self.api = api
        self.type = type  # the event's `type`
        self.version = version  # the event's `version` (HTTP API payload format), None when absent
        self.connect = connect  # a WebSocket `$connect` (requestContext.eventType CONNECT, ARN without a verb)
        self.arn_field = arn_field  # where the ARN of the request is
        # multi: `headers` (last value) beside `multiValueHeaders` (every value), names as sent, and the
        # same for the query string; joined: one map, names lower-cased, repeated values comma-joined,
        # cookies in `cookies[]`; none: no maps at all (TOKEN)
        self.value_maps = value_maps
        self.source_ip_holder = source_ip_holder  # requestContext.<holder>.sourceIp
        self.token_field = token_field  # the TOKEN authorizer's token
        self.scalar_context = scalar_context  # context values must be strings, numbers or booleans
        self.simple_responses = simple_responses  # `{"isAuthorized": ...}` may answer instead of an IAM policy
        self.result_limit = result_limit  # bytes an authorizer result may take (None: not documented)
        self.cached = cached  # API Gateway can cache this authorizer's answers
        # the route key of a request no declared route matches, in the local gateway: REST's greedy
        # proxy resource or an HTTP API's $default route (None: WebSocket authorizes $connect only)
        self.catch_all = catch_all

    def __repr__(self) -> str:
        return f"EventKind({self.name!r})"

    def __str__(self) -> str:
        return self.name


TOKEN = EventKind(
    "token",
    api="rest",
    type="TOKEN",
    version=None,
    connect=False,
    arn_field="methodArn",
    value_maps="none",
    source_ip_holder=None,
    token_field="authorizationToken",
    scalar_context=True,
    simple_responses=False,
    result_limit=None,
    cached=True,
    catch_all="ANY /{proxy+}",
)
REST = EventKind(
    "rest",
    api="rest",
    type="REQUEST",
    version=None,
    connect=False,
    arn_field="methodArn",
    value_maps="multi",
    source_ip_holder="identity",
    token_field=None,
    scalar_context=True,
    simple_responses=False,
    result_limit=None,
    cached=True,
    catch_all="ANY /{proxy+}",
)
WEBSOCKET = EventKind(
    "websocket",
    api="websocket",
    type="REQUEST",
    version=None,
    connect=True,
    arn_field="methodArn",
    value_maps="multi",
    source_ip_holder="identity",
    token_field=None,
    scalar_context=True,
    simple_responses=False,
    result_limit=8 * 1024,
    cached=False,
    catch_all=None,
)
HTTP_V1 = EventKind(
    "http-v1",
    api="http",
    type="REQUEST",
    version="1.0",
    connect=False,
    arn_field="methodArn",
    value_maps="multi",
    source_ip_holder="identity",
    token_field=None,
    scalar_context=False,
    simple_responses=False,
    result_limit=None,
    cached=True,
    catch_all="ANY /{proxy+}",
)
HTTP_V2 = EventKind(
    "http-v2",
    api="http",
    type="REQUEST",
    version="2.0",
    connect=False,
    arn_field="routeArn",
    value_maps="joined",
    source_ip_holder="http",
    token_field=None,
    scalar_context=False,
    simple_responses=True,
    result_limit=None,
    cached=True,
    catch_all="$default",
)

KINDS: dict[str, EventKind] = {kind.name: kind for kind in (TOKEN, REST, WEBSOCKET, HTTP_V1, HTTP_V2)}
NAMES = tuple(KINDS)


def kind_named(name: str) -> EventKind:
    """The kind called `name`; ValueError listing the kinds otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown event kind {name!r}; one of {', '.join(NAMES)}") from None
