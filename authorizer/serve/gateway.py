"""One request through API Gateway's authorizer step, with API Gateway's answers.

The HTTP layer hands over what arrived (`Incoming`); this module builds the exact event API
Gateway would send (`RequestSpec`), answers 401 without calling the authorizer when an identity
source is missing, calls `decide.evaluate` as the Lambda does (or re-uses a cached answer, as API
Gateway does, re-evaluated against the new ARN), and turns the answer into API Gateway's status and body.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from authorizer.decide.decision import Decision
from authorizer.decide.evaluate import evaluate
from authorizer.decide.response import ResponseMode, uses_simple
from authorizer.event.builder import RequestSpec
from authorizer.event.kinds import TOKEN, WEBSOCKET, EventKind, kind_named
from authorizer.event.request import Request
from authorizer.policy.identity import derive_identity_sources
from authorizer.serve.iam import IamAnswer, MalformedAnswer, SimpleAnswer, evaluate_policy, read_answer
from authorizer.serve.identity import IdentitySources
from authorizer.serve.logtext import one_line
from authorizer.serve.routes import Route, RouteTable
from authorizer.stores.base import PolicyStore

log = logging.getLogger("authorizer.serve")

MAX_CACHE_ENTRIES = 10_000
GatewayVerdict = Literal[
    "allow", "explicit-deny", "implicit-deny", "unauthorized", "missing-identity", "malformed", "bad-request"
]

# API Gateway's own bodies (docs/api-gateway.md): REST/WebSocket, then HTTP APIs
_REST_BODIES: dict[str, dict[str, Any]] = {
    "unauthorized": {"message": "Unauthorized"},
    "explicit-deny": {"Message": "User is not authorized to access this resource with an explicit deny"},
    "implicit-deny": {"Message": "User is not authorized to access this resource"},
    "malformed": {"message": None},
    "bad-request": {"message": "Bad Request"},
}
_HTTP_BODIES: dict[str, dict[str, Any]] = {
    "unauthorized": {"message": "Unauthorized"},
    "explicit-deny": {"message": "Forbidden"},
    "implicit-deny": {"message": "Forbidden"},
    "malformed": {"message": "Internal Server Error"},
    "bad-request": {"message": "Bad Request"},
}
_STATUS = {
    "allow": 200,
    "explicit-deny": 403,
    "implicit-deny": 403,
    "unauthorized": 401,
    "malformed": 500,
    "bad-request": 400,
}
_ERROR_TYPES = {
    400: "BadRequestException",
    401: "UnauthorizedException",
    403: "AccessDeniedException",
    500: "AuthorizerConfigurationException",
}


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """How the emulated API is set up (what the console or template would say)."""

    api: str = "rest"  # the kind of event the API sends its authorizer (kinds.NAMES)
    stage: str = "dev"
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    account_id: str = "123456789012"
    api_id: str = "example123"
    region: str = "us-east-1"
    identity_sources: tuple[str, ...] | None = None  # None: derived from the policy
    ttl: int = 300
    response: ResponseMode | None = None  # HTTP API 2.0: simple responses on/off; None: the policy's
    source_ip: str | None = None  # the caller's address for every request (None: the TCP peer's)
    routes: tuple[Route, ...] = ()  # the API's routes; a request none matches takes the catch-all
    trust_forwarded_for: bool = False  # the left-most X-Forwarded-For address is the caller's


@dataclass(frozen=True, slots=True)
class Incoming:
    """A request as it reached the gateway, below the stage prefix."""

    method: str
    path: str
    headers: Sequence[tuple[str, str]]  # names in the case the client sent them
    query: Sequence[tuple[str, str]]
    source_ip: str  # the TCP peer
    websocket: bool = False


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    response: dict[str, Any]
    decision: Decision
    route: str  # the route it was decided for
    expires: float  # time.monotonic()
    at: float  # time.time()


@dataclass(slots=True)
class GatewayAnswer:
    """What the gateway answers, and why (for the access log and the HTML page)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    verdict: GatewayVerdict
    kind: EventKind
    route: str
    request_id: str
    reason: str
    decision: Decision | None = None
    cached: CachedAnswer | None = None  # set when a cached answer decided
    note: str | None = None  # the caching pitfall, explained
    authorizer: dict[str, Any] = field(default_factory=dict)  # requestContext.authorizer for the integration
    event: dict[str, Any] | None = None  # the authorizer event, when the authorizer allowed this very request
    forwarded_for: str = ""  # X-Forwarded-For as API Gateway passes it on (the caller's address last)


def _stringified(value: Any) -> str:
    """REST hands context values to the integration as strings (`true`, `123`)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _refusal_reason(verdict: GatewayVerdict, answer: IamAnswer | SimpleAnswer, arn: str, decision: Decision) -> str:
    said = f"rule {decision.rule!r}" if decision.rule else decision.reason
    if isinstance(answer, SimpleAnswer):
        return f"isAuthorized false ({said})"
    if verdict == "explicit-deny":
        return f"the returned policy ({said}) denies {arn}"
    return f"the returned policy ({said}) has no Allow covering {arn}"


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}"


class Gateway:
    """API Gateway's authorizer step for one API stage."""

    def __init__(self, config: GatewayConfig, store: PolicyStore) -> None:
        self.config = config
        self.store = store
        # one cache per API: the kind's name, then the identity-source values
        self.cache: dict[tuple[str, tuple[str, ...]], CachedAnswer] = {}
        self.identity = IdentitySources(self._identity_sources())
        self.routes = RouteTable(config.routes)

    def _identity_sources(self) -> tuple[str, ...]:
        if self.config.identity_sources is not None:
            return self.config.identity_sources
        if self.config.api == TOKEN.name:
            return ("header.Authorization",)
        policy = self.store.current()
        return derive_identity_sources(policy) if policy is not None else ()

    @property
    def caching(self) -> bool:
        """Whether answers for plain HTTP requests (the API `--api` names) are cached."""
        return self.caches(kind_named(self.config.api))

    def caches(self, kind: EventKind) -> bool:
        """API Gateway caches only with a TTL and identity sources; never WebSocket authorizers."""
        return self.config.ttl > 0 and bool(self.identity.sources) and kind.cached

    def policy_changed(self) -> None:
        """A new policy: forget cached answers, re-derive identity sources if they were not given."""
        if self.cache:
            log.info(
                "cache flushed (%d answers): on AWS a new authorizer does not flush the authorizer cache; "
                "answers cached before stay in use until their TTL ends",
                len(self.cache),
            )
        self.cache.clear()
        sources = self._identity_sources()
        if sources != self.identity.sources:
            log.info("identity sources now: %s", ", ".join(sources) or "none")
            self.identity = IdentitySources(sources)

    # -- one request -------------------------------------------------------------------------
    def bad_request(self, reason: str, websocket: bool = False) -> GatewayAnswer:
        """A request refused before the authorizer (400): the authorizer never sees it."""
        kind = WEBSOCKET if websocket else kind_named(self.config.api)
        return self._refuse("bad-request", kind, "-", str(uuid.uuid4()), reason)

    def authorize(self, incoming: Incoming) -> GatewayAnswer:
        kind = WEBSOCKET if incoming.websocket else kind_named(self.config.api)
        caller = self._caller(incoming)
        if caller is None:
            reason = "the left-most X-Forwarded-For entry is not an IP address (--trust-forwarded-for)"
            return self.bad_request(reason, incoming.websocket)
        source_ip, forwarded_for = caller
        spec = self._spec(incoming, kind, source_ip, forwarded_for)
        request_id = spec.request_id or ""
        # the identity sources are read from the request as a REST API sees it: TOKEN events carry no headers
        request = Request(spec.to_event("rest" if kind is TOKEN else kind))
        policy = self.store.current()
        route = request.arn.route if policy is None else policy.shown_route(request.event, request.arn)
        values = self.identity.values(request)
        if isinstance(values, str):
            reason = f"identity source {values} missing or empty: 401 without calling the authorizer"
            return self._refuse("missing-identity", kind, route, request_id, reason)
        if kind.api == "http":  # these events carry the identity-source values themselves
            request = Request(replace(spec, identity_source=values).to_event(kind))
        elif kind is TOKEN:
            request = Request(replace(spec, token=values[0]).to_event(kind))
        event = request.event

        cached = self._cached(kind, values)
        if cached is not None:
            response: dict[str, Any] | None = cached.response
            decision = cached.decision
        else:
            decision, _, response = evaluate(event, policy, self.config.response, explained=True)
        if response is None:
            return self._refuse("unauthorized", kind, route, request_id, decision.reason, decision)
        try:
            answer = read_answer(response, request, simple=self._simple(kind))
        except MalformedAnswer as exc:
            reason = f"authorizer answer API Gateway cannot use: {exc}"
            return self._refuse("malformed", kind, route, request_id, reason, decision)
        if cached is None and self.caches(kind):
            cached_now = CachedAnswer(response, decision, route, time.monotonic() + self.config.ttl, time.time())
            self._remember((kind.name, values), cached_now)
        if isinstance(answer, IamAnswer):
            verdict: GatewayVerdict = evaluate_policy(answer, request.arn_text)
        else:
            verdict = "allow" if answer.isAuthorized else "explicit-deny"
        if verdict != "allow":
            arn = request.arn_text if policy is None else policy.shown_arn(request.arn_text, request.arn)
            reason = _refusal_reason(verdict, answer, arn, decision)
            outcome = self._refuse(verdict, kind, route, request_id, reason, decision)
            outcome.cached = cached
            if cached is not None and cached.route != route:
                outcome.note = self._pitfall(cached, route)
                log.warning("%s", one_line(outcome.note))
            return outcome
        context = answer.context or {}
        if kind.api == "http":
            authorizer: dict[str, Any] = {"lambda": context}
        else:
            principal = answer.principalId if isinstance(answer, IamAnswer) else ""
            authorizer = {"principalId": principal, **{k: _stringified(v) for k, v in context.items()}}
        headers = self._headers(kind, request_id, 200)
        outcome = GatewayAnswer(200, {}, headers, "allow", kind, route, request_id, decision.reason, decision, cached)
        outcome.authorizer = authorizer
        outcome.event = None if cached is not None else event
        outcome.forwarded_for = forwarded_for
        return outcome

    # -- parts -------------------------------------------------------------------------------
    def _caller(self, incoming: Incoming) -> tuple[str, str] | None:
        """The caller's address (--source-ip; else, when trusted, the left-most X-Forwarded-For entry;
        else the TCP peer's) and X-Forwarded-For as API Gateway passes it on: the client's chain with
        that address appended. None when a trusted chain does not start with an address."""
        forwarded = ", ".join(v for n, v in incoming.headers if n.lower() == "x-forwarded-for") or None
        address = self.config.source_ip or incoming.source_ip
        if self.config.trust_forwarded_for and forwarded is not None:
            try:
                address = str(ipaddress.ip_address(forwarded.split(",")[0].strip()))
            except ValueError:
                return None
            return address, forwarded  # the chain names the caller first already: kept as sent
        return address, f"{forwarded}, {address}" if forwarded else address

    def _spec(self, incoming: Incoming, kind: EventKind, source_ip: str, forwarded_for: str) -> RequestSpec:
        headers: dict[str, list[str]] = {}
        for name, value in incoming.headers:
            if name.lower() not in ("x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"):
                headers.setdefault(name, []).append(value)
        headers["X-Forwarded-For"] = [forwarded_for]
        headers["X-Forwarded-Port"] = ["443"]
        headers["X-Forwarded-Proto"] = ["https"]
        headers.setdefault("X-Amzn-Trace-Id", [_trace_id()])
        query: dict[str, list[str]] = {}
        for name, value in incoming.query:
            query.setdefault(name, []).append(value)
        user_agent = next((v[-1] for n, v in headers.items() if n.lower() == "user-agent"), "")
        parameters, route_key = self._route(incoming, kind)
        config = self.config
        return RequestSpec(
            method=incoming.method,
            path=incoming.path,
            headers=headers,
            query=query,
            stage_variables=dict(config.stage_variables),
            path_parameters=parameters,
            route_key=route_key,
            source_ip=source_ip,
            user_agent=user_agent,
            account_id=config.account_id,
            api_id=config.api_id,
            region=config.region,
            stage=config.stage,
            request_id=str(uuid.uuid4()),
            now=time.time(),
        )

    def _route(self, incoming: Incoming, kind: EventKind) -> tuple[dict[str, str], str | None]:
        """The path parameters and the route key (which sets REST's `resource`) of the route taken."""
        if kind.connect:
            return {}, None
        matched = self.routes.match(incoming.method, incoming.path)
        if matched is not None:
            return matched.parameters, matched.route.key
        if kind.catch_all == "$default":
            return {}, kind.catch_all
        if incoming.path == "/":
            return {}, None
        return {"proxy": incoming.path.lstrip("/")}, kind.catch_all

    def _simple(self, kind: EventKind) -> bool:
        policy = self.store.current()
        return uses_simple(self.config.response or (policy.response if policy else "iam"), kind)

    def _cached(self, kind: EventKind, values: tuple[str, ...]) -> CachedAnswer | None:
        """The answer cached for these values by this kind's API (a REST answer never serves a
        WebSocket `$connect`: separate APIs, separate caches, and `$connect` is never cached)."""
        if not self.caches(kind):
            return None
        key = (kind.name, values)
        entry = self.cache.get(key)
        if entry is not None and entry.expires <= time.monotonic():
            del self.cache[key]
            return None
        return entry

    def _remember(self, key: tuple[str, tuple[str, ...]], entry: CachedAnswer) -> None:
        if len(self.cache) >= MAX_CACHE_ENTRIES:
            now = time.monotonic()
            for stale in [k for k, v in self.cache.items() if v.expires <= now] or [next(iter(self.cache))]:
                del self.cache[stale]
        self.cache[key] = entry

    def _pitfall(self, cached: CachedAnswer, route: str) -> str:
        age = int(time.time() - cached.at)
        return (
            f"403 on {route} from a cached answer: the authorizer decided for {cached.route} {age} s ago, "
            f"and API Gateway re-uses that answer for every route called with the same identity-source values "
            f"for {self.config.ttl} s, evaluating its policy against the new ARN. Return a policy covering every "
            f"route the caller may use (`resource: stage` or `api`, or `routes`), set the TTL to 0, or (HTTP API) "
            f"add $context.routeKey to the identity sources."
        )

    def _headers(self, kind: EventKind, request_id: str, status: int) -> dict[str, str]:
        if kind.api == "http":
            return {"apigw-requestid": request_id}
        headers = {"x-amzn-RequestId": request_id}
        if status in _ERROR_TYPES:
            headers["x-amzn-ErrorType"] = _ERROR_TYPES[status]
        return headers

    def _refuse(
        self,
        verdict: GatewayVerdict,
        kind: EventKind,
        route: str,
        request_id: str,
        reason: str,
        decision: Decision | None = None,
    ) -> GatewayAnswer:
        shown = "unauthorized" if verdict == "missing-identity" else verdict
        status = _STATUS[shown]
        body = dict((_HTTP_BODIES if kind.api == "http" else _REST_BODIES)[shown])
        headers = self._headers(kind, request_id, status)
        return GatewayAnswer(status, body, headers, verdict, kind, route, request_id, reason, decision)
