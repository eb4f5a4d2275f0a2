"""The rules worth trying for a request, through the policy's rule index (policy/index.py).

The index keys rules on one discriminating value: the concrete route, or the single value of an
identity source compared for equality or with patterns. A source that is missing, holds several
different values or (for patterns) no text has no key, and the request tries the rules that are
not keyed, as every request could: no keyed rule's condition can hold for it.
"""

from __future__ import annotations

from typing import Any

from authorizer.decide.conditions import ambiguous
from authorizer.event.readers import Values
from authorizer.event.request import Request
from authorizer.policy.ir import CompiledRule, RuleIndex


def index_key(index: RuleIndex, values: Values | None) -> Any:
    """The table key of a keyed source's values (None: no key)."""
    if values is None or ambiguous(values) or index.value_key is None:
        return None
    return index.value_key(values[0])


def matching(index: RuleIndex, values: Values | None) -> tuple[CompiledRule, ...]:
    """With patterns: the rules whose pattern matches the keyed source's value, and the rules not
    keyed, in policy order; every rule when the pattern set cannot answer."""
    if values is None or ambiguous(values) or not isinstance(values[0], str) or index.patterns is None:
        return index.rest
    found = index.patterns(values[0])
    if found is None:
        return index.every
    if not found:
        return index.rest
    if len(found) == 1:
        return index.table[found[0]]
    return tuple(sorted((*(index.keyed[i] for i in found), *index.rest), key=_position))


def _position(rule: CompiledRule) -> int:
    return rule.position


def candidates(index: RuleIndex, r: Request) -> tuple[CompiledRule, ...]:
    """The rules that could match `r`, in policy order."""
    if index.keyed_on is None:
        return index.rest
    if index.get is None:  # keyed on the route
        return index.table.get(r.arn.route, index.rest)
    if index.patterns is not None:
        return matching(index, index.get(r))
    return index.table.get(index_key(index, index.get(r)), index.rest)
