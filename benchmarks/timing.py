"""Interleaved timing on a noisy shared machine: every contender runs once per round, in a shuffled
order, so a burst of load from elsewhere hits all of them; figures are medians over rounds, and a
ratio is the median of the per-round ratios (both sides measured within the same second).

Time is the thread's CPU time (`time.thread_time_ns`), not the wall clock: time spent waiting for a
core that another engineer's tests hold is not the code's cost. On an idle machine the two agree.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Sample:
    """Per-call times (µs) of one contender, one figure per round."""

    rounds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.rounds)


def batch(handler: Handler, events: Sequence[Any], repeat: int) -> float:
    """µs per call of `handler` over `events`, `repeat` times; a raised refusal is part of the cost."""
    started = time.thread_time_ns()
    for _ in range(repeat):
        for event in events:
            try:  # noqa: SIM105 - contextlib.suppress would add its own cost to every call
                handler(event, None)
            except Exception:
                pass
    return (time.thread_time_ns() - started) / (repeat * len(events)) / 1000


def calibrate(handler: Handler, events: Sequence[Any], target_ms: float) -> int:
    """How many passes over `events` take about `target_ms`."""
    repeat = 1
    while True:
        elapsed_ms = batch(handler, events, repeat) * repeat * len(events) / 1000
        if elapsed_ms >= target_ms / 4 or repeat >= 1 << 20:
            return max(1, round(repeat * target_ms / max(elapsed_ms, 1e-3)))
        repeat *= 4


def interleaved(
    contenders: dict[str, Handler],
    events: Sequence[Any] | Mapping[str, Sequence[Any]],
    *,
    rounds: int,
    target_ms: float = 20.0,
    prepare: dict[str, Callable[[], None]] | None = None,
) -> dict[str, Sample]:
    """Time every contender over its events (the same for all, or per contender), `rounds` times, interleaved.

    `prepare[name]`, when given, runs before each of that contender's batches (untimed): for
    contenders that differ only in global state, such as a log level or the booted policy.
    """
    prepare = prepare or {}
    events_of = events if isinstance(events, Mapping) else dict.fromkeys(contenders, events)
    repeats = {}
    for name, handler in contenders.items():
        prepare.get(name, _nothing)()
        repeats[name] = calibrate(handler, events_of[name], target_ms)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    order = list(contenders)
    gc.collect()
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            prepare.get(name, _nothing)()
            times[name].append(batch(contenders[name], events_of[name], repeats[name]))
    return {name: Sample(tuple(values)) for name, values in times.items()}


def _nothing() -> None:
    pass


def ratio(samples: dict[str, Sample], numerator: str, denominator: str) -> float:
    """Median of the per-round ratios numerator/denominator."""
    pairs = zip(samples[numerator].rounds, samples[denominator].rounds, strict=True)
    return statistics.median(a / b for a, b in pairs)
