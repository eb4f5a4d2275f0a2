"""The aiohttp application: HTTP and WebSocket on one port, in front of the gateway.

Every request below the stage prefix goes through `Gateway.authorize`; a refusal is answered with
API Gateway's status and body (a WebSocket upgrade is refused the same way, before the handshake);
an allowed request goes to `--upstream`, or to the built-in echo backend. Browsers get an HTML page
instead of JSON. One access-log line per request; the policy file is re-read when it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, WSMsgType, web
from multidict import CIMultiDict
from yarl import URL

from authorizer.policy.sources import REDACTED
from authorizer.serve.gateway import Gateway, GatewayAnswer, Incoming
from authorizer.serve.logtext import one_line
from authorizer.serve.page import render_page
from authorizer.serve.shown import shown_authorizer, shown_event
from authorizer.serve.target import BadTarget, Target, below_stage, read_target
from authorizer.stores.file import FilePolicyStore

access_log = logging.getLogger("authorizer.serve.access")
log = logging.getLogger("authorizer.serve")

GATEWAY = web.AppKey("gateway", Gateway)
UPSTREAM = web.AppKey("upstream", str)
SESSION = web.AppKey("session", ClientSession)
SOCKETS = web.AppKey("sockets", weakref.WeakSet[web.WebSocketResponse])
INTEGRATION_TIMEOUT = 29.0  # seconds: API Gateway's default integration timeout
AUTHORIZER_HEADER = "x-apigateway-authorizer"  # requestContext.authorizer, as JSON, for an --upstream server
_HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
     "transfer-encoding", "upgrade", "host", "content-length")
)  # fmt: skip


def create_app(gateway: Gateway, upstream: str | None = None, reload_every: float = 1.0) -> web.Application:
    app = web.Application()
    app[GATEWAY] = gateway
    app[SOCKETS] = weakref.WeakSet()
    if upstream:
        app[UPSTREAM] = upstream.rstrip("/")
        app.cleanup_ctx.append(_client_session)
    if reload_every > 0:
        app.cleanup_ctx.append(_policy_watcher(reload_every))
    app.on_shutdown.append(_close_sockets)
    app.router.add_route("*", r"/{tail:[\s\S]*}", handle)  # every path, newlines (%0A) included
    return app


# -- lifecycle ---------------------------------------------------------------------------------
async def _client_session(app: web.Application) -> AsyncIterator[None]:
    async with ClientSession(timeout=ClientTimeout(total=INTEGRATION_TIMEOUT), auto_decompress=False) as session:
        app[SESSION] = session
        yield


def _policy_watcher(every: float) -> Any:
    async def watcher(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_watch(app[GATEWAY], every))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return watcher


async def _watch(gateway: Gateway, every: float) -> None:
    """Re-read the policy file when it changes; a broken edit keeps the last good policy (the store logs why)."""
    store = gateway.store
    if not isinstance(store, FilePolicyStore):
        return
    while True:
        await asyncio.sleep(every)
        if store.reload():
            policy = store.current()
            log.info("policy reloaded from %s (%s)", store.location, policy.digest[:12] if policy else "?")
            gateway.policy_changed()


async def _close_sockets(app: web.Application) -> None:
    sockets = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=1001, message=b"server shutting down")


# -- requests ----------------------------------------------------------------------------------
def _wants_html(request: web.Request) -> bool:
    return "text/html" in request.headers.get("Accept", "")


async def handle(request: web.Request) -> web.StreamResponse:
    started = time.perf_counter()
    gateway = request.app[GATEWAY]
    upgrade = request.headers.get("Upgrade", "").lower() == "websocket" and request.method == "GET"
    try:
        whole = read_target(request.raw_path)
    except BadTarget as exc:  # never reaches the authorizer, nor the upstream
        return _refuse_early(request, gateway.bad_request(str(exc), upgrade), gateway, started)
    target = below_stage(whole, gateway.config.stage)
    if target is None:  # API Gateway: a path outside the deployed stage is 403 {"message":"Forbidden"}
        response: web.StreamResponse = _outside_stage(request, gateway)
        _log_access(request, response.status, None, started)
        return response
    if upgrade and not web.WebSocketResponse().can_prepare(request).ok:  # aiohttp's refusal quotes headers
        return _refuse_early(request, gateway.bad_request("not a WebSocket handshake", True), gateway, started)
    incoming = Incoming(
        method=request.method,
        path=target.path,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers],
        query=list(request.query.items()),
        source_ip=request.remote or "127.0.0.1",
        websocket=upgrade,
    )
    try:
        outcome = gateway.authorize(incoming)
    except Exception:  # a bug here must not look like an answer from API Gateway: say so, refuse
        log.exception("internal error in the local gateway (not an API Gateway behaviour)")
        return web.json_response({"message": "Internal server error"}, status=500)
    if outcome.status != 200:
        response = _answer(request, outcome, gateway, outcome.body)
    elif upgrade:
        return await _websocket(request, outcome, started)
    elif UPSTREAM in request.app:
        response = await _proxy(request, outcome, target)
    else:
        response = _answer(request, outcome, gateway, _echo(request, outcome, gateway, whole.path))
    _log_access(request, response.status, outcome, started)
    return response


def _refuse_early(request: web.Request, outcome: GatewayAnswer, gateway: Gateway, started: float) -> web.Response:
    response = _answer(request, outcome, gateway, outcome.body)
    _log_access(request, response.status, outcome, started)
    return response


def _answer(request: web.Request, outcome: GatewayAnswer, gateway: Gateway, body: dict[str, Any]) -> web.Response:
    """API Gateway's JSON (the echo backend's indented, for people), or the page for a browser."""
    if _wants_html(request):
        page = render_page(outcome, gateway, body)
        return web.Response(status=outcome.status, text=page, content_type="text/html", headers=outcome.headers)
    dumps = _indented if outcome.status == 200 else json.dumps
    return web.json_response(body, status=outcome.status, headers=outcome.headers, dumps=dumps)


def _indented(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _echo(request: web.Request, outcome: GatewayAnswer, gateway: Gateway, path: str) -> dict[str, Any]:
    """What the built-in backend answers: a display, so secret-bearing values are redacted (shown.py)."""
    decision = outcome.decision
    policy = gateway.store.current()
    return {
        "message": "allowed by the authorizer; this is the built-in echo backend (--upstream URL proxies instead)",
        "method": request.method,
        "path": REDACTED if policy is not None and policy.hides_paths else path,
        "route": outcome.route,
        "rule": decision.rule if decision else None,
        "principalId": decision.shown_principal() if decision else None,
        "context": decision.shown_context(decision.context) if decision else {},
        "cached": outcome.cached is not None,
        "requestContext": {"requestId": outcome.request_id, "authorizer": _shown_authorizer(outcome)},
        # what the authorizer received (null when a cached answer decided)
        "authorizerEvent": shown_event(outcome.event, policy.sensitive if policy else frozenset()),
    }


def _hides_paths(gateway: Gateway) -> bool:
    """The policy in use has a secret-bearing path parameter: no request's path is shown or logged."""
    policy = gateway.store.current()
    return policy is not None and policy.hides_paths


def _shown_authorizer(outcome: GatewayAnswer) -> dict[str, Any]:
    return shown_authorizer(outcome.authorizer, outcome.decision, outcome.kind)


def _outside_stage(request: web.Request, gateway: Gateway) -> web.Response:
    stage = gateway.config.stage
    if _wants_html(request):
        text = (
            f"<!doctype html><title>403 Forbidden</title><h1>403 Forbidden</h1><p>This gateway serves the stage "
            f"<code>{stage}</code>: try <a href='/{stage}/'>/{stage}/</a>.</p>"
        )
        return web.Response(status=403, text=text, content_type="text/html")
    return web.json_response({"message": "Forbidden"}, status=403)


async def _proxy(request: web.Request, outcome: GatewayAnswer, target: Target) -> web.Response:
    """Forward an allowed request to --upstream, with the authorizer's output as one JSON header: the
    path and query exactly as sent (the bytes whose decoding was authorized)."""
    query = f"?{target.raw_query}" if target.raw_query else ""
    url = URL(request.app[UPSTREAM] + target.raw_path + query, encoded=True)
    headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP)
    # the real values, not redacted: this is the integration's input, as on AWS, not a display
    headers[AUTHORIZER_HEADER] = json.dumps(outcome.authorizer, separators=(",", ":"), ensure_ascii=True)
    headers["X-Forwarded-For"] = outcome.forwarded_for  # the chain the authorizer saw, the caller last
    body = await request.read()
    try:
        async with request.app[SESSION].request(
            request.method, url, headers=headers, data=body or None, allow_redirects=False
        ) as upstream:
            payload = await upstream.read()
            kept = CIMultiDict((k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP)
            kept.update(outcome.headers)
            return web.Response(status=upstream.status, body=payload, headers=kept)
    except TimeoutError:
        return web.json_response({"message": "Endpoint request timed out"}, status=504, headers=outcome.headers)
    except ClientError as exc:
        if _hides_paths(request.app[GATEWAY]):  # the URL holds the path, and maybe the message
            log.warning("upstream %s failed: %s", request.app[UPSTREAM], type(exc).__name__)
        else:
            log.warning("upstream %s failed: %s", url, one_line(str(exc)))
        return web.json_response({"message": "Internal server error"}, status=502, headers=outcome.headers)


async def _websocket(request: web.Request, outcome: GatewayAnswer, started: float) -> web.StreamResponse:
    """Allowed `$connect`: complete the handshake; the echo backend answers each message."""
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
    ws = web.WebSocketResponse(protocols=offered[:1])
    ws.headers.update(outcome.headers)
    await ws.prepare(request)
    _log_access(request, 101, outcome, started)
    request.app[SOCKETS].add(ws)
    connection_id = outcome.request_id[:12] + "="
    async for message in ws:
        if message.type == WSMsgType.TEXT:
            await ws.send_json(
                {
                    "message": message.data,
                    "connectionId": connection_id,
                    "requestContext": {"authorizer": _shown_authorizer(outcome)},
                }
            )
    return ws


def _log_access(request: web.Request, status: int, outcome: GatewayAnswer | None, started: float) -> None:
    """method, path as sent (never the query string: it may carry tokens), status, decision, rule,
    latency; caller text with its control characters escaped (no request writes a line of its own)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    millis = (time.perf_counter() - started) * 1000
    method, path = one_line(request.method), one_line(request.raw_path.partition("?")[0])
    if _hides_paths(request.app[GATEWAY]):  # the route taken instead (shown_route), never the path
        path = REDACTED if outcome is None else one_line(outcome.route.partition(" ")[2] or outcome.route)
    if outcome is None:
        access_log.info("%s %s %d outside-stage %.1fms", method, path, status, millis)
        return
    rule = outcome.decision.rule if outcome.decision and outcome.decision.rule else "-"
    tail = " cached" if outcome.cached else ""
    if outcome.verdict != "allow":
        tail += f' reason="{one_line(outcome.reason)}"'
    access_log.info("%s %s %d %s rule=%s %.1fms%s", method, path, status, outcome.verdict, rule, millis, tail)
