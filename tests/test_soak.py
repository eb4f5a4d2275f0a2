"""Soak and concurrency: many decisions through `lambda_handler` without memory growth, and
threads sharing one runtime decide exactly as one thread does.

The default run makes 3,000 decisions with every Python allocation traced (a leak of 16 bytes per
decision fails it); `make soak` makes 1,000,000 and checks the process's resident memory (tracing
would make it several times slower).
"""

from __future__ import annotations

import copy
import gc
import json
import os
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authorizer import handler
from authorizer.decide.evaluate import evaluate
from authorizer.event.builder import RequestSpec
from authorizer.policy.ir import CompiledPolicy
from tests.test_failclosed import API_KEY, KITCHEN, SAMPLES, nested
from tests.test_reference_strategies import compile_data, events, policies


def _mix() -> list[Any]:
    """Allowed, denied and refused requests, and junk: the same few hundred, cycled."""
    mix: list[Any] = [copy.deepcopy(s) for s in SAMPLES]
    for i in range(100):
        spec = RequestSpec(
            method=["GET", "POST"][i % 2],
            path=f"/request/{i % 7}",
            headers={"HeaderAuth1": "headerValue1" if i % 3 else "x", "x-api-key": API_KEY, "x-block": "y" * (i % 2)},
            query={"QueryString1": "queryValue1", "room": "lobby", "parameter1": ["value1", "value2"]},
            stage_variables={"StageVar1": "stageValue1"},
            token="allow" if i % 4 else f"deny-{i}",
            request_id=f"req-{i}",
            now=0,
        )
        mix.append(spec.to_event(["token", "rest", "websocket", "http-v1", "http-v2"][i % 5]))
    mix += [None, [], "x", {"type": "TOKEN"}, {"type": "REQUEST", "methodArn": nested(2_000)}]
    return mix


MIX = _mix()
NOWHERE = open(os.devnull, "w")  # noqa: SIM115 - for the life of the test process


@pytest.fixture
def quiet_handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The handler on the kitchen-sink policy, metrics on, with logs and EMF lines sent nowhere:
    captured output would itself grow with every decision (see `quiet`)."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(KITCHEN)
    for key, value in {
        "AUTHORIZER_POLICY": str(policy),
        "AUTHORIZER_METRICS": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "FAILCLOSED_API_KEY": API_KEY,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler.logger.registered_handler, "stream", NOWHERE)
    handler.reset()
    yield
    handler.reset()


@contextmanager
def quiet() -> Iterator[None]:
    """Inside a test body (pytest re-installs its capture between phases): EMF lines to /dev/null,
    and log records to the handler's own JSON handler only, not to pytest's capture, which keeps them."""
    logger = handler._stdlib_logger
    saved = logger.handlers, logger.propagate
    logger.handlers, logger.propagate = [handler.logger.registered_handler], False
    try:
        with redirect_stdout(NOWHERE):
            yield
    finally:
        logger.handlers, logger.propagate = saved


def outcome(item: Any) -> str:
    """The handler's answer as comparable text: the response, or the refusal."""
    try:
        return json.dumps(handler.lambda_handler(item, None), sort_keys=True)
    except Exception as exc:
        assert type(exc) is Exception and exc.args == ("Unauthorized",)
        return "Unauthorized"


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def soak(decisions: int, *, traced: bool) -> tuple[int, int, dict[str, int]]:
    """(traced growth, resident growth, outcome counts) over `decisions` after a warm-up."""
    with quiet():
        return _soak(decisions, traced)


def _soak(decisions: int, traced: bool) -> tuple[int, int, dict[str, int]]:
    counts: dict[str, int] = {}
    expected = [outcome(item) for item in MIX]  # warm-up: caches and lazy imports filled
    for _ in range(3):
        for item in MIX:
            outcome(item)
    gc.collect()
    if traced:
        tracemalloc.start()
    traced_before, resident_before = tracemalloc.get_traced_memory()[0], resident_bytes()
    for i in range(decisions):
        index = i % len(MIX)
        got = outcome(MIX[index])
        assert got == expected[index], f"decision {i} changed: {got} != {expected[index]}"
        kind = got if got == "Unauthorized" else "Deny" if '"Deny"' in got else "Allow"
        counts[kind] = counts.get(kind, 0) + 1
    gc.collect()
    traced_growth = tracemalloc.get_traced_memory()[0] - traced_before
    if traced:
        tracemalloc.stop()
    return traced_growth, resident_bytes() - resident_before, counts


def test_3k_decisions_without_memory_growth(quiet_handler: None) -> None:
    traced, _resident, counts = soak(3_000, traced=True)
    assert set(counts) == {"Allow", "Deny", "Unauthorized"}, counts
    assert traced < 48_000, f"{traced} bytes of Python objects kept by 3,000 decisions"


@pytest.mark.slow
def test_1m_decisions_without_memory_growth(quiet_handler: None) -> None:
    _traced, resident, counts = soak(1_000_000, traced=False)
    print(f"1,000,000 decisions: {counts}; resident memory growth {resident} bytes")
    assert set(counts) == {"Allow", "Deny", "Unauthorized"}, counts
    assert resident < 16_000_000, f"resident memory grew by {resident} bytes over 1,000,000 decisions"


# -- threads -------------------------------------------------------------------------------------------
def test_threads_sharing_the_handler_decide_as_one_thread_does(quiet_handler: None) -> None:
    sequential = [outcome(item) for item in MIX]
    with quiet(), ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(outcome, MIX)) == sequential


def test_threads_racing_the_cold_start_all_decide(quiet_handler: None) -> None:
    handler.reset()
    with quiet(), ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(outcome, MIX * 2))
    assert answers == [outcome(item) for item in MIX * 2]


def _answer(policy: CompiledPolicy, item: Any) -> tuple[Any, ...]:
    decision, _request, response = evaluate(item, policy)
    return (decision.effect, decision.rule, decision.principal, json.dumps(response, sort_keys=True, default=str))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(policy=policies(), batch=st.lists(events(), min_size=20, max_size=40))
def test_random_policies_decide_the_same_under_threads(policy: dict[str, Any], batch: list[Any]) -> None:
    compiled = compile_data(policy)[0]
    sequential = [_answer(compiled, item) for item in batch]
    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(lambda item: _answer(compiled, item), batch * 3)) == sequential * 3
