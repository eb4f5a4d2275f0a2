"""`authorizer serve POLICY`: a local gateway that answers exactly as API Gateway would."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from authorizer.cli.io import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, load_policy_or_report
from authorizer.event.kinds import NAMES, TOKEN, WEBSOCKET, kind_named
from authorizer.policy.compiler import TokenOptions
from authorizer.tokens import DEV_KEYS

MAX_TTL = 3600  # API Gateway's maximum authorizer cache TTL


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run a local gateway that answers like API Gateway, with this policy as its authorizer",
        description="Each request becomes the authorizer event API Gateway would send, runs through the "
        "handler, and is answered as API Gateway answers: 401 when an identity source is missing or the "
        "authorizer refuses, 403 when the returned policy does not allow the route, 500 for an answer API "
        "Gateway cannot use; allowed requests reach --upstream or a built-in echo backend. WebSocket "
        "upgrades run the $connect authorizer. Browsers get an HTML page with the explain trace.",
    )
    p.add_argument("policy", help="policy YAML file (re-read when it changes)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=3000, help="port (default: 3000; 0 picks a free one)")
    p.add_argument("--stage", default="dev", help="stage name, the first path segment (default: dev; $default: none)")
    p.add_argument("--stage-var", action="append", default=[], metavar="K=V", help="a stage variable (repeatable)")
    p.add_argument("--account-id", default="123456789012", help="AWS account id in ARNs and requestContext")
    p.add_argument("--api-id", default="example123", help="API id in ARNs and requestContext")
    p.add_argument("--region", default="us-east-1", help="region in ARNs")
    p.add_argument(
        "--api",
        choices=NAMES,
        default="rest",
        help="API type: event shape and answers (default: rest; WebSocket upgrades always run $connect)",
    )
    p.add_argument(
        "--identity-source",
        action="append",
        metavar="SOURCE",
        help="identity source, e.g. header.Auth or method.request.header.Auth (repeatable or comma-separated; "
        "default: the sources every rule of the policy requires)",
    )
    p.add_argument(
        "--ttl",
        type=int,
        default=300,
        help="authorizer cache TTL in seconds, 0 to disable (default: 300, as API Gateway's REST default)",
    )
    p.add_argument("--upstream", metavar="URL", help="proxy allowed requests to this HTTP server")
    p.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="'METHOD /path'",
        help="a route of the API, e.g. 'GET /pets/{id}' (repeatable): sets the event's resource or routeKey "
        "and pathParameters; requests no route matches take the catch-all (ANY /{proxy+}, or $default)",
    )
    p.add_argument("--openapi", metavar="FILE", help="add the routes of this OpenAPI or Swagger file (JSON or YAML)")
    p.add_argument("--sam-template", metavar="FILE", help="add the routes this SAM template gives the --api's API")
    caller = p.add_mutually_exclusive_group()
    caller.add_argument(
        "--source-ip",
        metavar="ADDRESS",
        help="the caller's IP address for every request (default: the client's), e.g. to try cidr conditions",
    )
    caller.add_argument(
        "--trust-forwarded-for",
        action="store_true",
        help="take the caller's address from the left-most X-Forwarded-For entry, when the client sends one",
    )
    p.add_argument("--response", choices=["iam", "simple"], help="HTTP API 2.0 response format (default: policy's)")
    p.add_argument(
        "--dev-keys",
        nargs="?",
        const=str(DEV_KEYS),
        metavar="DIR",
        help=f"verify bearer tokens with the development keys `authorizer token mint` signs with (default folder: "
        f"{DEV_KEYS}), in place of the policy's issuers' key sets",
    )
    p.set_defaults(run=run)


def _stage_variables(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--stage-var {pair!r}: expected NAME=VALUE")
        out[name] = value
    return out


def _identity_sources(given: list[str] | None, api: str) -> tuple[str, ...] | None:
    from authorizer.policy.identity import parse_identity_source

    if given is None:
        return None
    sources = []
    for item in given:
        for text in filter(None, (t.strip() for t in item.split(","))):
            try:
                sources.append(parse_identity_source(text))
            except ValueError as exc:
                raise UsageError(f"--identity-source: {exc}") from None
    if api == TOKEN.name and (len(sources) != 1 or not sources[0].startswith("header.")):
        raise UsageError("--api token takes exactly one identity source, a header (the token source)")
    return tuple(dict.fromkeys(sources))


def _routes(args: argparse.Namespace) -> tuple[Any, ...]:
    """The routes given, read and checked (a one-line UsageError otherwise)."""
    from authorizer.serve.apidef import ApiDefinitionError, openapi_routes, sam_routes
    from authorizer.serve.routes import parse_route

    if (args.route or args.openapi or args.sam_template) and args.api in (TOKEN.name, WEBSOCKET.name):
        raise UsageError(f"--api {args.api} events carry no route: --route, --openapi and --sam-template do not apply")
    given = [("--route", text) for text in args.route]
    api = kind_named(args.api).api
    for option, path, read in (
        ("--openapi", args.openapi, openapi_routes),
        ("--sam-template", args.sam_template, lambda path: sam_routes(path, api)),
    ):
        if path:
            try:
                found = read(path)
            except ApiDefinitionError as exc:
                raise UsageError(f"{option} {exc}") from None
            if not found:
                raise UsageError(f"{option} {path}: no routes for a {args.api} API in it")
            given += [(f"{option} {path}", text) for text in found]
    routes = []
    for origin, text in given:
        try:
            routes.append(parse_route(text))
        except ValueError as exc:
            raise UsageError(f"{origin}: {exc}") from None
    return tuple(routes)


def _check(args: argparse.Namespace) -> None:
    if not 0 <= args.ttl <= MAX_TTL:
        raise UsageError(f"--ttl must be between 0 and {MAX_TTL} seconds")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    if args.upstream:
        url = urlparse(args.upstream)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise UsageError(f"--upstream {args.upstream!r}: expected an http:// or https:// URL")
    if not args.stage or "/" in args.stage:
        raise UsageError("--stage must be a name without '/'")
    if args.source_ip is not None:
        try:
            args.source_ip = str(ipaddress.ip_address(args.source_ip))
        except ValueError:
            raise UsageError(f"--source-ip {args.source_ip!r}: not an IPv4 or IPv6 address") from None


def _dev_keys(folder: str | None) -> TokenOptions | None:
    """The policy's issuers verifying with the development keys in `folder` (made on first use)."""
    if folder is None:
        return None
    from authorizer.tokens.mint import KeyFolder  # cryptography: only when asked for

    return TokenOptions(jwks=KeyFolder(Path(folder)).jwks)


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    for name in ("authorizer.serve", "authorizer.policy"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


def run(args: argparse.Namespace) -> int:
    try:
        _check(args)
        stage_variables = _stage_variables(args.stage_var)
        identity_sources = _identity_sources(args.identity_source, args.api)
        routes = _routes(args)
        tokens = _dev_keys(args.dev_keys)
        if load_policy_or_report(args.policy, tokens) is None:
            return EXIT_FINDINGS
    except UsageError as exc:
        print(f"authorizer serve: {exc}", file=sys.stderr)
        return EXIT_USAGE

    import asyncio  # here, not at the top: every other subcommand would pay for it

    from authorizer.serve.gateway import Gateway, GatewayConfig
    from authorizer.stores.file import FilePolicyStore

    _setup_logging()
    config = GatewayConfig(
        api=args.api,
        stage=args.stage,
        stage_variables=stage_variables,
        account_id=args.account_id,
        api_id=args.api_id,
        region=args.region,
        identity_sources=identity_sources,
        ttl=args.ttl,
        response=args.response,
        source_ip=args.source_ip,
        routes=routes,
        trust_forwarded_for=args.trust_forwarded_for,
    )
    gateway = Gateway(config, FilePolicyStore(args.policy, tokens=tokens))
    try:
        asyncio.run(_serve(gateway, args))
    except OSError as exc:
        print(f"authorizer serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


async def _serve(gateway: Any, args: argparse.Namespace) -> None:
    import asyncio
    import signal

    from aiohttp import web

    from authorizer.serve.app import create_app
    from authorizer.serve.runner import GatewayRunner

    runner = GatewayRunner(create_app(gateway, upstream=args.upstream))
    await runner.setup()
    try:
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        port = runner.addresses[0][1]
        _banner(gateway, args, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def _banner(gateway: Any, args: argparse.Namespace, port: int) -> None:
    host = f"[{args.host}]" if ":" in args.host else args.host
    base = f"http://{host}:{port}/" + ("" if args.stage == "$default" else f"{args.stage}/")
    sources = ", ".join(gateway.identity.sources) or "none"
    origin = "given" if args.identity_source or args.api == TOKEN.name else "required by every rule of the policy"
    if gateway.caching:
        caching = f"{args.ttl} s per identity-source values"
    elif not kind_named(args.api).cached:
        caching = "off (API Gateway does not cache WebSocket authorizers)"
    else:
        caching = "off (TTL 0 or no identity sources)"
    if args.source_ip:
        caller = f"{args.source_ip} (--source-ip)"
    elif args.trust_forwarded_for:
        caller = "the left-most X-Forwarded-For entry, else the client's address (--trust-forwarded-for)"
    else:
        caller = "the client's address (--source-ip or --trust-forwarded-for to choose)"

    lines = [
        f"authorizer serve: {args.policy} as the authorizer of a {args.api} API, stage {args.stage}",
        f"  listening on {base} (WebSocket: ws://{host}:{port}/{'' if args.stage == '$default' else args.stage})",
        f"  identity sources: {sources} ({origin})",
        f"  authorizer cache: {caching}",
        f"  source IP: {caller}",
        f"  routes: {_routes_line(gateway, args)}",
        f"  integration: {args.upstream or 'built-in echo backend'}",
    ]
    if args.dev_keys is not None:  # before `integration:`, the line tests wait for
        lines.insert(-1, f"  tokens: verified with the development keys in {args.dev_keys} (authorizer token mint)")
    if not _loopback(args.host):
        lines.append("  warning: listening beyond this machine; this gateway is for local testing")
    print("\n".join(lines), flush=True)


def _routes_line(gateway: Any, args: argparse.Namespace) -> str:
    catch_all = kind_named(args.api).catch_all
    if catch_all is None:
        return "$connect"
    keys = [route.key for route in gateway.routes.routes]
    if not keys:
        return f"{catch_all} only (--route, --openapi or --sam-template to add yours)"
    shown = ", ".join(keys[:8]) + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")
    return f"{shown}; otherwise {catch_all}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
