"""The Lambda entrypoint: `authorizer.handler.lambda_handler`.

event → Request → engine → Decision → response; when no decision record is wanted (decision logs
below INFO, metrics off), the policy's generated function (policy/codegen.py) answers instead,
handing back to the engine whenever it cannot answer exactly as the engine would. Whatever goes
wrong (a bad event, no good policy, an unexpected exception) ends as a logged refusal:
`Exception("Unauthorized")` (API Gateway's 401), or `{"isAuthorized": false}` for HTTP API simple
responses. Never an Allow, never another exception.
One structured log line per decision, without secret values.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from authorizer.decision import Decision, refusal
from authorizer.engine import decide, explain
from authorizer.policy.codegen import FALLBACK
from authorizer.policy.store import PolicyStore, open_store
from authorizer.request import BadEvent, Request, classify
from authorizer.response import InvalidResponse, ResponseMode, render, uses_simple
from authorizer.settings import Settings, SettingsError

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

    def response_mode(self, policy_mode: ResponseMode) -> ResponseMode:
        if self.settings is not None and self.settings.response is not None:
            return self.settings.response
        return policy_mode


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
    store = open_store(settings.policy, refresh_seconds=settings.refresh_seconds)
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


def evaluate(
    event: Any, runtime: Runtime, *, explained: bool = False
) -> tuple[Decision, Request | None, dict[str, Any] | None]:
    """The decision and the response for one event (with a trace if `explained`); never raises."""
    request: Request | None = None
    simple = False  # known only once the event and the policy are: until then a refusal is a 401
    try:
        request = Request(event)
        policy = runtime.store.current() if runtime.store is not None else None
        if policy is None:
            decision = refusal(runtime.error or "no policy loaded")
        else:
            mode = runtime.response_mode(policy.response)
            simple = uses_simple(mode, request.kind)
            decision = explain(policy, request) if explained else decide(policy, request)
            try:
                return decision, request, render(decision, request, mode)
            except InvalidResponse as exc:
                decision = refusal(f"response rejected: {exc}")
    except BadEvent as exc:
        decision = refusal(f"bad event: {exc}")
    except Exception as exc:  # fail closed on anything unexpected, without echoing values
        decision = refusal(f"internal error: {type(exc).__name__}")
    return decision, request, {"isAuthorized": False} if simple else None


_ANOMALIES = ("bad event", "internal error", "response rejected", "settings invalid", "no policy")


def _log(decision: Decision, request: Request | None, runtime: Runtime, started: int) -> None:
    """One line per decision; anomalies (bad events, internal errors) at WARNING."""
    level = logging.WARNING if decision.reason.startswith(_ANOMALIES) else logging.INFO
    if not _stdlib_logger.isEnabledFor(level):
        return
    policy = runtime.store.current() if runtime.store is not None else None
    (logger.warning if level == logging.WARNING else logger.info)(
        "decision",
        extra={
            "effect": decision.effect,
            "rule": decision.rule,
            "principal": "<redacted>" if decision.principal_sensitive else decision.principal,
            "route": request.arn.route if request is not None else None,
            "kind": request.kind if request is not None else None,
            "policy": policy.digest if policy is not None else None,
            "reason": decision.reason,
            "duration_us": (time.perf_counter_ns() - started) // 1000,
        },
    )


def answer_fast(event: Any, runtime: Runtime) -> Any:
    """The policy's generated decision function's answer (a response, or None for a 401), or FALLBACK
    when it cannot answer exactly as the engine would; never raises."""
    try:
        policy = runtime.store.current() if runtime.store is not None else None
        if policy is None or policy.fast is None:
            return FALLBACK
        kind, text, arn = classify(event)
        simple = kind == "http-v2" and runtime.response_mode(policy.response) == "simple"
        return policy.fast(event, kind, text, arn, simple)
    except Exception:  # a bad event, an odd value: the engine decides, refuses and says why
        return FALLBACK


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    runtime = _runtime or boot()
    if runtime.metrics is None and not _stdlib_logger.isEnabledFor(logging.INFO):  # no decision record wanted
        response = answer_fast(event, runtime)
        if response is not FALLBACK:
            if response is None:
                raise Exception(UNAUTHORIZED)
            return response  # type: ignore[no-any-return]
    started = time.perf_counter_ns()
    decision, request, response = evaluate(event, runtime)
    try:
        _log(decision, request, runtime, started)
        if runtime.metrics is not None:
            runtime.metrics.add_metric(name=decision.effect.capitalize(), unit="Count", value=1)
            runtime.metrics.flush_metrics()
    except Exception:  # logging must never turn a decision into a 500
        pass
    if response is None:
        raise Exception(UNAUTHORIZED)
    return response
