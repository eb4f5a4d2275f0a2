"""Three-valued logic: True, False, or None ("unknown": a source missing or ambiguous, a secret that
cannot be read). A rule applies only on True; `not` leaves unknown unknown, so what cannot be known
never satisfies a condition, negated ones included.

Used where answers are combined: the per-value tests an operator mapping composes (compiler.py:
several operators, `not:`) and the condition trees the engine evaluates (decide/conditions.py).
"""

from __future__ import annotations

from collections.abc import Iterable

Result = bool | None


def all3(results: Iterable[Result]) -> Result:
    """False as soon as one is False; else unknown if one is unknown; else True."""
    unknown = False
    for result in results:
        if result is False:
            return False
        if result is None:
            unknown = True
    return None if unknown else True


def any3(results: Iterable[Result]) -> Result:
    """True as soon as one is True; else unknown if one is unknown; else False."""
    unknown = False
    for result in results:
        if result is True:
            return True
        if result is None:
            unknown = True
    return None if unknown else False


def not3(result: Result) -> Result:
    return None if result is None else not result
