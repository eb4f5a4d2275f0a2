"""Warm decisions through `authorizer.handler.lambda_handler`, against the baselines, interleaved.

Decision logs off (POWERTOOLS_LOG_LEVEL=WARNING) and metrics off for the main figures; the cost
of a decision log line is then compared with Powertools' own `Logger.info` of the same record,
and the cost of metrics (one EMF line per call) is reported on its own.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from authorizer import handler
from authorizer.decide.evaluate import evaluate
from benchmarks.baselines import HAND_WRITTEN, Naive, example_same_guarantees
from benchmarks.events import POLICIES, SHIPPED, realistic_events, shipped_events
from benchmarks.timing import Handler, interleaved, ratio

EXAMPLE_TARGET, EXAMPLE_GOAL, LOG_TARGET = 3.0, 2.0, 0.20


class _Sink(io.TextIOBase):
    """Where log lines go while being timed: written, then dropped."""

    def write(self, text: str) -> int:
        return len(text)


def _boot(path: Path, *, metrics: bool) -> None:
    use_policy(path, metrics=metrics)


def use_policy(path: Path, *, metrics: bool = False) -> Handler:
    """The Lambda handler, booted on `path` as a cold start would (settings from the environment)."""
    os.environ["AUTHORIZER_POLICY"] = str(path)
    os.environ["AUTHORIZER_METRICS"] = "true" if metrics else "false"
    handler.reset()
    runtime = handler.boot()
    if runtime.store is None or runtime.store.current() is None:
        raise SystemExit(
            f"benchmark policy {path} did not load: {runtime.error or (runtime.store and runtime.store.last_error)}"
        )
    return handler.lambda_handler


def outcome(function: Handler, event: Any) -> Any:
    try:
        return function(event, None)
    except Exception as exc:
        return f"raised {exc}"


def check_agreement(contenders: dict[str, Handler], events: list[Any], policy: str) -> None:
    """Every contender answers every event the same way, or the comparison means nothing."""
    for index, event in enumerate(events):
        answers = {name: outcome(function, event) for name, function in contenders.items()}
        if len({repr(a) for a in answers.values()}) != 1:
            raise SystemExit(f"{policy}: contenders disagree on event {index}: {answers}")


def policies(rounds: int) -> list[dict[str, Any]]:
    """Each shipped policy over its sample events: authorizer vs hand-written vs naive."""
    rows = []
    for policy in SHIPPED:
        path = POLICIES / f"{policy}.yaml"
        for label, events in (("realistic headers", realistic_events(policy)), ("as shipped", shipped_events(policy))):
            contenders: dict[str, Handler] = {
                "authorizer": use_policy(path),
                "hand-written": HAND_WRITTEN[policy],
                "naive": Naive(path),
            }
            if policy == "example":
                contenders["same guarantees"] = example_same_guarantees
            check_agreement(contenders, events, policy)
            samples = interleaved(contenders, events, rounds=rounds)
            refused = sum(str(outcome(contenders["authorizer"], e)).startswith("raised") for e in events)
            rows.append(
                {
                    "policy": policy,
                    "events": label,
                    "count": len(events),
                    "raising": refused,
                    "authorizer_us": samples["authorizer"].median,
                    "hand_written_us": samples["hand-written"].median,
                    "naive_us": samples["naive"].median,
                    "ratio_vs_hand_written": ratio(samples, "authorizer", "hand-written"),
                    "ratio_naive_vs_hand_written": ratio(samples, "naive", "hand-written"),
                    "same_guarantees_us": samples["same guarantees"].median if "same guarantees" in samples else None,
                    "ratio_vs_same_guarantees": (
                        ratio(samples, "authorizer", "same guarantees") if "same guarantees" in samples else None
                    ),
                }
            )
    return rows


def decision_logs(rounds: int) -> dict[str, Any]:
    """The decision log line against Powertools' own `Logger.info` of the very same record.

    `handler._log` (all a decision adds when INFO is on: the record built, then `Logger.info`) is
    timed against `Logger.info` called directly, on the same Logger, with the record `_log` built;
    and, end to end, a decision with its log line against one without.
    """
    events = realistic_events("example")
    decide = use_policy(POLICIES / "example.yaml")
    runtime = handler._runtime
    policy = runtime.store.current() if runtime is not None and runtime.store is not None else None
    assert policy is not None
    stream = handler.logger.registered_handler
    assert isinstance(stream, logging.StreamHandler)
    lines = io.StringIO()
    previous = stream.setStream(lines)
    try:
        handler.logger.setLevel(logging.INFO)
        decided = {id(e): evaluate(e, policy)[:2] for e in events}
        for event in events:
            handler._log(*decided[id(event)], policy, time.perf_counter_ns())
        standard = {"level", "location", "message", "timestamp", "service"}
        records = [
            {k: v for k, v in json.loads(line).items() if k not in standard} for line in lines.getvalue().splitlines()
        ]
        record_of = {id(event): record for event, record in zip(events, records, strict=True)}
        stream.setStream(_Sink())

        def log_line(event: Any, context: Any) -> None:
            handler._log(*decided[id(event)], policy, time.perf_counter_ns())

        def logger_info(event: Any, context: Any) -> None:
            handler.logger.info("decision", extra=record_of[id(event)])

        samples = interleaved(
            {"_log": log_line, "Logger.info": logger_info, "logged": decide, "silent": decide},
            events,
            rounds=rounds,
            prepare={
                "_log": lambda: handler.logger.setLevel(logging.INFO),
                "Logger.info": lambda: handler.logger.setLevel(logging.INFO),
                "logged": lambda: handler.logger.setLevel(logging.INFO),
                "silent": lambda: handler.logger.setLevel(logging.WARNING),
            },
        )
    finally:
        handler.logger.setLevel(logging.WARNING)
        stream.setStream(previous)
    ours, info = samples["_log"].median, samples["Logger.info"].median
    return {
        "log_line_us": ours,
        "powertools_info_us": info,
        "overhead_vs_powertools": ratio(samples, "_log", "Logger.info") - 1,
        "decision_logged_us": samples["logged"].median,
        "decision_silent_us": samples["silent"].median,
        "target": LOG_TARGET,
    }


def metrics_cost(rounds: int) -> dict[str, Any]:
    """What AUTHORIZER_METRICS=true adds per decision: Powertools Metrics, one EMF line per call."""
    events = realistic_events("example")
    path = POLICIES / "example.yaml"
    with contextlib.redirect_stdout(_Sink()):
        samples = interleaved(
            {"metrics on": handler.lambda_handler, "metrics off": handler.lambda_handler},
            events,
            rounds=rounds,
            prepare={
                "metrics on": lambda: _boot(path, metrics=True),
                "metrics off": lambda: _boot(path, metrics=False),
            },
        )
    use_policy(path)
    on, off = samples["metrics on"].median, samples["metrics off"].median
    return {"metrics_on_us": on, "metrics_off_us": off, "metrics_cost_us": on - off}


def breakdown(rounds: int) -> list[dict[str, Any]]:
    """Where the example's time goes: the guarantees the floor leaves out, added one at a time, each
    stage the library's own code (kind and ARN, the folded two-map header lookup, the constant-time
    digest comparison, the other three lookups), then the whole handler; interleaved like the rest."""
    from authorizer.event.readers import classify
    from authorizer.policy.ir import Check
    from authorizer.policy.sources import lookup

    events = realistic_events("example")
    decide = use_policy(POLICIES / "example.yaml")
    policy = handler._runtime.store.current() if handler._runtime and handler._runtime.store else None
    assert policy is not None
    header, *others = (lookup(s).read for s in ("header.HeaderAuth1", "query.QueryString1", "stage.StageVar1"))
    others.append(lookup("context.accountId").read)
    credential = next(
        c for c in policy.rules[0].conditions if isinstance(c, Check) and c.source == "header.HeaderAuth1"
    )

    def kind_and_arn(event: Any, context: Any) -> Any:
        return classify(event)

    def plus_header(event: Any, context: Any) -> Any:
        kind, _, arn = classify(event)
        return header(event, kind, arn)

    def plus_digest(event: Any, context: Any) -> Any:
        kind, _, arn = classify(event)
        values = header(event, kind, arn)
        return values and credential.test(values[0])

    def plus_lookups(event: Any, context: Any) -> Any:
        kind, _, arn = classify(event)
        values = header(event, kind, arn)
        return values and credential.test(values[0]), [read(event, kind, arn) for read in others]

    stages: dict[str, Handler] = {
        "hand-written (the floor)": HAND_WRITTEN["example"],
        "event kind + ARN": kind_and_arn,
        "+ header, any case, both maps": plus_header,
        "+ constant-time digest compare": plus_digest,
        "+ the other three lookups": plus_lookups,
        "authorizer (lambda_handler)": decide,
    }
    samples = interleaved(stages, events, rounds=rounds)
    floor = samples["hand-written (the floor)"].median
    return [
        {"stage": name, "us": sample.median, "ratio_vs_hand_written": sample.median / floor}
        for name, sample in samples.items()
    ]
