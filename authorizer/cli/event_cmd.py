"""`authorizer event KIND [--header NAME=VALUE]... [--query NAME=VALUE]... [...]`: the authorizer event
API Gateway would send for a request, as JSON, for `authorizer eval` (`authorizer event rest ... |
authorizer eval policy.yaml -`) or a fixture file.

Built by `RequestSpec(...).to_event(kind)`, the builder test suites and `authorizer serve` use, so an
event from the command line is exactly a suite case's. Arguments are checked against what API
Gateway can send (header names are HTTP tokens, the source IP an address, the route `METHOD /path`
or `$name`, nothing larger than its 10 KB header limit) and against the kind: a TOKEN event carries
only the token, only TOKEN events carry one, only HTTP APIs pass identity-source values.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
from typing import Any

from authorizer.cli.io import EXIT_OK, EXIT_USAGE, UsageError, print_json, say
from authorizer.event.builder import RequestSpec
from authorizer.event.kinds import NAMES, EventKind, kind_named
from authorizer.files import parse_json

MAX_ARGUMENT_BYTES = 10 * 1024  # API Gateway's limit on a request's headers: nothing it sends is larger
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token: header names, methods
_LINE_BREAKS = re.compile(r"[\r\n\x00]")
_ROUTE = re.compile(r"\$[A-Za-z0-9_-]+|[A-Z]+ /\S*")
_ID = re.compile(r"[A-Za-z0-9_-]+")
# arguments that describe a request's parts: a TOKEN event (no value maps) carries none of them
_REQUEST_PARTS = (
    "header",
    "query",
    "stage_var",
    "path_param",
    "context",
    "source_ip",
    "route",
    "identity_source",
    "user_agent",
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "event",
        help="print the authorizer event API Gateway would send for a request (for eval, or as a fixture)",
        description="Print, as JSON, the event of KIND that API Gateway sends its authorizer for the request "
        "described, built as test suites build them. Pipe it to `authorizer eval POLICY -`.",
    )
    p.add_argument("kind", choices=NAMES, help="the event kind")
    p.add_argument("--method", default="GET", help="HTTP method (default GET)")
    p.add_argument("--path", default="/", help="the concrete request path, e.g. /pets/42 (default /)")
    p.add_argument("--header", action="append", default=[], metavar="NAME=VALUE", help="a header (repeatable)")
    p.add_argument("--query", action="append", default=[], metavar="NAME=VALUE", help="a query parameter (repeatable)")
    p.add_argument("--stage-var", action="append", default=[], metavar="K=V", help="a stage variable (repeatable)")
    p.add_argument("--path-param", action="append", default=[], metavar="K=V", help="a path parameter (repeatable)")
    p.add_argument("--source-ip", help="the caller's IP address (default 198.51.100.1)")
    p.add_argument("--route", help="the route as configured: `GET /pets/{id}`, `$default`")
    p.add_argument("--token", help="TOKEN events: the token (default: the Authorization header)")
    p.add_argument("--identity-source", action="append", metavar="VALUE", help="HTTP APIs: an identity-source value")
    p.add_argument("--context", metavar="JSON", help="a JSON object merged into requestContext")
    p.add_argument("--user-agent", help="the caller's User-Agent in requestContext")
    p.add_argument("--stage", default="dev", help="stage name (default dev)")
    p.add_argument("--account-id", default="123456789012", help="AWS account id in the ARN and requestContext")
    p.add_argument("--api-id", default="example123", help="API id in the ARN and requestContext")
    p.add_argument("--region", default="us-east-1", help="region in the ARN")
    p.add_argument("--request-id", help="requestContext's request id (default: a new UUID)")
    p.add_argument("--time", type=float, metavar="EPOCH", help="the request's time, seconds since 1970 (default now)")
    p.set_defaults(run=run)


def _text(option: str, value: str) -> str:
    """An argument as API Gateway could send it: valid UTF-8 (argv holds invalid bytes as surrogates), bounded."""
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise UsageError(f"{option}: not valid UTF-8") from None
    if size > MAX_ARGUMENT_BYTES:
        raise UsageError(f"{option}: larger than {MAX_ARGUMENT_BYTES} bytes, API Gateway's limit for headers")
    return value


def _pairs(option: str, given: list[str]) -> list[tuple[str, str]]:
    out = []
    for pair in given:
        name, sep, value = _text(option, pair).partition("=")
        if not sep or not name:
            raise UsageError(f"{option} {pair!r}: expected NAME=VALUE")
        out.append((name, value))
    return out


def _multi(option: str, given: list[str]) -> dict[str, list[str]]:
    """Repeated names are repeated values (`--header x=a --header x=b`), as a request can carry them."""
    out: dict[str, list[str]] = {}
    for name, value in _pairs(option, given):
        out.setdefault(name, []).append(value)
    return out


def _single(option: str, given: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in _pairs(option, given):
        if name in out:
            raise UsageError(f"{option} {name!r} given twice: a {option[2:]} has one value")
        out[name] = value
    return out


def _headers(given: list[str]) -> dict[str, list[str]]:
    headers = _multi("--header", given)
    for name, values in headers.items():
        if not _TOKEN.fullmatch(name):
            raise UsageError(f"--header {name!r}: not a header name (letters, digits and !#$%&'*+.^_`|~-)")
        if any(_LINE_BREAKS.search(value) for value in values):
            raise UsageError(f"--header {name!r}: a header value holds no line break or NUL")
    return headers


def _context(given: str | None) -> dict[str, Any]:
    if given is None:
        return {}
    try:
        value = parse_json(_text("--context", given).encode())
    except ValueError as exc:
        raise UsageError(f"--context: not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError("--context: expected a JSON object (merged into requestContext)")
    return value


def _check_kind(kind: EventKind, args: argparse.Namespace) -> None:
    """What the kind carries: the row of `event/kinds.py`, not its name."""
    if args.token is not None and kind.token_field is None:
        raise UsageError(f"--token: only TOKEN events carry one; for {kind} send a header (--header Authorization=...)")
    if kind.value_maps == "none":
        given = [name for name in _REQUEST_PARTS if getattr(args, name) not in (None, [])]
        if given:
            option = "--" + given[0].replace("_", "-")
            raise UsageError(f"{option}: a {kind} event carries only the token and the method ARN")
    if args.identity_source is not None and kind.api != "http":
        raise UsageError(f"--identity-source: only HTTP API events carry identity-source values, not {kind}")
    if args.route is not None and kind.connect:
        raise UsageError(f"--route: a {kind} authorizer runs only on $connect")


def _check_request(args: argparse.Namespace) -> None:
    if not _TOKEN.fullmatch(args.method):
        raise UsageError(f"--method {args.method!r}: not an HTTP method")
    if not _text("--path", args.path).startswith("/") or _LINE_BREAKS.search(args.path):
        raise UsageError(f"--path {args.path!r}: a request path starts with / and holds no line break")
    if args.route is not None and not _ROUTE.fullmatch(_text("--route", args.route)):
        raise UsageError(f"--route {args.route!r}: expected `METHOD /path` (GET /pets/{{id}}) or `$default`")
    if args.source_ip is not None:
        try:
            ipaddress.ip_address(args.source_ip)
        except ValueError:
            raise UsageError(f"--source-ip {args.source_ip!r}: not an IP address") from None
    if args.token is not None and _LINE_BREAKS.search(_text("--token", args.token)):
        raise UsageError("--token: a token holds no line break or NUL")
    for option in ("stage", "api_id", "region", "request_id"):
        value = getattr(args, option)
        if value is not None and not (_ID.fullmatch(value) or (option == "stage" and value == "$default")):
            raise UsageError(f"--{option.replace('_', '-')} {value!r}: letters, digits, - and _ only")
    if not re.fullmatch(r"[0-9]{12}", args.account_id):
        raise UsageError(f"--account-id {args.account_id!r}: twelve digits")
    if args.time is not None and not 0 <= args.time < 1e11:
        raise UsageError(f"--time {args.time!r}: seconds since 1970")


def build(args: argparse.Namespace) -> dict[str, Any]:
    """The event the arguments describe; UsageError for any argument API Gateway could not have sent."""
    kind = kind_named(args.kind)
    _check_kind(kind, args)
    _check_request(args)
    optional = {"source_ip": args.source_ip, "user_agent": args.user_agent}
    spec = RequestSpec(
        method=args.method,
        path=args.path,
        headers=_headers(args.header),
        query=_multi("--query", args.query),
        stage_variables=_single("--stage-var", args.stage_var),
        path_parameters=_single("--path-param", args.path_param),
        context=_context(args.context),
        token=args.token,
        route_key=args.route,
        identity_source=[_text("--identity-source", v) for v in args.identity_source]
        if args.identity_source is not None
        else None,
        stage=args.stage,
        account_id=args.account_id,
        api_id=args.api_id,
        region=args.region,
        request_id=args.request_id,
        now=args.time,
        **{name: _text(f"--{name.replace('_', '-')}", value) for name, value in optional.items() if value is not None},
    )
    return spec.to_event(kind)


def run(args: argparse.Namespace) -> int:
    try:
        event = build(args)
    except UsageError as exc:
        say("event", exc)
        return EXIT_USAGE
    print_json(event)
    return EXIT_OK
