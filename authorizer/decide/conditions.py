"""Conditions in three-valued logic (policy/logic.py): True, False, or None ("unknown": a source was
missing or arrived with conflicting values, or a secret it is compared with cannot be read).

A rule applies only on True, and `not` leaves unknown unknown, so a missing key never satisfies a
condition, negative ones included. `judge` is the one definition of what a check answers for the
values read (value modes, `exists: false`, several different values); `holds` evaluates a whole
condition tree. The engine evaluates every condition through them; the generated code calls
`judge` for every test it does not write out itself, and `holds` for combinators and JMESPath.

With a Trace, `holds` records every check it evaluates, and combinators evaluate every child so
that the trace shows each alternative; without one, it stops as soon as the answer is known. Both
answer the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from authorizer.event.readers import Values
from authorizer.event.request import Request
from authorizer.policy.ir import AllOf, AnyOf, Check, JmesCheck, Node, Not, SourceMatch
from authorizer.policy.logic import Result, all3, any3, not3
from authorizer.policy.sources import REDACTED, Basis

if TYPE_CHECKING:  # the engine's (decision.py): generated code answering alone never imports it
    from authorizer.decide.decision import ConditionOutcome, Trace


def ambiguous(values: Values) -> bool:
    """Several different values for one name (a header sent twice, ...): a single-valued condition is unknown."""
    return len(values) > 1 and len(set(values)) > 1


def judge(check: Check, values: Values | None) -> Result:
    """What one check answers for the values its source holds (None: missing)."""
    if values is None:
        return check.holds_when_missing
    mode = check.mode
    if mode == "single":
        return None if ambiguous(values) else check.test(values[0])
    if mode == "any":
        return any3(check.test(v) for v in values)
    if mode == "all":
        return all3(check.test(v) for v in values)
    return check.test(",".join(str(v) for v in values))  # joined


def holds(node: Node, r: Request, trace: Trace | None = None) -> Result:
    """What a condition tree answers for a request (recording each check in `trace` when given)."""
    if isinstance(node, Check):
        return judge(node, node.get(r)) if trace is None else _traced(node, r, trace)
    if isinstance(node, AllOf):
        return all3(_each(node.children, r, trace))
    if isinstance(node, AnyOf):
        return any3(_each(node.children, r, trace))
    if isinstance(node, Not):
        return not3(holds(node.child, r, trace))
    if isinstance(node, SourceMatch):
        return _match(node, r, trace)
    return _jmespath(node, r, trace)


def _each(children: tuple[Node, ...], r: Request, trace: Trace | None) -> Iterable[Result]:
    results = (holds(child, r, trace) for child in children)
    return results if trace is None else list(results)  # a trace shows every alternative


def _match(node: SourceMatch, r: Request, trace: Trace | None) -> Result:
    """Two sources compared: unknown unless both are present with one value each."""
    values, others = node.get(r), node.get_other(r)
    if values is None or others is None or ambiguous(values) or ambiguous(others):
        result = None
    else:
        result = node.test(values[0], others[0])
    if trace is not None:
        outcome: ConditionOutcome = "missing" if values is None or others is None else _outcome(result)
        shown = _shown(values, node.sensitive)
        because = None
        if outcome == "missing":
            because = missing_because((node.lookup if values is None else node.lookup_other).basis, r)
        trace.record(node.source, node.op, {"from": node.other}, shown, outcome, node.loc, because)
    return result


def _outcome(result: Result) -> ConditionOutcome:
    return "ambiguous" if result is None else "true" if result else "false"


def _jmespath(node: JmesCheck, r: Request, trace: Trace | None) -> Result:
    """The escape hatch: the expression must yield exactly true. Unknown when a field it reads from
    the request is missing or empty (policy/jmes.py), or when it fails (a type error in a function)."""
    view = r.view()  # BadEvent (maps that disagree) refuses the request, as for any other read
    outcome: ConditionOutcome
    if not all(_present(view, chain) for chain in node.reads):
        result, outcome = None, "missing"
    else:
        try:
            result = node.search(view) is True
            outcome = "true" if result else "false"
        except Exception:  # JMESPath raises on type errors in functions
            result, outcome = None, "error"
    if trace is not None:
        trace.record("jmespath", "jmespath", REDACTED if node.sensitive else node.expression, None, outcome, node.loc)
    return result


def _present(view: Any, chain: tuple[str, ...]) -> bool:
    for key in chain:
        view = view.get(key) if isinstance(view, dict) else None
    return view is not None and view != ""


def missing_because(basis: Basis | None, r: Request) -> str | None:
    """Why sources read from a basis (the verified token) are missing in this request: its reason code
    (`token.expired`), when a read computed it; None otherwise."""
    if basis is None or basis.key not in r.found:
        return None
    return basis.missing_because(r.found[basis.key])


def _shown(values: Values | None, sensitive: bool) -> Any:
    if values is None:
        return None
    if sensitive:
        return REDACTED
    return values[0] if len(values) == 1 else list(values)


def _traced(check: Check, r: Request, trace: Trace) -> Result:
    try:
        values = check.get(r)
        result = judge(check, values)
    except Exception:  # recorded, then handled as any error is: the request is refused
        trace.record(check.source, check.op, check.expected, None, "error", check.loc)
        raise
    because = None
    if values is None:
        outcome: ConditionOutcome = "true" if result else "missing"
        because = missing_because(check.lookup.basis, r)
    elif result is None:  # several different values, or else a test that could not tell: a secret unread
        outcome = "ambiguous" if check.mode == "single" and ambiguous(values) else "unavailable"
    else:
        outcome = "true" if result else "false"
    trace.record(check.source, check.op, check.expected, _shown(values, check.sensitive), outcome, check.loc, because)
    return result
