"""The Lambda entrypoint: `authorizer.handler.lambda_handler`, and nothing else.

A cold start reads the settings and opens the policy store (boot). Each request is answered by the
policy's generated function, or, when it cannot answer exactly as the engine would (an anomaly, a
refusal to explain), by `decide.evaluate`, the engine. Either way one JSON line holds the decision
record and its metric (decision_log.py), at INFO (anomalies at WARNING).
Whatever goes wrong ends as a logged refusal: `Exception("Unauthorized")` (API Gateway's 401), or
`{"isAuthorized": false}` for HTTP API simple responses. Never an Allow, never another exception.
"""

from __future__ import annotations

import gc
import os

# A cold start on Lambda allocates, in the imports and the boot below, almost only what lives on:
# garbage collections in between (or right after) scan it all for nothing (~4 ms of a ~45 ms cold
# start, BENCHMARKS.md). So the collector is paused until booted (but for one young collection after
# Powertools' import), then what booting made is frozen out of later collections' way (gc.freeze) and
# the collector is on again, if it was on. The one cost: if a remote policy is later replaced, the
# first one's reference cycles are never collected (once).
_ON_LAMBDA = "AWS_LAMBDA_FUNCTION_NAME" in os.environ
_COLLECTING = gc.isenabled()
if _ON_LAMBDA:
    gc.disable()

import logging  # noqa: E402  (below: after the pause)
import sys  # noqa: E402
import time  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from aws_lambda_powertools import Logger  # noqa: E402

if _ON_LAMBDA:  # Powertools' import leaves young reference cycles (~0.2 MiB): freed before ours allocate
    gc.collect(1)

from authorizer.decide.generated import FALLBACK, Answer, respond  # noqa: E402
from authorizer.decision_log import (  # noqa: E402
    DecisionFormatter,
    MetricTemplates,
    answer_effect,
    answer_record,
    decision_record,
    write_metric_alone,
)
from authorizer.event.request import Request  # noqa: E402
from authorizer.policy.ir import CompiledPolicy  # noqa: E402
from authorizer.settings import Settings, SettingsError  # noqa: E402
from authorizer.stores import open_store  # noqa: E402
from authorizer.stores.base import PolicyStore  # noqa: E402

if TYPE_CHECKING:  # the engine: imported by the first request the generated function cannot answer
    from authorizer.decide.decision import Decision

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "authorizer", logger_formatter=DecisionFormatter())
_stdlib_logger: logging.Logger = logger._logger  # level checks without building the record
UNAUTHORIZED = "Unauthorized"  # the exact message API Gateway turns into a 401
STORE_RETRY_SECONDS = 5


class Runtime:
    """What a cold start builds once: settings, the policy store, the metrics' EMF blocks."""

    __slots__ = ("boot_again_at", "error", "metrics", "settings", "store")

    def __init__(
        self,
        settings: Settings | None,
        store: PolicyStore | None,
        metrics: MetricTemplates | None = None,
        error: str | None = None,
        boot_again_at: float | None = None,  # a store that could not be opened is tried again from then on
    ) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.error = error
        self.boot_again_at = boot_again_at


_runtime: Runtime | None = None
_cold = True  # no request answered yet by this process


def boot() -> Runtime:
    """Read settings and load the policy; a failure is remembered and every request refused."""
    global _runtime
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        logger.error("settings invalid: refusing every request", extra={"error": str(exc)})
        _runtime = Runtime(None, None, error=f"settings invalid: {exc}")
        return _runtime
    logger.append_keys(service=settings.service)
    logger.setLevel(settings.log_level)
    try:
        store = open_store(settings.policy, refresh_seconds=settings.refresh_seconds)
    except Exception as exc:  # e.g. boto3 missing for a remote store: refuse, and try again shortly
        error = f"policy store could not be opened: {type(exc).__name__}"
        logger.error("no policy loaded: refusing every request", extra={"error": error})
        _runtime = Runtime(settings, None, error=error, boot_again_at=time.time() + STORE_RETRY_SECONDS)
        return _runtime
    metrics = MetricTemplates(settings.metrics_namespace, settings.service) if settings.metrics else None
    _runtime = Runtime(settings, store, metrics)
    if store.current() is None:
        logger.error("no policy loaded: refusing every request", extra={"error": store.last_error})
    return _runtime


def _write(level: int, line: dict[str, Any]) -> None:
    """The decision line through Powertools' Logger (its handler, level, filters, formatter); the
    call site is known, so the LogRecord is made directly rather than by walking the stack."""
    frame = sys._getframe(1)
    _stdlib_logger.handle(
        _stdlib_logger.makeRecord(
            _stdlib_logger.name,
            level,
            __file__,
            frame.f_lineno,
            "decision",
            (),
            None,
            frame.f_code.co_name,
            {"record": line},
        )
    )


def reset() -> None:
    """Forget the runtime, so the next request boots again from the environment (tests)."""
    global _runtime
    _runtime = None


if _ON_LAMBDA:  # load during the init phase
    try:
        boot()
    finally:
        if _COLLECTING:
            gc.freeze()  # what the cold start made, out of every later collection's way
            gc.enable()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    global _cold
    cold, _cold = _cold, False
    runtime = _runtime or boot()
    if runtime.boot_again_at is not None and time.time() >= runtime.boot_again_at:
        runtime = boot()
    recorded = runtime.metrics is not None or _stdlib_logger.isEnabledFor(logging.INFO)
    started = time.perf_counter_ns() if recorded else 0
    policy = runtime.store.current() if runtime.store is not None else None
    mode = runtime.settings.response if runtime.settings is not None else None
    answer = respond(event, policy, mode) if policy is not None else FALLBACK
    if answer is not FALLBACK:  # the generated function answered
        assert policy is not None
        if recorded:
            _record_answer(runtime, answer, event, policy, started, cold, context)
        response = answer[2]
    else:  # the engine decides, and says why it refuses
        from authorizer.decide.decision import refusal  # the engine: not on the cold path
        from authorizer.decide.evaluate import evaluate

        started = started or time.perf_counter_ns()  # an anomaly is logged even when decisions are not
        decision, request, response = evaluate(event, policy, mode)
        if runtime.error is not None and decision.anomaly == "no policy":
            decision = refusal(runtime.error, anomaly="no policy" if runtime.settings else "settings invalid")
        _record_decision(runtime, decision, request, policy, started, cold, context)
    if response is None:
        raise Exception(UNAUTHORIZED)
    return response


def _record_answer(
    runtime: Runtime, answer: Answer, event: Any, policy: CompiledPolicy, started: int, cold: bool, context: Any
) -> None:
    """The decision line (at INFO) of the generated function's answer, carrying its metric."""
    try:
        if _stdlib_logger.isEnabledFor(logging.INFO):
            line = answer_record(
                answer,
                event,
                policy,
                started,
                cold_start=cold,
                lambda_request_id=getattr(context, "aws_request_id", None),
            )
            if runtime.metrics is not None:
                runtime.metrics.add(line, line["effect"])
            _write(logging.INFO, line)
        elif runtime.metrics is not None:
            write_metric_alone(runtime.metrics.add({}, answer_effect(answer, policy)))
    except Exception:  # logging must never turn a decision into a 500
        pass


def _record_decision(
    runtime: Runtime,
    decision: Decision,
    request: Request | None,
    policy: CompiledPolicy | None,
    started: int,
    cold: bool,
    context: Any,
) -> None:
    """The decision line of an engine decision (anomalies at WARNING), carrying its metric."""
    try:
        level = logging.WARNING if decision.anomaly is not None else logging.INFO
        if _stdlib_logger.isEnabledFor(level):
            line = decision_record(
                decision,
                request,
                policy,
                started,
                cold_start=cold,
                lambda_request_id=getattr(context, "aws_request_id", None),
            )
            if runtime.metrics is not None:
                runtime.metrics.add(line, decision.effect)
            _write(level, line)
        elif runtime.metrics is not None:
            write_metric_alone(runtime.metrics.add({}, decision.effect))
    except Exception:  # logging must never turn a decision into a 500
        pass
