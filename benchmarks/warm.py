"""Warm decisions through `authorizer.handler.lambda_handler`, against the baselines, interleaved.

Decision logs off (POWERTOOLS_LOG_LEVEL=WARNING) and metrics off for the main figures; the cost
of a decision log line is then compared with Powertools' own `Logger.info` of the same record,
and the cost of metrics (one EMF line per call) is reported on its own.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from pathlib import Path
from typing import Any

from authorizer import handler
from benchmarks import hand_written_powertools as powertools
from benchmarks.baselines import HAND_WRITTEN, Naive, example_same_guarantees
from benchmarks.events import POLICIES, SHIPPED, realistic_events, shipped_events
from benchmarks.timing import Handler, interleaved, ratio

EXAMPLE_TARGET, DEFAULT_PATH_TARGET = (
    1.2,
    0.6,
)  # ÷ the example by hand with the same guarantees; ÷ by hand with Powertools


class _Sink(io.TextIOBase):
    """Where log lines go while being timed: written, then dropped."""

    def write(self, text: str) -> int:
        return len(text)


def _boot(path: Path, *, metrics: bool, level: int) -> None:
    use_policy(path, metrics=metrics)
    handler.logger.setLevel(level)


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


def _written(function: Handler, events: list[Any]) -> str:
    """Everything `function` writes (log lines and metrics) while answering `events`."""
    text = io.StringIO()
    streams = [handler.logger.registered_handler, powertools.logger.registered_handler]
    previous = [stream.setStream(text) for stream in streams if isinstance(stream, logging.StreamHandler)]
    try:
        with contextlib.redirect_stdout(text):
            for event in events:
                outcome(function, event)
    finally:
        for stream, old in zip(streams, previous, strict=True):
            stream.setStream(old)  # type: ignore[attr-defined]
    return text.getvalue()


def default_path(rounds: int) -> dict[str, Any]:
    """The default configuration (decision line at INFO, metrics on) against the example written by
    hand as a Powertools user would (`hand_written_powertools`: same guarantees, `Logger.info` of the
    same record, a Powertools EMF metric flushed per request); both write to a sink. Also the
    decision alone (INFO off, metrics off), to show what the line and metric cost."""
    events = realistic_events("example")
    path = POLICIES / "example.yaml"
    use_policy(path, metrics=True)
    ours = handler.logger.registered_handler
    theirs = powertools.logger.registered_handler
    assert isinstance(ours, logging.StreamHandler) and isinstance(theirs, logging.StreamHandler)
    powertools.logger.setLevel(logging.INFO)  # both write their decision line
    previous = ours.setStream(_Sink()), theirs.setStream(_Sink())
    handler.logger.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(_Sink()):
            check_agreement(
                {"authorizer": handler.lambda_handler, "powertools": powertools.lambda_handler}, events, "example"
            )
        written = {
            name: _written(function, events)
            for name, function in (("authorizer", handler.lambda_handler), ("powertools", powertools.lambda_handler))
        }
        ours.setStream(_Sink())
        theirs.setStream(_Sink())
        with contextlib.redirect_stdout(_Sink()):
            samples = interleaved(
                {
                    "authorizer": handler.lambda_handler,
                    "hand-written Powertools": powertools.lambda_handler,
                    "authorizer, lines and metrics off": handler.lambda_handler,
                },
                events,
                rounds=rounds,
                prepare={
                    "authorizer": lambda: _boot(path, metrics=True, level=logging.INFO),
                    "authorizer, lines and metrics off": lambda: _boot(path, metrics=False, level=logging.WARNING),
                },
            )
    finally:
        ours.setStream(previous[0])
        theirs.setStream(previous[1])
        use_policy(path)
    return {
        "authorizer_us": samples["authorizer"].median,
        "powertools_us": samples["hand-written Powertools"].median,
        "silent_us": samples["authorizer, lines and metrics off"].median,
        "ratio": ratio(samples, "authorizer", "hand-written Powertools"),
        "bytes_per_decision": {name: len(text) / len(events) for name, text in written.items()},
        "lines_per_decision": {name: text.count("\n") / len(events) for name, text in written.items()},
        "target": DEFAULT_PATH_TARGET,
    }


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
