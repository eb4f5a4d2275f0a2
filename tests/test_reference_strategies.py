"""Hypothesis strategies shared by the reference, fail-closed and ambiguity properties: random
policies (every operator, values mode, combinator and output kind) and random events of the five
kinds, drawn from one small vocabulary so that conditions hold often enough to matter."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import strategies as st

from authorizer.event.builder import RequestSpec
from authorizer.event.kinds import NAMES as EVENT_KINDS
from authorizer.policy.ir import CompiledPolicy
from authorizer.policy.load import load

SECRET_VALUE = "s3cr3t-Value"
SECRETS: dict[str, str | None] = {"k": SECRET_VALUE, "gone": None}  # `gone` cannot be fetched

HEADER_NAMES = ["x-a", "X-A", "x-b", "x-api-key"]
QUERY_NAMES = ["q", "Q"]
TEXTS = ["", "a", "b", "A", "a,b", " a", "ab", "abc", "1", "10", "-2.5", "1e3", "é", "x y", SECRET_VALUE]
IPS = ["10.0.0.1", "10.1.2.3", "192.0.2.7", "2001:db8::1", "::ffff:10.0.0.1", "not-an-ip", " 10.0.0.9"]
TEXT = st.sampled_from(TEXTS + IPS)
NUMBERS = [0, 1, 10, 2.5, -1, 10**30]
SCALAR = st.one_of(TEXT, st.sampled_from([*NUMBERS, True, False]))

SOURCES = [
    *(f"header.{n}" for n in HEADER_NAMES),
    *(f"query.{n}" for n in QUERY_NAMES),
    "cookie.c",
    "stage.s",
    "path.p",
    "context.accountId",
    "context.n",
    "context.flag",
    "context.obj",
    "context.identity.sourceIp",
    "token",
    "source_ip",
    "kind",
    "route.method",
    "route.path",
    "route.key",
    "arn.stage",
]
# patterns Python's re and RE2 read the same way (the reference matches with Python's re)
REGEXES = ["a.*", "[ab]+", "a|b", "\\d+", "x?y*", ".*", "(a|b)c?", "[^,]*", "10\\..*", "é|A"]
GLOBS = ["a*", "*b", "?", "*", "a?c", "*,*", "10.*", "", "*a*b*"]
CIDRS = ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32", "0.0.0.0/0", "10.0.0.1/32"]
ROUTES = ["GET /a", "GET /a/*", "ANY /a/{id}", "POST /b/{rest+}", "$connect", "* /a", "GET /", "GET /a/{id}/x"]
JMESPATHS = [
    "headers.\"x-a\" == 'a'",
    "length(keys(headers)) < `3`",
    "contains(keys(query), 'q')",
    "context.n > `5`",
    "token == 's3cr3t-Value'",
    "route.method == 'GET'",
    "cookies.c == 'a'",
    "starts_with(headers.\"x-b\", 'a')",
    "kind == 'http-v2'",
    "`true`",
    "to_number(query.q) >= `1`",
]


TEXT_ONLY = ("header", "query", "cookie", "stage", "path", "token", "source_ip", "kind", "route", "arn")
TEXT_TESTS = st.one_of(  # the operators the rule index may key on by pattern (one RE2 set)
    st.tuples(st.just("prefix"), st.sampled_from(["a", "x", "", "1", "10."])),
    st.tuples(st.just("suffix"), st.sampled_from(["b", "a", "", ".1", "e"])),
    st.tuples(st.just("contains"), st.sampled_from(["a", ",", "", " "])),
    st.tuples(st.just("regex"), st.sampled_from(REGEXES)),
    st.tuples(st.just("glob"), st.sampled_from(GLOBS)),
)


def _literal(source: str) -> st.SearchStrategy[Any]:
    """What a policy may compare a source with: text for the sources that only hold text (a YAML
    number there is refused at load), any scalar for requestContext fields."""
    return TEXT if source.partition(".")[0] in TEXT_ONLY else SCALAR


def _operator(source: str, inner: bool = False, pairs: bool = False) -> st.SearchStrategy[tuple[str, Any]]:
    literal = _literal(source)
    choices = [
        st.tuples(st.just("equals"), literal),
        st.tuples(st.just("not_equals"), literal),
        st.tuples(st.just("one_of"), st.lists(literal, max_size=3)),
        st.tuples(st.just("not_one_of"), st.lists(literal, max_size=3)),
        TEXT_TESTS,
        st.tuples(st.just("cidr"), st.sampled_from(CIDRS) | st.lists(st.sampled_from(CIDRS), min_size=1, max_size=2)),
        st.tuples(st.sampled_from(["lt", "le", "gt", "ge"]), st.sampled_from(NUMBERS)),
        st.tuples(st.just("secret"), st.sampled_from(sorted(SECRETS))),
    ]
    if pairs:  # another source as the argument (one value of each: `values: single` only)
        other = st.sampled_from(SOURCES).map(lambda s: {"from": s})
        choices.append(st.tuples(st.sampled_from(["equals", "not_equals"]), other))
    if not inner:  # `not` holds operators only (no exists, values or nested not)
        choices.append(st.tuples(st.just("exists"), st.booleans()))
        choices.append(st.tuples(st.just("not"), _inner_condition(source)))
    return st.one_of(choices)


def _inner_condition(source: str) -> st.SearchStrategy[Any]:
    literal = _literal(source)
    return st.one_of(literal, st.lists(literal, max_size=3), _operators(source, inner=True))


def _operators(source: str, inner: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    def ops(pairs: bool) -> st.SearchStrategy[dict[str, Any]]:
        return st.lists(_operator(source, inner, pairs), min_size=1, max_size=3, unique_by=lambda p: p[0]).map(dict)

    if inner:
        return ops(False)
    single = st.tuples(ops(True), st.sampled_from([None, "single"]))
    other = st.tuples(ops(False), st.sampled_from(["any", "all", "joined"]))
    return (single | other).map(lambda pair: {**pair[0], "values": pair[1]} if pair[1] else pair[0])


def condition(source: str) -> st.SearchStrategy[Any]:
    """A condition on `source`: a literal (equals), a list (one_of), or a mapping of operators."""
    literal = _literal(source)
    return st.one_of(literal, st.lists(literal, max_size=3), _operators(source))


def operators_for(source: str) -> st.SearchStrategy[dict[str, Any]]:
    """A condition on `source` written as a mapping of operators, `values:` included."""
    return _operators(source)


CONDITIONS = st.sampled_from(SOURCES).flatmap(lambda s: st.tuples(st.just(s), condition(s)))


def whens(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    base = st.lists(CONDITIONS, max_size=3, unique_by=lambda pair: pair[0]).map(dict)
    if depth == 0:
        return base
    nested = whens(depth - 1)
    extras = st.fixed_dictionaries(
        {},
        optional={
            "any": st.lists(nested, min_size=1, max_size=2),
            "all": st.lists(nested, min_size=1, max_size=2),
            "not": nested.filter(bool),
            "jmespath": st.sampled_from(JMESPATHS),
        },
    )
    return st.tuples(base, extras).map(lambda pair: {**pair[0], **pair[1]})


OUTPUT = st.one_of(st.sampled_from(["me", "user-1"]), st.sampled_from(SOURCES).map(lambda s: {"from": s}))
CONTEXT_VALUE = st.one_of(SCALAR, st.sampled_from(SOURCES).map(lambda s: {"from": s}))


def _rule(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"name": st.just(name), "effect": st.sampled_from(["allow", "allow", "deny"])},
        optional={
            "routes": st.lists(st.sampled_from(ROUTES), min_size=1, max_size=3, unique=True),
            "when": whens(),
            "principal": OUTPUT,
            "context": st.dictionaries(st.sampled_from(["k1", "k2", "user"]), CONTEXT_VALUE, max_size=2),
            "usage_identifier_key": OUTPUT,
            "resource": st.sampled_from(["method", "stage", "api", "routes"]),
        },
    )


def _indexed_rules(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Enough rules keyed on one source (by value, or by pattern: regex, glob, prefix, suffix,
    contains) or exact route for the compiler to build its index."""
    source = draw(st.sampled_from(["header.x-a", "query.q", "header.x-api-key", "route"]))
    by_pattern = source != "route" and draw(st.booleans())  # on x-api-key (secret-bearing): digests only, no set
    count = draw(st.integers(8, 12))
    rules = []
    for i in range(count):
        rule: dict[str, Any] = {"name": f"ix{i}", "effect": draw(st.sampled_from(["allow", "deny"]))}
        if source == "route":
            rule["routes"] = [draw(st.sampled_from(["GET /a", "POST /a", "GET /", "GET /a/1", "$connect"]))]
        elif by_pattern:
            rule["when"] = {source: dict([draw(TEXT_TESTS)])}
        else:
            rule["when"] = {source: draw(_literal(source))}
        if draw(st.booleans()):
            rule.setdefault("when", {}).update(draw(whens(0)))
        rules.append(rule)
    return rules


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    """A policy as YAML data, valid by construction."""
    rules = [draw(_rule(f"r{i}")) for i in range(draw(st.integers(0, 4)))]
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(rules)))
        rules[at:at] = _indexed_rules(draw)
    policy: dict[str, Any] = {
        "version": 1,
        "secrets": {"k": {"env": "REF_SECRET_K"}, "gone": {"ssm": "/nowhere"}},
        "rules": rules,
    }
    optional = {
        "on_no_match": st.sampled_from(["unauthorized", "deny"]),
        "resource": st.sampled_from(["method", "stage", "api", "routes"]),
        "response": st.sampled_from(["iam", "simple"]),
        "redact": st.lists(st.sampled_from(SOURCES), max_size=2, unique=True),
    }
    policy.update(draw(st.fixed_dictionaries({}, optional=optional)))
    return policy


def index_kind(policy: CompiledPolicy) -> str:
    """How a policy's rules are indexed, for hypothesis' statistics: none, a table, or a pattern set."""
    return "none" if policy.index.keyed_on is None else "patterns" if policy.index.patterns else "table"


def compile_data(policy: dict[str, Any]) -> tuple[CompiledPolicy, dict[str, Any]]:
    """YAML text → (compiled, validated data), through the real loader, with the test secrets."""
    loaded = load("random.yaml", yaml.safe_dump(policy).encode(), secrets=SECRETS.get)
    return loaded.policy, loaded.data


# -- events -----------------------------------------------------------------------------------------
MULTI = st.dictionaries(
    st.sampled_from(HEADER_NAMES), st.one_of(TEXT, st.lists(TEXT, min_size=1, max_size=3)), max_size=4
)
COOKIE_HEADER = st.lists(st.sampled_from(["c=a", "c=b", "c=", "d=a", "c=s3cr3t-Value", "junk"]), max_size=3).map(
    "; ".join
)
CONTEXT_EXTRAS = st.fixed_dictionaries(
    {},
    optional={
        "n": st.one_of(st.sampled_from([*NUMBERS, True, None, "7", "x"])),
        "flag": st.sampled_from([True, False, "true", 1, None]),
        "obj": st.sampled_from([{"a": 1}, ["a"], "a", ""]),
        "accountId": st.sampled_from(["123456789012", "", 123456789012]),
    },
)


@st.composite
def request_specs(draw: st.DrawFn) -> RequestSpec:
    headers: dict[str, Any] = dict(draw(MULTI))
    cookie = draw(COOKIE_HEADER)
    if cookie:
        headers["Cookie"] = cookie
    return RequestSpec(
        method=draw(st.sampled_from(["GET", "POST", "get", "DELETE"])),
        path=draw(st.sampled_from(["/", "/a", "/a/1", "/a/1/x", "/b/x/y", "/a b", "/b"])),
        headers=headers,
        query=draw(
            st.dictionaries(
                st.sampled_from(QUERY_NAMES), st.one_of(TEXT, st.lists(TEXT, min_size=1, max_size=3)), max_size=2
            )
        ),
        stage_variables=draw(st.dictionaries(st.just("s"), TEXT, max_size=1)),
        path_parameters=draw(st.dictionaries(st.just("p"), TEXT, max_size=1)),
        context=draw(CONTEXT_EXTRAS),
        token=draw(st.none() | TEXT),
        source_ip=draw(st.sampled_from(IPS)),
        route_key=draw(st.sampled_from([None, "GET /a/{id}", "$default"])),
        stage=draw(st.sampled_from(["dev", "$default"])),
        request_id="req-1",
        now=0,
    )


# small, realistic-looking distortions of a well-formed event (junk at scale is in test_failclosed)
_MUTATIONS = [
    ("drop", "headers"),
    ("drop", "multiValueHeaders"),
    ("drop", "queryStringParameters"),
    ("drop", "requestContext"),
    ("null", "headers"),
    ("null", "multiValueQueryStringParameters"),
    ("null", "stageVariables"),
    ("junk", "headers"),
    ("junk", "requestContext"),
    ("junk", "cookies"),
    ("conflict", "headers"),
    ("conflict", "queryStringParameters"),
    ("set", "routeKey"),
]


def _mutate(event: dict[str, Any], mutation: tuple[str, str], value: Any) -> None:
    action, key = mutation
    if action == "drop":
        event.pop(key, None)
    elif action == "null":
        event[key] = None
    elif action == "junk":
        event[key] = value
    elif action == "conflict" and isinstance(event.get(key), dict):
        name = "X-A" if key == "headers" else "q"
        event[key][name] = value if isinstance(value, str) else "b"
    elif action == "set":
        event[key] = value


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event = draw(request_specs()).to_event(draw(st.sampled_from(EVENT_KINDS)))
    event = copy.deepcopy(event)
    for mutation in draw(st.lists(st.sampled_from(_MUTATIONS), max_size=2)):
        junk = draw(st.one_of(st.none(), TEXT, st.integers(), st.lists(TEXT, max_size=2), st.just({"x-a": 5})))
        _mutate(event, mutation, junk)
    return event
