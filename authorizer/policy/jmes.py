"""What a raw JMESPath condition reads from the request view, worked out from its parsed expression.

JMESPath answers a missing field with null, and null compares equal to null and unequal to any
string: `path.tenant == headers."x-tenant"` holds when both are missing, `headers.x != 'y'` when
`x` is. So the fields an expression reads from the view's root are listed once, when the policy
is compiled, and a condition whose fields are not all present is unknown (decide/conditions.py):
a missing value never satisfies it. Fields read relative to something else (inside a projection
or a filter, after a pipe) are not listed: they are elements of what was read.
"""

from __future__ import annotations

from typing import Any

Chain = tuple[str, ...]  # ("headers", "x-tenant"): view["headers"]["x-tenant"]

_RELATIVE_AFTER_FIRST = ("subexpression", "pipe", "index_expression", "projection", "value_projection")
_FAMILIES = {"headers": "header", "query": "query", "cookies": "cookie", "stage": "stage", "path": "path"}


def _chain(node: dict[str, Any]) -> Chain | None:
    """The field path a node denotes from its context, when it is one (`a`, `a.b`, `a."b-c"`, and
    `a.b[0]`, which reads `a.b`)."""
    if node["type"] == "field":
        return (node["value"],)
    if node["type"] == "index_expression":
        return _chain(node["children"][0])
    if node["type"] == "subexpression":  # a.b.c may come as one node with three children
        chain: Chain = ()
        for part in node["children"]:
            inner = _chain(part)
            if inner is None:
                return None
            chain = (*chain, *inner)
            if part["type"] == "index_expression":  # an element of a list: what follows is relative
                return chain
        return chain
    return None


def root_reads(parsed: Any) -> tuple[Chain, ...]:
    """Every field path the expression reads from the root of the view, in order, once each."""
    reads: dict[Chain, None] = {}

    def visit(node: dict[str, Any], at_root: bool) -> None:
        chain = _chain(node) if at_root else None
        if chain is not None:
            reads[chain] = None
            return
        children = [c for c in node.get("children", ()) if isinstance(c, dict)]
        kind = node["type"]
        if kind in _RELATIVE_AFTER_FIRST or kind == "filter_projection":
            if children:
                visit(children[0], at_root)
            for child in children[1:]:
                visit(child, False)
        elif kind == "expref":  # `&field`: applied to elements later
            for child in children:
                visit(child, False)
        else:  # comparators, and/or/not, function arguments, multi-selects, flatten, literals
            for child in children:
                visit(child, at_root)

    visit(parsed, True)
    return tuple(reads)


def source_of(chain: Chain) -> str | None:
    """The identity source a view path reads (`("headers", "x-a")` → `header.x-a`); None for a whole
    map or a part of the view that is no identity source's."""
    head, *rest = chain
    if head in _FAMILIES and rest:
        return f"{_FAMILIES[head]}.{rest[0]}"
    if head == "context" and rest:
        return "context." + ".".join(rest)
    if head in ("token", "source_ip") and not rest:
        return head
    return None


def reads_whole_map(chain: Chain) -> bool:
    """`headers`, `query` or `cookies` read as a whole (`keys(headers)`): every value, secrets included."""
    return len(chain) == 1 and chain[0] in ("headers", "query", "cookies")
