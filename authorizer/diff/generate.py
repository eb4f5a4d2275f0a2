"""The requests both versions decide, for each event kind: every combination of the sources' classes
and the routes when there are few enough (then nothing is left out), otherwise a directed search.

The directed search starts from requests that make each rule of each version fire (found among
the combinations of that rule's own sources and routes), adds their pairwise merges (so that the
order of rules is exercised) and moves every source, one at a time, through each of its classes;
a seeded sample of random combinations is added (JMESPath conditions are covered by that sampling,
the directed requests and the corpus only).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import islice, product

from authorizer.decide.conditions import holds
from authorizer.diff.classes import Analysis, Route, Value, walk
from authorizer.diff.requests import Assignment, carried, event
from authorizer.event.request import Request
from authorizer.policy.ir import Check, CompiledRule
from authorizer.policy.load import LoadedPolicy

PRODUCT_LIMIT = 6_000  # combinations per kind enumerated in full
FIRE_LIMIT = 2_000  # combinations tried to make one rule fire
DIRECTED_LIMIT = 20_000  # directed requests per kind at most (a seeded sample beyond)
SAMPLES = 200  # random combinations per kind


@dataclass(slots=True)
class Requests:
    kind: str
    assignments: list[Assignment]
    exhaustive: bool


def _routes(kind: str, analysis: Analysis) -> list[Route]:
    return [("GET", "/")] if kind == "websocket" else analysis.routes  # a $connect has no method or path


def _fires(
    rule: CompiledRule, kind: str, routes: list[Route], classes: Mapping[str, list[Value]]
) -> tuple[Route, dict[str, Value]] | None:
    """A route and values on which the rule's conditions all hold, if the first combinations hold one."""
    own = sorted({c.source for c in walk(rule.conditions) if isinstance(c, Check)} & set(classes))
    candidates = ((r, c) for r in routes for c in product(*(classes[s] for s in own)))
    for route, combination in islice(candidates, FIRE_LIMIT):
        values = dict(zip(own, combination, strict=True))
        try:
            request = Request(event(kind, route, values))
        except Exception:  # a value the event cannot carry (an ARN part, ...): not this one
            continue
        if rule.in_scope(request.arn) and all(holds(n, request) is True for n in rule.conditions):
            return route, values
    return None


def _directed(
    kind: str, routes: list[Route], classes: Mapping[str, list[Value]], versions: tuple[LoadedPolicy, ...]
) -> Iterator[Assignment]:
    fires = [f for loaded in versions for rule in loaded.policy.rules if (f := _fires(rule, kind, routes, classes))]
    merges = [(b[0], {**a[1], **b[1]}) for a in fires for b in fires if a is not b]
    for route, base in [(routes[0], {}), *fires, *merges]:
        yield Assignment.of(route, base)
        for other in routes:
            yield Assignment.of(other, base)
        for source, values in classes.items():
            for value in values:
                yield Assignment.of(route, {**base, source: value})


def requests(kind: str, analysis: Analysis, versions: tuple[LoadedPolicy, ...]) -> Requests:
    """The assignments to decide for one event kind."""
    names = [s for s in analysis.sources if s in carried(kind, list(analysis.sources))]
    classes = {s: analysis.sources[s].values for s in names}
    routes = _routes(kind, analysis)
    size = len(routes) * math.prod(len(v) for v in classes.values())
    if size <= PRODUCT_LIMIT:
        every = [
            Assignment.of(route, dict(zip(names, combination, strict=True)))
            for route in routes
            for combination in product(*classes.values())
        ]
        return Requests(kind, every, True)
    rng = random.Random(f"{kind}:{size}")
    samples = [
        Assignment.of(rng.choice(routes), {s: rng.choice(v) for s, v in classes.items()}) for _ in range(SAMPLES)
    ]
    directed = list(dict.fromkeys(islice(_directed(kind, routes, classes, versions), DIRECTED_LIMIT * 4)))
    if len(directed) > DIRECTED_LIMIT:
        directed = rng.sample(directed, DIRECTED_LIMIT)
    return Requests(kind, list(dict.fromkeys([*directed, *samples])), False)
