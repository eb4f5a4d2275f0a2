"""Nothing escapes the handler, and nothing API Gateway would reject leaves it: answers over a kind's
limits are refusals on both handler paths (a 500 from API Gateway otherwise), and a policy store that
cannot even be opened (no region, no boto3, no permission) is a logged refusal, tried again later."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authorizer import handler
from authorizer.decide.evaluate import evaluate
from authorizer.decide.generated import FALLBACK
from authorizer.decide.response import _size_bound, iam_response
from authorizer.event.builder import RequestSpec
from authorizer.stores.remote import RemotePolicyStore
from tests.adversarial.conftest import served
from tests.conftest import generated_response

COPIES = "version: 1\nrules:\n  - {name: r, effect: allow, context: {a: {from: header.x-a}, b: {from: header.x-b}}}\n"


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from('"\\\n\x00\u2028😀'))
SCALAR = TEXT | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.booleans()


@settings(max_examples=300, deadline=None)
@given(
    principal=TEXT.filter(bool),
    resources=st.lists(TEXT.filter(bool), min_size=1, max_size=3).map(tuple),
    context=st.dictionaries(TEXT, SCALAR, max_size=4),
    usage_key=st.none() | TEXT,
)
def test_the_size_bound_is_never_below_the_json_lambda_writes(
    principal: str, resources: tuple[str, ...], context: dict[str, Any], usage_key: str | None
) -> None:
    """`check_size` serialises an answer only when its bound may exceed the limit: a bound below the
    real size would let an oversized answer through, and API Gateway answer 500."""
    response = iam_response(principal, "allow", resources, context, usage_key)
    written = len(json.dumps(response, separators=(",", ":")).encode())
    assert _size_bound(response) >= written
    assert _size_bound({**response, "context": {"nested": {"a": 1}}}) >= 1 << 30  # measured, not bounded


@pytest.mark.parametrize("size", [3_000, 4_500])
def test_websocket_results_over_8_kb_are_refused_on_both_paths(size: int) -> None:
    policy = served(COPIES)
    event = RequestSpec(headers={"x-a": "a" * size, "x-b": "b" * size}).to_event("websocket")
    engine = evaluate(event, policy)
    if size * 2 < 8 * 1024 - 400:  # well under the limit: allowed, and the generated code agrees
        assert engine.response is not None and generated_response(event, policy) == engine.response
        return
    assert engine.response is None and engine.decision.anomaly == "response rejected"
    assert "WebSocket APIs accept 8192" in engine.decision.reason
    assert generated_response(event, policy) is FALLBACK  # the generated code hands it to the engine, which refuses


def test_the_same_answer_is_fine_where_no_limit_is_documented() -> None:
    policy = served(COPIES)
    for kind in ("rest", "http-v1", "http-v2"):
        event = RequestSpec(headers={"x-a": "a" * 6_000, "x-b": "b" * 6_000}).to_event(kind)
        response = evaluate(event, policy).response
        assert response is not None and len(json.dumps(response)) > 8 * 1024
        assert generated_response(event, policy) == response


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")


def test_a_store_without_a_region_refuses_and_says_why(no_region: None) -> None:
    store = RemotePolicyStore("ssm:/authorizer/policy", refresh_seconds=60)  # an SSM client needs a region
    assert store.current() is None
    assert store.last_error is not None and "cannot open the policy store: NoRegionError" in store.last_error


def _refused(event: Any) -> bool:
    with pytest.raises(Exception) as info:
        handler.lambda_handler(event, None)
    return type(info.value) is Exception and info.value.args == ("Unauthorized",)


def test_the_handler_refuses_when_the_store_cannot_be_opened(no_region: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHORIZER_POLICY", "ssm:/authorizer/policy")
    monkeypatch.setenv("AUTHORIZER_METRICS", "false")
    handler.reset()
    try:
        assert _refused(RequestSpec().to_event("rest"))
    finally:
        handler.reset()


def test_a_store_that_raises_while_opening_is_tried_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Whatever opening the store raises (boto3 missing, say): refusals, then a new try after a while."""
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nrules:\n  - {name: open, effect: allow}\n")
    monkeypatch.setenv("AUTHORIZER_POLICY", str(path))
    monkeypatch.setenv("AUTHORIZER_METRICS", "false")
    real_open = handler.open_store
    calls: list[str] = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        calls.append("open")
        raise ImportError("No module named 'boto3'")

    monkeypatch.setattr(handler, "open_store", broken)
    clock = [1_000.0]
    monkeypatch.setattr(handler.time, "time", lambda: clock[0])
    handler.reset()
    try:
        event = RequestSpec().to_event("rest")
        assert _refused(event) and _refused(event) and calls == ["open"]
        monkeypatch.setattr(handler, "open_store", real_open)
        clock[0] += handler.STORE_RETRY_SECONDS
        assert handler.lambda_handler(event, None)["principalId"] == "open"
    finally:
        handler.reset()
