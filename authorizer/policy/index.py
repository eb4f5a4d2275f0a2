"""The rule index: which rules a request could match, found before any rule is tried.

Large policies tell their rules apart by one value: the concrete route (a rule per route), the
value of an identity source compared for equality (an API key per rule), or one compared with a
pattern (`regex`, `glob`, `prefix`, `suffix`, `contains`: a user or path pattern per rule). The
index keys rules on the value that tells the most of them apart: a table from route or value to
the rules keyed on it (by digest on secret-bearing sources), or one RE2 set of every keyed rule's
pattern, run once per request (decide/candidates.py). Rules that are not keyed are tried by every
request, in policy order. Only a top-level, single-valued condition keys a rule: a rule can match
only when it holds, so a request whose value it does not match need not try the rule.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from authorizer.policy.ir import Check, CompiledRule, RuleIndex
from authorizer.policy.operators import key_function

INDEX_MIN_RULES = 8  # below this a plain scan is as fast as a lookup

Discriminator = tuple[str, str]  # ("route", ""), ("equals", source) or ("pattern", source)
_ROUTE: Discriminator = ("route", "")


def _index_keys(rule: CompiledRule) -> dict[Discriminator, Any]:
    """What this rule can be keyed under: exact routes, an equality's value or a text test's pattern."""
    keys: dict[Discriminator, Any] = {}
    if rule.routes and all(p.exact_path is not None and p.method != "*" for p in rule.routes):
        keys[_ROUTE] = frozenset(f"{p.method} {p.exact_path}" if p.method else p.text for p in rule.routes)
    for node in rule.conditions:
        if isinstance(node, Check) and node.equals_key is not None:
            keys.setdefault(("equals", node.source), frozenset([node.equals_key]))
        elif isinstance(node, Check) and node.pattern is not None:
            keys.setdefault(("pattern", node.source), node.pattern)
    return keys


def build_index(rules: tuple[CompiledRule, ...]) -> RuleIndex:
    """Key on what tells the most rules apart (a table before a pattern set when as many: a lookup
    costs less); keep a scan for small policies, or when no pattern set can be built."""
    per_rule = [_index_keys(r) for r in rules]
    counts = Counter(d for keys in per_rule for d in keys)
    for best, count in sorted(counts.items(), key=lambda item: (-item[1], item[0][0] == "pattern")):
        if count < INDEX_MIN_RULES:
            break
        index = _pattern_set(best[1], rules, per_rule) if best[0] == "pattern" else _table(best, rules, per_rule)
        if index is not None:
            return index
    return RuleIndex(None, {}, rules)


def _position(rule: CompiledRule) -> int:
    return rule.position


def _table(best: Discriminator, rules: tuple[CompiledRule, ...], per_rule: list[dict[Discriminator, Any]]) -> RuleIndex:
    rest = tuple(r for r, keys in zip(rules, per_rule, strict=True) if best not in keys)
    buckets: dict[Any, list[CompiledRule]] = {}
    for rule, keys in zip(rules, per_rule, strict=True):
        for value in keys.get(best, ()):
            buckets.setdefault(value, []).append(rule)
    table = {value: tuple(sorted((*keyed, *rest), key=_position)) for value, keyed in buckets.items()}
    if best == _ROUTE:
        return RuleIndex("route", table, rest)
    check = next(n for r in rules for n in r.conditions if isinstance(n, Check) and n.source == best[1])
    return RuleIndex(best[1], table, rest, get=check.get, lookup=check.lookup, value_key=key_function(check.sensitive))


def _pattern_set(
    source: str, rules: tuple[CompiledRule, ...], per_rule: list[dict[Discriminator, Any]]
) -> RuleIndex | None:
    """Rules keyed on their pattern for `source`, all patterns in one RE2 set; None when fewer than
    INDEX_MIN_RULES patterns are accepted or the set cannot be compiled (a scan then)."""
    from authorizer.policy.regex import PatternSet, RegexError  # RE2: only policies with patterns to index

    best: Discriminator = ("pattern", source)
    wanted = [(rule, keys[best]) for rule, keys in zip(rules, per_rule, strict=True) if best in keys]
    try:
        patterns = PatternSet([pattern for _, pattern in wanted])
    except RegexError:
        return None
    keyed = tuple(rule for (rule, _), id_ in zip(wanted, patterns.ids, strict=True) if id_ is not None)  # in id order
    if len(keyed) < INDEX_MIN_RULES:
        return None
    positions = {rule.position for rule in keyed}
    rest = tuple(r for r in rules if r.position not in positions)
    table = {id_: tuple(sorted((rule, *rest), key=_position)) for id_, rule in enumerate(keyed)}
    check = next(n for r in keyed for n in r.conditions if isinstance(n, Check) and n.source == source)
    return RuleIndex(
        source, table, rest, get=check.get, lookup=check.lookup, patterns=patterns, keyed=keyed, every=rules
    )
