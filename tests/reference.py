"""A slow, obviously-correct interpreter of the policy language: the oracle the compiled engine is
checked against.

Written from docs/policy-language.md and docs/api-gateway.md, straight over the raw event and the
validated policy data (`authorizer.policy.load.validate_data`), sharing no code with
authorizer/event/, authorizer/policy/compiler.py or authorizer/decide/: no index, no compiled
matchers, no lazy maps. Every value is looked up afresh, every rule is tried in order, and conditions are
three-valued (True, False, None = unknown: missing or conflicting, or a secret that cannot be read).

Where the guide is silent, the choices are written down here (and in SECURITY.md):
- the kind comes from `type`, `version`, the ARN's shape (a `$connect` ARN has no method) and
  requestContext.eventType, which must agree with it; anything else is not an event;
- where an event has both a single- and a multi-value map (REST, WebSocket, HTTP 1.0), every name
  the policy reads anywhere must be in both or neither, each single value the last of its list,
  every value a string, else the request is refused whatever the rules say; a map that is null or
  not a map leaves the other to be read alone;
- HTTP API 2.0 splits a comma-joined value into its parts, trimming each part;
- numbers compare as 64-bit floats (an int beyond their range saturates to ±inf); a string counts
  as a number when Python's float() reads it, it is finite and at most 64 characters long;
- an address is at most 64 characters, surrounding blanks ignored; IPv4-mapped IPv6 is IPv4;
- `joined` is the (non-empty) values joined with ",", each written with str(), and so is an output
  with `join:` (with its separator);
- `jwt.*` (a policy with `tokens:`): the token is the one value of the one `from` source that holds
  anything (several sources, or several values: no token); under `scheme: bearer` a header's or a
  TOKEN event's value must start with "Bearer " (any case), which is dropped; what remains must not
  start with it. Whether the token verifies, and its claims, is given data: the `verifier`
  handed to the interpreter (token text → claims, or None). A claim is a string, number or boolean
  (one value; "" missing), or a list of them (its non-empty items; a list holding anything else,
  or nothing, is missing); `jwt.a.b` and `jwt[a][b]` walk nested objects; `jwt.scopes` is `scope`
  split on blanks then `scp` (a list, or split on blanks); `jwt.issuer` the name whose configured
  issuer (`issuer:`, or a Cognito pool's https://cognito-idp.REGION.amazonaws.com/POOL) is `iss`.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jmespath

Result = bool | None
KINDS_WITH_SCALAR_CONTEXT = ("token", "rest", "websocket")
MAX_RESOURCE = 512


class NotAnEvent(Exception):
    """The event is not an authorizer event: refused."""


class Unresolved(Exception):
    """An output source is missing or ambiguous: refused."""


@dataclass(frozen=True)
class RefDecision:
    effect: str  # allow | deny | unauthorized
    rule: str | None = None
    principal: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    resources: tuple[str, ...] = ()
    usage_identifier_key: str | None = None


REFUSED = RefDecision("unauthorized")


# -- three-valued logic ---------------------------------------------------------------------------
def and3(results: list[Result]) -> Result:
    if False in results:
        return False
    return None if None in results else True


def or3(results: list[Result]) -> Result:
    if True in results:
        return True
    return None if None in results else False


def not3(result: Result) -> Result:
    return None if result is None else not result


# -- the event ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Arn:
    text: str
    partition: str
    region: str
    account: str
    api: str
    stage: str
    method: str
    path: str


def kind_of(event: Any) -> str:
    if not isinstance(event, dict):
        raise NotAnEvent
    kinds = {"TOKEN": {None: "token"}, "REQUEST": {None: "rest", "1.0": "http-v1", "2.0": "http-v2"}}
    kind_type, version = event.get("type"), event.get("version")
    if not isinstance(kind_type, str) or not isinstance(version, str | None):
        raise NotAnEvent
    kind = kinds.get(kind_type, {}).get(version)
    if kind is None:
        raise NotAnEvent
    context = event.get("requestContext")
    event_type = context.get("eventType") if isinstance(context, dict) else None
    route_arn = arn_of(event, kind).method == ""
    if kind == "rest" and route_arn:
        if event_type not in (None, "CONNECT") or arn_of(event, kind).path != "$connect":
            raise NotAnEvent
        return "websocket"
    if route_arn or event_type == "CONNECT":
        raise NotAnEvent
    return kind


def arn_of(event: dict[str, Any], kind: str) -> Arn:
    text = event.get("routeArn" if kind == "http-v2" else "methodArn")
    if not isinstance(text, str):
        raise NotAnEvent
    pieces = text.split(":", 5)
    if len(pieces) != 6:
        raise NotAnEvent
    scheme, partition, service, region, account, resource = pieces
    if scheme != "arn" or service != "execute-api" or not partition.startswith("aws") or not region or not account:
        raise NotAnEvent
    api, _, rest = resource.partition("/")
    stage, _, rest = rest.partition("/")
    verb, slash, path = rest.partition("/")
    if not api or not stage or not verb:
        raise NotAnEvent
    if not slash and verb.startswith("$"):
        return Arn(text, partition, region, account, api, stage, "", verb)
    return Arn(text, partition, region, account, api, stage, verb, "/" + path)


class Event:
    """The raw event, read on demand; values are lists (every value received), None when absent."""

    def __init__(self, event: Any) -> None:
        self.kind = kind_of(event)
        self.raw: dict[str, Any] = event
        self.arn = arn_of(event, self.kind)

    def _named(self, single_key: str, multi_key: str, name: str, fold: bool) -> list[str]:
        """Every value (empty strings included) sent for `name`; NotAnEvent when the maps disagree."""

        def same(key: Any) -> bool:
            return isinstance(key, str) and (key.lower() == name.lower() if fold else key == name)

        single, multi = self.raw.get(single_key), self.raw.get(multi_key)
        singles = [(k, v) for k, v in single.items() if same(k)] if isinstance(single, dict) else None
        if self.kind == "http-v2":
            out: list[str] = []
            for _, value in singles or []:
                if not isinstance(value, str):
                    raise NotAnEvent
                out += [part.strip() for part in value.split(",")] if "," in value else [value]
            return out
        lists = [(k, v) for k, v in multi.items() if same(k)] if isinstance(multi, dict) else None
        if lists is not None:
            for _, listed in lists:
                if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
                    raise NotAnEvent
        if singles is not None:
            for _, value in singles:
                if not isinstance(value, str):
                    raise NotAnEvent
        if singles is not None and lists is not None:
            if len(singles) == len(lists) == 1:
                pairs = [(singles[0][1], lists[0][1])]
            elif sorted(k for k, _ in singles) == sorted(k for k, _ in lists):
                by_key = dict(singles)
                pairs = [(by_key[k], listed) for k, listed in lists]
            else:
                raise NotAnEvent
            if any(not listed or listed[-1] != value for value, listed in pairs):
                raise NotAnEvent
        if lists is not None:
            return [v for _, listed in lists for v in listed]
        return [v for _, v in singles or []]

    def header_values(self, name: str) -> list[str]:
        return self._named("headers", "multiValueHeaders", name, fold=True)

    def query_values(self, name: str) -> list[str]:
        return self._named("queryStringParameters", "multiValueQueryStringParameters", name, fold=False)

    def cookie_pairs(self) -> list[tuple[str, str]]:
        raw = self.raw.get("cookies")
        if raw is None:
            raw = [piece for value in self.header_values("cookie") for piece in value.split(";")]
        if not isinstance(raw, list):
            return []
        pairs = []
        for item in raw:
            if not isinstance(item, str):
                raise NotAnEvent
            if "=" in item:
                name, _, value = item.partition("=")
                pairs.append((name.strip(), value.strip()))
        return pairs

    def string_map(self, key: str) -> dict[str, str]:
        raw = self.raw.get(key)
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}

    def request_context(self) -> dict[str, Any]:
        context = self.raw.get("requestContext")
        return context if isinstance(context, dict) else {}

    def token(self) -> str | None:
        token = self.raw.get("authorizationToken")
        return token if self.kind == "token" and isinstance(token, str) else None

    def source_ip(self) -> str | None:
        holder = self.request_context().get("http" if self.kind == "http-v2" else "identity")
        ip = holder.get("sourceIp") if isinstance(holder, dict) else None
        return ip if isinstance(ip, str) else None

    def route_key(self) -> str:
        for holder in (self.raw, self.request_context()):
            if isinstance(holder.get("routeKey"), str):
                return str(holder["routeKey"])
        resource = self.raw.get("resource")
        if isinstance(resource, str) and self.arn.method:
            return f"{self.arn.method} {resource}"
        return f"{self.arn.method} {self.arn.path}" if self.arn.method else self.arn.path

    # -- identity sources ------------------------------------------------------------------------
    def values(self, source: str) -> list[Any] | None:
        """The values of an identity source; None when missing (an empty string is missing)."""
        fixed = {
            "kind": lambda: self.kind,
            "route.method": lambda: self.arn.method,
            "route.path": lambda: self.arn.path,
            "route.key": self.route_key,
            "arn.partition": lambda: self.arn.partition,
            "arn.region": lambda: self.arn.region,
            "arn.account": lambda: self.arn.account,
            "arn.api": lambda: self.arn.api,
            "arn.stage": lambda: self.arn.stage,
        }
        if source in fixed:
            return [fixed[source]()]  # always present, even "" (WebSocket's route.method)
        if source in ("token", "source_ip"):
            value: Any = self.token() if source == "token" else self.source_ip()
            return None if value in (None, "") else [value]
        family, _, name = source.partition(".")
        if family in ("header", "query", "cookie"):
            if family == "header":
                found: list[Any] = self.header_values(name)
            elif family == "query":
                found = self.query_values(name)
            else:
                found = [v for n, v in self.cookie_pairs() if n == name]
            found = [v for v in found if v != ""]
            return found or None
        if family in ("stage", "path"):
            value = self.string_map("stageVariables" if family == "stage" else "pathParameters").get(name)
        else:  # context.a.b
            value = self.request_context()
            for key in name.split("."):
                value = value.get(key) if isinstance(value, dict) else None
        return None if value is None or (isinstance(value, str) and value == "") else [value]

    def view(self) -> dict[str, Any]:
        """The JMESPath request view, built from the guide's description."""

        def flat(pairs: dict[str, list[str]]) -> dict[str, Any]:
            return {k: vs[0] if len(set(vs)) == 1 else vs for k, vs in pairs.items() if vs}

        def names(single_key: str, multi_key: str, fold: bool) -> list[str]:
            keys = []
            for holder_key in (multi_key, single_key):
                holder = self.raw.get(holder_key) if self.kind != "http-v2" or holder_key == single_key else None
                for key in holder if isinstance(holder, dict) else ():
                    if isinstance(key, str):
                        keys.append(key.lower() if fold else key)
            return list(dict.fromkeys(keys))

        cookies: dict[str, list[str]] = {}
        for name, value in self.cookie_pairs():
            cookies.setdefault(name, []).append(value)
        arn = self.arn
        return {
            "kind": self.kind,
            "token": self.token(),
            "headers": flat({n: self.header_values(n) for n in names("headers", "multiValueHeaders", True)}),
            "query": flat(
                {
                    n: self.query_values(n)
                    for n in names("queryStringParameters", "multiValueQueryStringParameters", False)
                }
            ),
            "cookies": flat(cookies),
            "stage": self.string_map("stageVariables"),
            "path": self.string_map("pathParameters"),
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


# -- operators --------------------------------------------------------------------------------------
def same(value: Any, expected: Any) -> bool:
    """Type-strict equality: "1" is not 1, and true is not 1."""
    if isinstance(expected, bool) or isinstance(value, bool):
        return type(value) is type(expected) and value == expected
    if isinstance(expected, str) or isinstance(value, str):
        return type(value) is type(expected) and value == expected
    return isinstance(value, int | float) and isinstance(expected, int | float) and value == expected


def as_float(number: int | float) -> float:
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return as_float(value)
    if isinstance(value, str) and len(value) <= 64:
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def glob_match(pattern: str, text: str) -> bool:
    """`*` any run of characters, `?` one character, everything else literally: a set-of-states NFA."""

    def closure(states: set[int]) -> set[int]:
        out = set()
        for i in states:
            out.add(i)
            while i < len(pattern) and pattern[i] == "*":
                i += 1
                out.add(i)
        return out

    states = closure({0})
    for char in text:
        after = set()
        for i in states:
            if i < len(pattern):
                if pattern[i] == "*":
                    after.add(i)
                elif pattern[i] in ("?", char):
                    after.add(i + 1)
        states = closure(after)
    return len(pattern) in states


def address(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def as_operators(spec: Any) -> dict[str, Any]:
    if isinstance(spec, dict):
        return spec
    return {"one_of": spec} if isinstance(spec, list) else {"equals": spec}


def holds(op: str, arg: Any, value: Any, secrets: dict[str, str | None]) -> Result:
    """One operator on one present value: unknown only for a secret that cannot be read."""
    if op == "equals":
        return same(value, arg)
    if op == "not_equals":
        return not same(value, arg)
    if op == "one_of":
        return any(same(value, a) for a in arg)
    if op == "not_one_of":
        return not any(same(value, a) for a in arg)
    if op == "exists":
        return bool(arg)
    if not isinstance(value, str) and op in ("prefix", "suffix", "contains", "regex", "glob", "secret"):
        return False
    if op == "prefix":
        return bool(value.startswith(arg))
    if op == "suffix":
        return bool(value.endswith(arg))
    if op == "contains":
        return arg in value
    if op == "regex":
        return re.fullmatch(arg, value) is not None  # generated patterns are in Python's and RE2's common subset
    if op == "glob":
        return glob_match(arg, value)
    if op == "secret":
        secret = secrets.get(arg)
        return None if not secret else value == secret  # unknown, not unequal: `not` must not hold either
    if op == "cidr":
        ip = address(value)
        networks = [arg] if isinstance(arg, str) else arg
        return ip is not None and any(ip in ipaddress.ip_network(n, strict=False) for n in networks)
    if op in ("lt", "le", "gt", "ge"):
        number, bound = as_number(value), as_float(arg)
        if number is None:
            return False
        return {"lt": number < bound, "le": number <= bound, "gt": number > bound, "ge": number >= bound}[op]
    if op == "not":
        inner = {k: v for k, v in as_operators(arg).items() if k != "values"}
        return not3(and3([holds(k, v, value, secrets) for k, v in inner.items()]))
    raise AssertionError(f"unknown operator {op}")


# -- JMESPath: the fields an expression reads from the root of the view --------------------------------
def fields_read(node: dict[str, Any], at_root: bool = True) -> list[list[str]]:
    """Each maximal run of field names read from the root (`a.b."c-d"`, `a.b[0]` reads a.b); what a
    projection, filter, pipe or `&expr` reads is relative to its elements and not listed."""
    kind, kids = node["type"], [k for k in node.get("children", []) if isinstance(k, dict)]
    if at_root:
        path: list[str] = []
        for part in kids if kind == "subexpression" else [node]:
            inner = part["children"][0] if part["type"] == "index_expression" else part
            if inner["type"] != "field":
                path = []
                break
            path.append(inner["value"])
            if part["type"] == "index_expression":
                break
        if path:
            return [path]
    if kind in ("subexpression", "pipe", "index_expression", "projection", "value_projection", "filter_projection"):
        return [*(fields_read(kids[0], at_root) if kids else []), *(f for k in kids[1:] for f in fields_read(k, False))]
    return [f for k in kids for f in fields_read(k, at_root and kind != "expref")]


def present(view: Any, path: list[str]) -> bool:
    for key in path:
        view = view.get(key) if isinstance(view, dict) else None
    return view is not None and view != ""


# -- claims ---------------------------------------------------------------------------------------------
Verifier = Callable[[str], Mapping[str, Any] | None]


def claim_names(source: str) -> list[str]:
    """`jwt.a.b` → [a, b]; `jwt[a:b][c.d]` → [a:b, c.d]."""
    return [dotted or bracketed for dotted, bracketed in re.findall(r"\.([^.\[\]]+)|\[([^\[\]]+)\]", source[3:])]


def claim_values(value: Any) -> list[Any] | None:
    def scalar(v: Any) -> bool:
        return isinstance(v, str | int | float) and not (isinstance(v, str) and v == "")

    if isinstance(value, list):
        if not all(isinstance(v, str | int | float) for v in value):
            return None
        return [v for v in value if scalar(v)] or None
    return [value] if scalar(value) else None


def issuer_url(spec: dict[str, Any]) -> str:
    pool = spec.get("cognito")
    if pool is None:
        return str(spec["issuer"])
    region = pool["user_pool_id"].split("_")[0]
    return f"https://cognito-idp.{region}.amazonaws.com/{pool['user_pool_id']}"


# -- conditions, rules, policy --------------------------------------------------------------------
class Interpreter:
    def __init__(
        self, policy: dict[str, Any], secrets: dict[str, str | None] | None = None, verifier: Verifier | None = None
    ) -> None:
        self.policy = policy
        self.secrets = secrets or {}
        self.verifier = verifier

    def claims(self, ev: Event) -> Mapping[str, Any] | None:
        """The request's verified claims (the verifier's answer for its one token), or None."""
        tokens = self.policy["tokens"]
        held = [(source, ev.values(source)) for source in tokens["from"]]
        held = [(source, values) for source, values in held if values is not None]
        if len(held) != 1 or len(held[0][1]) != 1 or self.verifier is None:
            return None
        source, (text,) = held[0]
        if tokens["scheme"] == "bearer" and source.split(".")[0] in ("header", "token"):
            if text[:7].lower() != "bearer ":
                return None
            text = text[7:]
        if text[:7].lower() == "bearer ":
            return None
        return self.verifier(text)

    def claim(self, ev: Event, source: str) -> list[Any] | None:
        claims = self.claims(ev)
        if claims is None:
            return None
        if source == "jwt.scopes":
            scp = claims.get("scp", [])
            scopes = str(claims.get("scope", "")).split() + (scp.split() if isinstance(scp, str) else list(scp))
            return [s for s in scopes if s] or None
        if source == "jwt.issuer":
            names = [n for n, spec in self.policy["tokens"]["issuers"].items() if issuer_url(spec) == claims.get("iss")]
            return names or None
        value: Any = claims
        for name in claim_names(source):
            value = value.get(name) if isinstance(value, dict) else None
        return claim_values(value)

    def values(self, ev: Event, source: str) -> list[Any] | None:
        return self.claim(ev, source) if source.startswith("jwt") else ev.values(source)

    def condition(self, ev: Event, source: str, spec: Any) -> Result:
        ops = as_operators(spec)
        mode = ops.get("values", "single")
        ops = {k: v for k, v in ops.items() if k != "values"}
        pairs = {op: arg["from"] for op, arg in ops.items() if isinstance(arg, dict) and "from" in arg}
        ops = {op: arg for op, arg in ops.items() if op not in pairs}
        results = [self.between(ev, source, op, other) for op, other in pairs.items()]
        return and3([*results, self.literal_ops(ev, source, ops, mode)] if ops else results)

    def between(self, ev: Event, source: str, op: str, other: str) -> Result:
        """`source: {equals: {from: other}}`: unknown unless each has exactly one (distinct) value."""
        mine, theirs = self.values(ev, source), self.values(ev, other)
        if mine is None or theirs is None or len(set(map(repr, mine))) > 1 or len(set(map(repr, theirs))) > 1:
            return None
        equal = same(mine[0], theirs[0])
        return equal if op == "equals" else not equal

    def literal_ops(self, ev: Event, source: str, ops: dict[str, Any], mode: str) -> Result:
        values = self.values(ev, source)
        if values is None:  # missing: only `exists: false` holds, everything else is unknown
            return and3([True if op == "exists" and arg is False else None for op, arg in ops.items()])

        def all_hold(value: Any) -> Result:
            return and3([holds(op, arg, value, self.secrets) for op, arg in ops.items()])

        if mode == "single":
            distinct = values if len(values) == 1 else list(dict.fromkeys(values))
            return all_hold(distinct[0]) if len(distinct) == 1 else None
        if mode == "any":
            return or3([all_hold(v) for v in values])
        if mode == "all":
            return and3([all_hold(v) for v in values])
        return all_hold(",".join(str(v) for v in values))  # joined

    def when(self, ev: Event, spec: dict[str, Any]) -> Result:
        results: list[Result] = []
        for key, value in spec.items():
            if key == "any":
                results.append(or3([self.when(ev, w) for w in value]))
            elif key == "all":
                results.append(and3([self.when(ev, w) for w in value]))
            elif key == "not":
                results.append(not3(self.when(ev, value)))
            elif key == "jmespath":
                view = ev.view()
                if not all(present(view, path) for path in fields_read(jmespath.compile(value).parsed)):
                    results.append(None)  # a field it reads is missing or empty: unknown
                    continue
                try:
                    results.append(jmespath.search(value, view) is True)
                except Exception:
                    results.append(None)
            else:
                results.append(self.condition(ev, key, value))
        return and3(results)

    def output(self, ev: Event, spec: Any) -> Any:
        if not isinstance(spec, dict):
            return spec
        values = self.values(ev, spec["from"])
        if values is not None and "join" in spec:
            return spec["join"].join(str(v) for v in values)
        if values is None or len(set(map(repr, values))) > 1:
            raise Unresolved
        return values[0]

    def resources(self, ev: Event, scope: str, routes: list[str] | None) -> tuple[str, ...]:
        arn = ev.arn
        prefix = f"arn:{arn.partition}:execute-api:{arn.region}:{arn.account}:{arn.api}"
        if scope == "stage" or (scope == "routes" and routes is None):  # no routes: every route of the stage
            return (f"{prefix}/{arn.stage}/*",)
        if scope == "api":
            return (f"{prefix}/*",)
        if scope == "routes" and routes:
            out = []
            for text in routes:
                if text.startswith("$"):
                    out.append(f"{prefix}/{arn.stage}/{text}")
                    continue
                method, _, path = text.partition(" ")
                method = "*" if method.upper() in ("ANY", "*") else method.upper()
                iam = re.sub(r"\{[^}/]+\}", "*", path)
                out.append(f"{prefix}/{arn.stage}/{method}/{iam.lstrip('/')}")
            return tuple(dict.fromkeys(out))
        return (arn.text,)

    def sources_read(self) -> tuple[set[str], bool]:
        """Every identity source the policy names anywhere, and whether it has a JMESPath condition."""
        found: set[str] = set()
        jmes = False

        def walk(when: dict[str, Any]) -> None:
            nonlocal jmes
            for key, value in when.items():
                if key in ("any", "all"):
                    for inner in value:
                        walk(inner)
                elif key == "not":
                    walk(value)
                elif key == "jmespath":
                    jmes = True
                else:
                    found.add(key)
                    for op in as_operators(value).values():
                        if isinstance(op, dict) and "from" in op:
                            found.add(op["from"])

        for rule in self.policy["rules"]:
            walk(rule.get("when", {}))
            for output in [rule.get("principal"), rule.get("usage_identifier_key"), *rule.get("context", {}).values()]:
                if isinstance(output, dict):
                    found.add(output["from"])
        found.update(self.policy.get("tokens", {}).get("from", []))  # where the token travels is read too
        return found, jmes

    def maps_agree(self, ev: Event) -> None:
        """NotAnEvent unless every value-map name the policy reads reads cleanly (see the module doc)."""
        sources, jmes = self.sources_read()
        for source in sources:
            if source.split(".", 1)[0] in ("header", "query", "cookie"):
                ev.values(source)
        if jmes:
            ev.view()

    def decide(self, event: Any) -> RefDecision:
        try:
            ev = Event(event)
            self.maps_agree(ev)
        except NotAnEvent:
            return REFUSED
        default_scope = self.policy.get("resource", "method")
        for rule in self.policy["rules"]:
            routes = rule.get("routes")
            if routes is not None and not any(route_matches(r, ev.arn.method, ev.arn.path) for r in routes):
                continue
            if self.when(ev, rule.get("when", {})) is not True:
                continue
            try:
                principal = self.output(ev, rule.get("principal") or rule["name"])
                context = {k: self.output(ev, v) for k, v in rule.get("context", {}).items()}
                usage = self.output(ev, rule["usage_identifier_key"]) if rule.get("usage_identifier_key") else None
            except Unresolved:
                return REFUSED
            if isinstance(principal, bool) or not isinstance(principal, str | int | float) or principal == "":
                return REFUSED
            return RefDecision(
                rule["effect"],
                rule["name"],
                str(principal),
                context,
                self.resources(ev, rule.get("resource") or default_scope, routes),
                None if usage is None else str(usage),
            )
        if self.policy.get("on_no_match") == "deny":
            scope = "method" if default_scope == "routes" else default_scope
            return RefDecision("deny", None, "anonymous", {}, self.resources(ev, scope, None))
        return REFUSED

    def response(self, event: Any, mode: str | None = None) -> dict[str, Any] | None:
        """What the Lambda must return (None: it must raise Exception("Unauthorized"))."""
        decision = self.decide(event)
        try:
            kind = Event(event).kind
        except NotAnEvent:
            return None
        if (mode or self.policy.get("response", "iam")) == "simple" and kind == "http-v2":
            if decision.effect != "allow":
                return {"isAuthorized": False}
            return {"isAuthorized": True, **({"context": decision.context} if decision.context else {})}
        if decision.effect == "unauthorized":
            return None
        if any(not r or len(r) > MAX_RESOURCE for r in decision.resources):
            return None
        if kind in KINDS_WITH_SCALAR_CONTEXT and any(
            v is None or not isinstance(v, str | int | float | bool) for v in decision.context.values()
        ):
            return None
        resources = decision.resources
        out: dict[str, Any] = {
            "principalId": decision.principal,
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Action": "execute-api:Invoke",
                        "Effect": decision.effect.capitalize(),
                        "Resource": resources[0] if len(resources) == 1 else list(resources),
                    }
                ],
            },
        }
        if decision.context:
            out["context"] = decision.context
        if decision.usage_identifier_key is not None:
            out["usageIdentifierKey"] = decision.usage_identifier_key
        return out


# -- routes -------------------------------------------------------------------------------------------
def route_matches(route: str, method: str, path: str) -> bool:
    """`GET /pets/*`, `ANY /a/{id}`, `/b/{proxy+}`, `$connect` against the ARN's method and path."""
    if route.startswith("$"):
        return method == "" and path == route
    want, _, pattern = route.partition(" ")
    if want.upper() not in ("ANY", "*") and want.upper() != method:
        return False
    # pattern → steps: (char-test, repeatable); `{x}` is one or more non-/ chars, `{x+}` one or more of any
    steps: list[tuple[Any, bool]] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "*":
            steps.append((lambda c: True, True))
            i += 1
        elif pattern[i] == "{" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            test = (lambda c: True) if pattern[end - 1] == "+" else (lambda c: c != "/")
            steps += [(test, False), (test, True)]
            i = end + 1
        else:
            literal = pattern[i]
            steps.append((lambda c, lit=literal: c == lit, False))
            i += 1

    def closure(states: set[int]) -> set[int]:
        out = set(states)
        for s in states:
            while s < len(steps) and steps[s][1]:
                s += 1
                out.add(s)
        return out

    states = closure({0})
    for char in path:
        after = set()
        for s in states:
            if s < len(steps) and steps[s][0](char):
                after.add(s if steps[s][1] else s + 1)
        states = closure(after)
    return len(steps) in states
