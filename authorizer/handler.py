"""The Lambda entrypoint: `authorizer.handler.lambda_handler`, and nothing else.

A cold start reads the settings and opens the policy store (boot). Each request is answered by the
policy's generated function when no decision record is wanted (decision logs below INFO, metrics
off), and otherwise (or when the generated function cannot answer exactly) by `decide.evaluate`,
the engine, with one structured log line without secret values and the metric. Whatever goes
wrong ends as a logged refusal: `Exception("Unauthorized")` (API Gateway's 401), or
`{"isAuthorized": false}` for HTTP API simple responses. Never an Allow, never another exception.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from authorizer.decide.decision import Decision, refusal
from authorizer.decide.evaluate import evaluate, respond
from authorizer.decide.generated import FALLBACK
from authorizer.event.request import Request
from authorizer.policy.ir import CompiledPolicy
from authorizer.settings import Settings, SettingsError
from authorizer.stores import open_store
from authorizer.stores.base import PolicyStore

logger = Logger(service="authorizer")
_stdlib_logger: logging.Logger = logger._logger  # level checks without building the record
UNAUTHORIZED = "Unauthorized"  # the exact message API Gateway turns into a 401


@dataclass(slots=True)
class Runtime:
    """What a cold start builds once: settings, the policy store, metrics."""

    settings: Settings | None
    store: PolicyStore | None
    metrics: Any = None
    error: str | None = None
    boot_again_at: float | None = None  # a store that could not be opened is tried again from then on


STORE_RETRY_SECONDS = 5


_runtime: Runtime | None = None


def boot() -> Runtime:
    """Read settings and load the policy; a failure is remembered and every request refused."""
    global _runtime
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        logger.error("settings invalid: refusing every request", extra={"error": str(exc)})
        _runtime = Runtime(None, None, error=f"settings invalid: {exc}")
        return _runtime
    try:
        store = open_store(settings.policy, refresh_seconds=settings.refresh_seconds)
    except Exception as exc:  # e.g. boto3 missing for a remote store: refuse, and try again shortly
        error = f"policy store could not be opened: {type(exc).__name__}"
        logger.error("no policy loaded: refusing every request", extra={"error": error})
        _runtime = Runtime(settings, None, error=error, boot_again_at=time.time() + STORE_RETRY_SECONDS)
        return _runtime
    metrics = None
    if settings.metrics:
        from aws_lambda_powertools import Metrics

        metrics = Metrics(namespace=settings.metrics_namespace, service="authorizer")
    _runtime = Runtime(settings, store, metrics)
    if store.current() is None:
        logger.error("no policy loaded: refusing every request", extra={"error": store.last_error})
    return _runtime


def reset() -> None:
    """Forget the runtime, so the next request boots again from the environment (tests)."""
    global _runtime
    _runtime = None


if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:  # on Lambda, load during the init phase
    boot()


def _log(decision: Decision, request: Request | None, policy: CompiledPolicy | None, started: int) -> None:
    """One line per decision; anomalies (bad events, internal errors) at WARNING."""
    level = logging.WARNING if decision.anomaly is not None else logging.INFO
    if not _stdlib_logger.isEnabledFor(level):
        return
    (logger.warning if level == logging.WARNING else logger.info)(
        "decision",
        extra={
            "effect": decision.effect,
            "rule": decision.rule,
            "principal": decision.shown_principal(),
            "route": request.arn.route if request is not None else None,
            "kind": request.kind.name if request is not None else None,
            "policy": policy.digest if policy is not None else None,
            "reason": decision.reason,
            "duration_us": (time.perf_counter_ns() - started) // 1000,
        },
    )


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    runtime = _runtime or boot()
    if runtime.boot_again_at is not None and time.time() >= runtime.boot_again_at:
        runtime = boot()
    policy = runtime.store.current() if runtime.store is not None else None
    mode = runtime.settings.response if runtime.settings is not None else None
    if policy is not None and runtime.metrics is None and not _stdlib_logger.isEnabledFor(logging.INFO):
        response = respond(event, policy, mode)  # no decision record wanted: the generated function
        if response is not FALLBACK:
            if response is None:
                raise Exception(UNAUTHORIZED)
            return response  # type: ignore[no-any-return]
    started = time.perf_counter_ns()
    decision, request, response = evaluate(event, policy, mode)
    if runtime.error is not None and decision.anomaly == "no policy":
        decision = refusal(runtime.error, anomaly="no policy" if runtime.settings else "settings invalid")
    try:
        _log(decision, request, policy, started)
        if runtime.metrics is not None:
            runtime.metrics.add_metric(name=decision.effect.capitalize(), unit="Count", value=1)
            runtime.metrics.flush_metrics()
    except Exception:  # logging must never turn a decision into a 500
        pass
    if response is None:
        raise Exception(UNAUTHORIZED)
    return response
