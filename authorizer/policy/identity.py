"""Identity sources: the request values API Gateway requires before it calls the authorizer, and
caches its answers under.

A missing or empty identity source is a 401 without calling the authorizer; the values form the
authorizer cache key. They are named as in policies (`header.X`, `query.X`, `stage.X`,
`context.X`) or as API Gateway names them (`method.request.header.X`, `$request.querystring.X`,
`route.request.header.X`, `stageVariables.X`, `$context.X`). Unless declared (`cache:
identity_sources`), they are derived from the policy: the sources every rule requires, so that
refusing early never changes a decision.
"""

from __future__ import annotations

from authorizer.policy.ir import AllOf, AnyOf, Check, CompiledPolicy, Node, SourceMatch
from authorizer.policy.sources import SourceError, check_source, is_claim

IDENTITY_FAMILIES = ("header", "query", "stage", "context")  # what API Gateway accepts as identity sources
_AWS_PREFIXES = {
    "method.request.header.": "header.",
    "method.request.querystring.": "query.",
    "route.request.header.": "header.",
    "route.request.querystring.": "query.",
    "$request.header.": "header.",
    "$request.querystring.": "query.",
    "stageVariables.": "stage.",
    "$stageVariables.": "stage.",
    "$context.": "context.",
}


def parse_identity_source(text: str) -> str:
    """The policy-style name of one identity source; ValueError with a hint when it is not one."""
    name = text.strip()
    for prefix, family in _AWS_PREFIXES.items():
        if name.startswith(prefix):
            name = family + name[len(prefix) :]
            break
    try:
        family, _ = check_source(name)
    except SourceError as exc:
        raise ValueError(str(exc)) from None
    if family not in IDENTITY_FAMILIES:
        raise ValueError(f"{text!r} cannot be an identity source; use header., query., stage. or context.")
    return name


def _canonical(source: str) -> str:
    """One spelling per source: header names fold case."""
    family, _, name = source.partition(".")
    return f"header.{name.lower()}" if family == "header" else source


def _needs(source: str, carriers: tuple[str, ...]) -> tuple[str, ...]:
    """The identity sources a present value of `source` needs: itself, or for a claim the one header or
    query parameter its token travels in (a TOKEN event's `token` aside: API Gateway reads it from a header)."""
    if is_claim(source):
        travels = [c for c in carriers if c != "token"]
        return tuple(travels) if len(travels) == 1 and travels[0].partition(".")[0] in IDENTITY_FAMILIES else ()
    return (source,) if source.partition(".")[0] in IDENTITY_FAMILIES else ()


def _required(node: Node, carriers: tuple[str, ...]) -> set[str]:
    """Sources whose absence makes this condition fail (an under-estimate is always safe)."""
    if isinstance(node, Check):
        required = node.holds_when_missing is not True
        return {_canonical(s) for s in _needs(node.source, carriers)} if required else set()
    if isinstance(node, SourceMatch):  # unknown unless both are present
        return {_canonical(s) for source in (node.source, node.other) for s in _needs(source, carriers)}
    if isinstance(node, AllOf):
        return set().union(*(_required(child, carriers) for child in node.children))
    if isinstance(node, AnyOf) and node.children:
        return set.intersection(*(_required(child, carriers) for child in node.children))
    return set()  # `not` and JMESPath: nothing is certainly required


def derive_identity_sources(policy: CompiledPolicy) -> tuple[str, ...]:
    """The sources every rule requires, in the order (and spelling) the first rule names them."""
    if not policy.rules:
        return ()
    carriers = policy.tokens.carriers if policy.tokens is not None else ()
    per_rule = [set().union(*(_required(node, carriers) for node in rule.conditions)) for rule in policy.rules]
    common = set.intersection(*per_rule)
    first: dict[str, str] = {}
    for check in _checks(policy.rules[0].conditions):
        for name in _needs(check.source, carriers):
            first.setdefault(_canonical(name), name)
    return tuple(first[c] for c in first if c in common)


def _checks(nodes: tuple[Node, ...]) -> list[Check]:
    out: list[Check] = []
    for node in nodes:
        if isinstance(node, Check):
            out.append(node)
        elif isinstance(node, AllOf | AnyOf):
            out.extend(_checks(node.children))
    return out
