"""Every operator: true, false, missing value, wrong type — through the compiled engine."""

import pytest

from authorizer.event.builder import RequestSpec
from tests.conftest import decide_event

MISSING = object()


def allowed(condition: str, value=MISSING, source: str = "context.v", kind: str = "rest", **spec) -> bool:
    ctx = {} if value is MISSING else {"v": value}
    event = RequestSpec(context=ctx, **spec).to_event(kind)
    policy = f"version: 1\nrules:\n  - name: r\n    effect: allow\n    when:\n      {source}: {condition}\n"
    return decide_event(policy, event).effect == "allow"


CASES = [
    # condition, true value, false value, wrong-type value
    ("abc", "abc", "abd", 1),
    ("123", 123, 124, "123"),
    ('"123"', "123", "124", 123),
    ("true", True, False, 1),
    ("1", 1, 2, True),
    ("1.5", 1.5, 1.6, "1.5"),
    ("[a, b]", "b", "c", ["a"]),
    ("{equals: x}", "x", "y", 0),
    ("{not_equals: x}", "y", "x", None),
    ("{one_of: [1, 2]}", 2, 3, True),
    ("{not_one_of: [a, b]}", "c", "a", None),
    ("{prefix: ab}", "abc", "cab", 12),
    ("{suffix: bc}", "abc", "bca", 12),
    ("{contains: b}", "abc", "xyz", ["b"]),
    ('{regex: "[a-z]+-[0-9]{2}"}', "ab-12", "ab-123", 12),
    ('{glob: "user-*@example.?om"}', "user-7@example.com", "admin@example.com", 7),
    ("{cidr: 10.0.0.0/8}", "10.1.2.3", "11.0.0.1", 167837955),
    ('{cidr: ["10.0.0.0/8", "2001:db8::/32"]}', "2001:db8::1", "2001:dead::1", ["10.0.0.1"]),
    ("{cidr: 10.0.0.0/8}", "::ffff:10.0.0.1", "::ffff:11.0.0.1", {"ip": "10.0.0.1"}),
    ("{lt: 10}", 9, 10, True),
    ("{le: 10}", "10", 10.5, "ten"),
    ("{gt: 10}", "10.5", 10, "nan"),
    ("{ge: 10}", 10, 9.99, "inf"),
    ("{exists: true}", "anything", MISSING, None),
    ("{not: abc}", "abd", "abc", None),
    ("{not: {prefix: x}}", "yx", "xy", None),
    ("{prefix: a, suffix: z}", "abz", "abc", 1),
]


@pytest.mark.parametrize("condition,true_value,false_value,wrong", CASES)
def test_operator_true_false_missing_wrong_type(condition, true_value, false_value, wrong):
    assert allowed(condition, true_value) is True
    assert allowed(condition, false_value) is False
    if condition != "{exists: true}":
        assert allowed(condition, MISSING) is False, "a missing value never satisfies a condition"
    if wrong is not None:
        assert allowed(condition, wrong) is False


def test_exists_false_is_the_way_to_require_absence():
    assert allowed("{exists: false}", MISSING) is True
    assert allowed("{exists: false}", "x") is False


@pytest.mark.parametrize("negative", ["{not_equals: x}", "{not_one_of: [x]}", "{not: x}", "{not: {regex: x}}"])
def test_negative_conditions_never_hold_on_missing_values(negative):
    assert allowed(negative, MISSING) is False
    assert allowed(negative, "", source="header.x-v", headers={"x-v": ""}) is False  # empty counts as missing


def test_empty_string_counts_as_missing():
    assert allowed("{exists: true}", "", source="header.x-v", headers={"x-v": ""}) is False


def test_regex_is_a_full_match_not_a_search():
    assert allowed("{regex: b}", "abc") is False
    assert allowed("{regex: .*b.*}", "abc") is True


def test_regex_runs_in_linear_time_on_hostile_input():
    assert allowed('{regex: "(a+)+$"}', "a" * 100_000 + "!") is False


def test_secret_compares_against_the_named_secret():
    policy = (
        "version: 1\nsecrets: {k: {env: K}}\nrules:\n  - name: r\n    effect: allow\n"
        "    when:\n      header.x-key: {secret: k}\n"
    )
    secrets = {"k": "s3cret"}.get
    ok = RequestSpec(headers={"x-key": "s3cret"}).to_event("rest")
    bad = RequestSpec(headers={"x-key": "s3cre"}).to_event("rest")
    none = RequestSpec().to_event("rest")
    assert decide_event(policy, ok, secrets=secrets).effect == "allow"
    assert decide_event(policy, bad, secrets=secrets).effect == "unauthorized"
    assert decide_event(policy, none, secrets=secrets).effect == "unauthorized"
    assert decide_event(policy, ok, secrets=lambda name: None).effect == "unauthorized", "unfetchable secret"


def test_secret_from_environment(monkeypatch):
    policy = (
        "version: 1\nsecrets: {k: {env: TEST_AUTH_SECRET}}\nrules:\n  - name: r\n    effect: allow\n"
        "    when:\n      header.x-key: {secret: k}\n"
    )
    event = RequestSpec(headers={"x-key": "from-env"}).to_event("rest")
    monkeypatch.delenv("TEST_AUTH_SECRET", raising=False)
    assert decide_event(policy, event).effect == "unauthorized"
    monkeypatch.setenv("TEST_AUTH_SECRET", "from-env")
    assert decide_event(policy, event).effect == "allow"


@pytest.mark.parametrize(
    "source,spec,value",
    [
        ("header.X-Thing", {"headers": {"x-thing": "v"}}, "v"),
        ("query.q", {"query": {"q": "v"}}, "v"),
        ("stage.s", {"stage_variables": {"s": "v"}}, "v"),
        ("path.id", {"path_parameters": {"id": "v"}}, "v"),
        ("cookie.c", {"headers": {"Cookie": "c=v"}}, "v"),
        ("context.identity.sourceIp", {"source_ip": "v"}, "v"),
        ("source_ip", {"source_ip": "10.0.0.1"}, "10.0.0.1"),
        ("kind", {}, "rest"),
        ("route.method", {"method": "PATCH"}, "PATCH"),
        ("route.path", {"path": "/a/b"}, "/a/b"),
        ("route.key", {"route_key": "GET /a/{id}"}, "GET /a/{id}"),
        ("arn.partition", {"partition": "aws-cn"}, "aws-cn"),
        ("arn.region", {"region": "eu-west-3"}, "eu-west-3"),
        ("arn.account", {"account_id": "111"}, '"111"'),
        ("arn.api", {"api_id": "abc"}, "abc"),
        ("arn.stage", {"stage": "prod"}, "prod"),
    ],
)
def test_every_identity_source(source, spec, value):
    event = RequestSpec(**spec).to_event("rest")
    policy = f"version: 1\nrules:\n  - name: r\n    effect: allow\n    when:\n      {source}: {value}\n"
    assert decide_event(policy, event).effect == "allow"
    wrong = (
        f"version: 1\nrules:\n  - name: r\n    effect: allow\n    when:\n      {source}: not-{value.strip(chr(34))}\n"
    )
    assert decide_event(wrong, event).effect == "unauthorized"


def test_token_source():
    policy = 'version: 1\nrules:\n  - name: r\n    effect: allow\n    when:\n      token: {prefix: "Bearer "}\n'
    assert decide_event(policy, RequestSpec(token="Bearer abc").to_event("token")).effect == "allow"
    assert decide_event(policy, RequestSpec(token="Basic abc").to_event("token")).effect == "unauthorized"
    assert decide_event(policy, RequestSpec().to_event("rest")).effect == "unauthorized"


@pytest.mark.parametrize(
    "condition,sent,allowed_",
    [
        ("[key-1, key-2]", "key-2", True),
        ("[key-1, key-2]", "key-3", False),
        ("{not_one_of: [key-1]}", "key-2", True),
        ("{not_one_of: [key-1]}", "key-1", False),
        ("{not_equals: key-1}", "key-1", False),
        ("{not_equals: key-1}", "key-9", True),
        ("key-1", "key-1", True),
    ],
)
def test_equality_on_secret_bearing_sources_compares_digests(condition, sent, allowed_):
    assert allowed(condition, source="header.x-api-key", headers={"x-api-key": sent}) is allowed_
