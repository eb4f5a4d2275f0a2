"""The rules worth trying for a request, through the policy's rule index (built by the compiler).

The index keys rules on one discriminating value: the concrete route, or the single value of an
identity source compared for equality. A source that is missing or holds several different
values has no key, and the request tries the rules that are not keyed, as every request could.
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


def candidates(index: RuleIndex, r: Request) -> tuple[CompiledRule, ...]:
    """The rules that could match `r`, in policy order."""
    if index.keyed_on is None:
        return index.rest
    if index.get is None:  # keyed on the route
        return index.table.get(r.arn.route, index.rest)
    return index.table.get(index_key(index, index.get(r)), index.rest)
