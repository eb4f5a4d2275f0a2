"""Fail closed under anything: arbitrary events through `lambda_handler` give exactly what the
reference interpreter says (an Allow only when the policy's conditions truly hold), otherwise a
Deny or exactly `Exception("Unauthorized")`; nothing else ever escapes.

Events are the real AWS samples with subtrees replaced by junk, wrong types, nulls, huge and
deeply nested values, plus non-dict events. The policies read exactly the fields the samples carry,
so that untouched samples are allowed and one flipped value is enough to refuse.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from authorizer import handler
from authorizer.decide import evaluate as evaluate_module
from authorizer.decide import generated as generated_module
from authorizer.policy.load import load
from tests.conftest import POLICIES, all_fixture_paths, load_fixture
from tests.reference import Interpreter

API_KEY = "k-123"  # the websocket sample's X-Api-Key: the `api_key` secret, from the environment
KITCHEN = """\
version: 1
on_no_match: deny
resource: stage
secrets:
  api_key: {env: FAILCLOSED_API_KEY}
rules:
  - name: blocked
    effect: deny
    when:
      header.x-block: {exists: true}
  - name: token-allow
    effect: allow
    when:
      token: allow
      kind: token
  - name: docs-rest
    effect: allow
    when:
      header.HeaderAuth1: headerValue1
      query.QueryString1: {prefix: query}
      stage.StageVar1: {regex: "stage.*"}
      context.accountId: {one_of: ["123456789012", "111122223333"]}
    principal: {from: header.headerauth1}
    context:
      account: {from: context.accountId}
  - name: websocket
    effect: allow
    routes: ["$connect"]
    when:
      header.x-api-key: {secret: api_key}
      query.room: {glob: "lob*"}
      source_ip: {cidr: [198.51.100.0/24, "2001:db8::/32"]}
      not:
        query.token: revoked
  - name: http-v2
    effect: allow
    routes: ["GET /request", "ANY /my/{path+}"]
    resource: routes
    when:
      header.header1: value1
      query.parameter1: {values: any, equals: value2}
      query.parameter2: {one_of: [value, other]}
      any:
        - stage.stageVariable1: value1
        - path.parameter1: {suffix: "1"}
    context:
      who: {from: header.header2}
  - name: client-cert
    effect: allow
    when:
      jmespath: "context.identity.clientCert.serialNumber == '1'"
      context.identity.clientCert.validity.notAfter: {contains: "2120"}
  - name: numbers
    effect: allow
    when:
      context.requestTimeEpoch: {gt: 1500000000000}
      context.identity.sourceIp: {not: {cidr: 10.0.0.0/8}}
"""
POLICY_TEXTS = {
    "example": (POLICIES / "example.yaml").read_text(),
    "kitchen-iam": KITCHEN,
    "kitchen-simple": KITCHEN.replace("on_no_match: deny\n", "response: simple\n"),
}
SAMPLES = [load_fixture(str(p.relative_to(p.parents[1]))) for p in all_fixture_paths()]
AUTHORIZER_SAMPLES = [s for s in SAMPLES if s.get("type") in ("TOKEN", "REQUEST")]


@pytest.fixture(params=sorted(POLICY_TEXTS))
def booted(request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Interpreter]:
    """The handler booted on one policy (file + environment), and the reference for it."""
    text = POLICY_TEXTS[request.param]
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    monkeypatch.setenv("AUTHORIZER_POLICY", str(path))
    monkeypatch.setenv("AUTHORIZER_METRICS", "false")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
    monkeypatch.setenv("FAILCLOSED_API_KEY", API_KEY)
    handler.reset()
    validated = load("policy.yaml", text.encode()).data
    yield Interpreter(validated, {"api_key": API_KEY})
    handler.reset()


def call(item: Any) -> dict[str, Any] | None:
    """The handler's answer; None when it raised, which must be exactly Exception("Unauthorized")."""
    try:
        return handler.lambda_handler(item, None)
    except BaseException as exc:  # anything else escaping is the failure this file looks for
        assert type(exc) is Exception and exc.args == ("Unauthorized",), repr(exc)[:300]
        return None


def effect_of(response: dict[str, Any] | None) -> str:
    if response is None:
        return "unauthorized"
    if "isAuthorized" in response:
        return "allow" if response["isAuthorized"] is True else "refused"
    return str(response["policyDocument"]["Statement"][0]["Effect"]).lower()


# -- junk ------------------------------------------------------------------------------------------
def nested(depth: int, leaf: Any = "x") -> Any:
    """Lists and dicts `depth` levels deep, built without recursion."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


NAMES = ["x-block", "HeaderAuth1", "headerauth1", "X-Api-Key", "header1", "parameter1", "room", "token", "k"]
STRINGS = [
    "",
    "Unauthorized",
    "allow",
    "headerValue1",
    "value1",
    "value1,value2",
    API_KEY,
    "$connect",
    "TOKEN",
    "REQUEST",
    "2.0",
    "1.0",
    "CONNECT",
    "\x00",
    "\ud800",
    "é",
    "10.0.0.1",
    "arn:aws:execute-api:us-east-1:1:a/s/GET/x",
]
SCALAR_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(STRINGS),
)
KEY = st.one_of(st.sampled_from(NAMES), st.text(max_size=8))
SMALL_JUNK = st.recursive(
    SCALAR_JUNK, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(KEY, kids, max_size=4), max_leaves=12
)
BIG_JUNK = st.one_of(
    st.integers(1_000, 200_000).map(lambda n: "a" * n),  # huge string
    st.integers(50, 3_000).map(nested),  # deeper than the recursion limit
    st.integers(100, 20_000).map(lambda n: {f"h{i}": "v" for i in range(n)}),  # wide map
    st.integers(100, 50_000).map(lambda n: [API_KEY] * n),  # long list
)
JUNK = st.one_of(SMALL_JUNK, SMALL_JUNK, BIG_JUNK)


def locations(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a (small, sample) JSON value that junk can go."""
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from locations(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from locations(item, (*at, index))


@st.composite
def junk_events(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 19)) == 0:
        return draw(JUNK)  # not a dict at all
    item = copy.deepcopy(draw(st.sampled_from(AUTHORIZER_SAMPLES) | st.sampled_from(SAMPLES)))
    places = list(locations(item))[1:]  # of the sample: junk put in by one step is not walked by the next
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(places))
        parent = item
        try:
            for step in where[:-1]:
                parent = parent[step]
            target = parent[where[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier step replaced or removed this place
        if not isinstance(parent, dict | list):
            continue  # ... or replaced its container by a string
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[where[-1]] = draw(JUNK)
        elif action == "delete" and isinstance(parent, dict):
            del parent[where[-1]]
        elif action == "add" and isinstance(target, dict):
            target[draw(KEY)] = draw(JUNK)
    return item


def check(reference: Interpreter, item: Any) -> str:
    """The handler answers exactly as the reference says; returns the effect."""
    got = call(item)
    want = reference.response(item)
    assert effect_of(got) == effect_of(want), (got, want)
    assert got == want
    if got is not None:
        json.dumps(got)  # what the Lambda runtime does with it: must not fail (a 500)
    return effect_of(got)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(item=junk_events())
def test_handler_fails_closed_on_junk_events(booted: Interpreter, item: Any) -> None:
    event(f"outcome: {check(booted, item)}")


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(item=junk_events())
def test_handler_fails_closed_on_junk_events_long(booted: Interpreter, item: Any) -> None:
    event(f"outcome: {check(booted, item)}")


def test_untouched_samples_are_decided_as_the_reference_says(booted: Interpreter) -> None:
    outcomes = {check(booted, copy.deepcopy(sample)) for sample in SAMPLES}
    assert "allow" in outcomes, "the policies must let some samples in, or refusals prove nothing"


@pytest.mark.parametrize(
    "item",
    [None, [], (), "", "Unauthorized", 0, 1.5, float("nan"), True, b"{}", set(), object(), [SAMPLES[0]]],
    ids=repr,
)
def test_non_dict_events_are_refused(booted: Interpreter, item: Any) -> None:
    assert call(item) is None


# -- an error anywhere after boot is a refusal, never an escape -----------------------------------
OPEN = "version: 1\nrules:\n  - {name: open, effect: allow}\n"
REST_EVENT = load_fixture("aws-lambda-go/apigw-custom-auth-request-type-request.json")


@pytest.fixture
def open_policy(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    path = tmp_path / "open.yaml"
    path.write_text(OPEN)
    monkeypatch.setenv("AUTHORIZER_POLICY", str(path))
    monkeypatch.setenv("AUTHORIZER_METRICS", "false")
    handler.reset()
    assert effect_of(call(REST_EVENT)) == "allow"  # the policy lets this event in when nothing breaks
    yield
    handler.reset()


@pytest.mark.parametrize("error", [RecursionError, MemoryError, KeyError, TypeError, OverflowError, UnicodeError])
@pytest.mark.parametrize("stage", ["Request", "decide", "render"])
def test_internal_errors_refuse(open_policy: None, monkeypatch: pytest.MonkeyPatch, stage: str, error: type) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise error("boom")

    monkeypatch.setattr(generated_module, "classify", broken)  # the generated path gives up: FALLBACK
    monkeypatch.setattr(evaluate_module, stage, broken)  # and the engine breaks
    assert call(copy.deepcopy(REST_EVENT)) is None


def test_logging_and_metrics_failures_do_not_change_the_decision(
    open_policy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("log sink down")

    monkeypatch.setattr(handler, "answer_record", broken)  # the decision line cannot be built
    monkeypatch.setattr(handler, "decision_record", broken)
    assert effect_of(call(copy.deepcopy(REST_EVENT))) == "allow"
    assert call({"type": "TOKEN"}) is None
    monkeypatch.undo()
    monkeypatch.setattr(handler._stdlib_logger, "handle", broken)  # or cannot be written
    assert effect_of(call(copy.deepcopy(REST_EVENT))) == "allow"
    assert call({"type": "TOKEN"}) is None


def test_failing_policy_load_refuses_instead_of_failing_the_cold_start(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loader bug (any exception, not only PolicyError) leaves no policy: every request refused."""
    from authorizer.stores import file as store

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("loader bug")

    path = tmp_path / "open.yaml"
    path.write_text(OPEN)
    monkeypatch.setattr(store, "load_file", broken)
    monkeypatch.setenv("AUTHORIZER_POLICY", str(path))
    monkeypatch.setenv("AUTHORIZER_METRICS", "false")
    handler.reset()
    try:
        assert call(copy.deepcopy(REST_EVENT)) is None
    finally:
        handler.reset()
