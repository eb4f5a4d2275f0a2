"""Warnings about policies that load but do not do what their author meant.

- a rule shadowed by an earlier rule: every request it matches, the earlier one matches first;
- a rule that can never match: its conditions contradict each other (`equals: a` and `equals: b`
  on one source, `exists: false` with another test, empty numeric ranges, sources a TOKEN event
  never carries);
- anything that makes caching unsafe for the cache the policy declares (`cache:`): caching.py, the
  same analysis `make package` advises from;
- a route written the Express way (`/pets/:id`), which matches the colon literally;
- a path parameter that bears secrets (the path is in URLs, logs and ARNs: only our own displays hide it);
- bearer tokens (`tokens:`): in a query string outside WebSocket `$connect` (URLs land in access
  logs), declared but never read, or checked only for issuer, audience and scopes (what API
  Gateway's own JWT and Cognito authorizers do without a Lambda).

The analysis is conservative (a warning is a proof, silence is not) and works on the compiled
conditions, so it judges exactly what the engine evaluates. Messages never show secret values:
they use the compiled, already redacted, expected values.

Shadowing compares a rule with the rules before it, so each rule's facts are computed once, and a
rule is compared only with the earlier rules that could shadow it: those offering, for one of their
conditions (or their routes), a key that condition needs (`_Linter.needs`, `offers`). A policy of
1,000 distinct regex rules is then 1,000 lookups, not half a million comparisons.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from authorizer.policy.caching import cache_key, findings, reads
from authorizer.policy.errors import Loc
from authorizer.policy.ir import AllOf, AnyOf, Check, CompiledPolicy, CompiledRule, JmesCheck, Node, Not, SourceMatch
from authorizer.policy.operators import typed_key
from authorizer.policy.sources import is_claim, source_key

LintWarning = tuple[Loc, str]
_TOKEN_ONLY_ABSENT = ("header.", "query.", "stage.", "path.", "cookie.", "context.")
_NUMERIC = ("lt", "le", "gt", "ge")
_ORDERED = ("prefix", "suffix", "contains", *_NUMERIC)  # implied by another test of the same operator (`implies`)
_FINITE = ("equals", "one_of")


def argument(data: Mapping[str, Any], check: Check) -> Any:
    """The operator's argument as written (not redacted): `header.x: abc` is `equals: abc`."""
    node: Any = data
    for part in check.loc[:-1]:
        node = node[part]
    return node[check.loc[-1]] if isinstance(node, dict) else node


def _conjuncts(nodes: tuple[Node, ...]) -> Iterator[Node]:
    """The conditions that must all hold: `all` groups flattened, a one-alternative `any` unwrapped."""
    for node in nodes:
        if isinstance(node, AllOf) or (isinstance(node, AnyOf) and len(node.children) == 1):
            yield from _conjuncts(node.children)
        else:
            yield node


@dataclass(frozen=True, slots=True)
class _Facts:
    """What lint knows about one rule's conditions."""

    rule: CompiledRule
    conditions: tuple[Node, ...]
    signatures: tuple[Hashable, ...]  # one per condition
    sources: frozenset[str]
    keyed: dict[str, frozenset[Hashable]]  # source → the only values an equality/one-of allows
    needs: tuple[frozenset[Hashable], ...]  # per condition, and the routes: a rule it shadows offers one of each
    offers: frozenset[Hashable]  # what this rule's conditions and routes offer to the `needs` of earlier rules


class _Linter:
    def __init__(self, data: Mapping[str, Any], policy: CompiledPolicy) -> None:
        self.data = data
        self.policy = policy
        self._signatures: dict[Node, Hashable] = {}  # each computed once (they serialise arguments)

    def signature(self, node: Node) -> Hashable:
        if node not in self._signatures:
            self._signatures[node] = self._signature(node)
        return self._signatures[node]

    def _signature(self, node: Node) -> Hashable:
        if isinstance(node, Check):
            return ("check", node.source, node.op, node.mode, json.dumps(argument(self.data, node), sort_keys=True))
        if isinstance(node, JmesCheck):
            return ("jmespath", node.expression)
        if isinstance(node, SourceMatch):
            return ("match", node.source, node.op, node.other)
        if isinstance(node, Not):
            return ("not", self.signature(node.child))
        return (type(node).__name__, frozenset(self.signature(c) for c in node.children))

    def finite(self, check: Check) -> list[Any] | None:
        """The only values that can satisfy an equality or one-of check."""
        if check.op == "equals":
            return [argument(self.data, check)]
        if check.op == "one_of":
            return list(argument(self.data, check))
        return None

    def implies(self, b: Node, a: Node) -> bool:
        """Whenever `b` holds, `a` holds too (proved from the operators, or identical)."""
        if self.signature(a) == self.signature(b):
            return True
        if not (isinstance(a, Check) and isinstance(b, Check)) or a.source != b.source or a.mode != b.mode:
            return False
        if a.op == "exists" and a.holds_when_missing is None:  # exists: true, implied by any test on a present value
            return b.holds_when_missing is None
        if b.holds_when_missing is not None or a.op == "secret" or a.mode not in ("single", "joined"):
            return False
        candidates = self.finite(b)
        if candidates is not None:
            return all(a.test(v) for v in candidates)
        want, have = argument(self.data, a), argument(self.data, b)
        if a.op != b.op:
            return False
        if a.op == "prefix":
            return bool(have.startswith(want))
        if a.op == "suffix":
            return bool(have.endswith(want))
        if a.op == "contains":
            return want in have
        if a.op in ("gt", "ge"):
            return bool(have >= want)
        if a.op in ("lt", "le"):
            return bool(have <= want)
        return False

    def keyed(self, conditions: tuple[Node, ...]) -> dict[str, frozenset[Hashable]]:
        keyed: dict[str, frozenset[Hashable]] = {}
        for node in conditions:
            if isinstance(node, Check) and node.mode == "single" and node.holds_when_missing is None:
                candidates = self.finite(node)
                if candidates is not None:
                    values = frozenset(typed_key(v) for v in candidates)
                    keyed[node.source] = keyed[node.source] & values if node.source in keyed else values
        return keyed

    # -- rules that can never match ----------------------------------------------------------
    def contradiction(self, facts: _Facts) -> str | None:
        checks = [n for n in facts.conditions if isinstance(n, Check)]
        by_source: dict[str, list[Check]] = {}
        for check in checks:
            by_source.setdefault(check.source, []).append(check)
        for source, group in by_source.items():
            if any(c.holds_when_missing is True for c in group) and any(c.holds_when_missing is None for c in group):
                return f"{source} must be absent (exists: false) and also pass another test"
            for mode in ("single", "joined"):
                found = self.empty_range(source, [c for c in group if c.mode == mode and c.op != "secret"])
                if found:
                    return found
        kinds = self.possible_kinds(by_source.get("kind", []))
        if kinds == {"token"}:
            needs = [
                c.source for c in checks if c.holds_when_missing is None and c.source.startswith(_TOKEN_ONLY_ABSENT)
            ]
            if needs or "source_ip" in by_source:
                return f"it only applies to TOKEN events, which carry no {(needs or ['source_ip'])[0]}"
        if (
            kinds is not None
            and "token" not in kinds
            and any(c.holds_when_missing is None for c in by_source.get("token", []))
        ):
            return "it tests `token`, which only TOKEN events carry, but excludes kind token"
        return None

    def empty_range(self, source: str, checks: list[Check]) -> str | None:
        if not checks:
            return None
        shown = ", ".join(f"{c.op} {c.expected!r}" for c in checks)
        for check in checks:
            candidates = self.finite(check)
            if candidates is not None:
                if not any(all(c.test(v) is not False for c in checks) for v in candidates):  # unknown: no proof
                    return f"no value of {source} satisfies all of: {shown}"
                return None
        bounds = [(c.op, argument(self.data, c)) for c in checks if c.op in _NUMERIC]
        lows = [(v, op == "gt") for op, v in bounds if op in ("gt", "ge")]
        highs = [(v, op == "lt") for op, v in bounds if op in ("lt", "le")]
        if lows and highs:
            low, low_strict = max(lows, key=lambda b: (b[0], b[1]))
            high, high_strict = min(highs, key=lambda b: (b[0], not b[1]))
            if low > high or (low == high and (low_strict or high_strict)):
                return f"no number is in the range {shown} of {source}"
        return None

    def possible_kinds(self, checks: list[Check]) -> set[str] | None:
        kinds: set[str] | None = None
        for check in checks:
            if check.mode == "single" and check.op != "secret":
                candidates = self.finite(check)
                if candidates is not None:
                    allowed = {v for v in candidates if isinstance(v, str) and check.test(v) is not False}
                    kinds = allowed if kinds is None else kinds & allowed
        return kinds

    # -- shadowing ---------------------------------------------------------------------------
    def needs(self, node: Node) -> frozenset[Hashable]:
        """Keys one of which a rule must offer for `node` to hold whenever that rule's conditions do:
        what `implies` can prove it from (the same condition, presence, the same ordered operator, or
        the only values an equality or one-of allows)."""
        keys: set[Hashable] = {self.signature(node)}
        if not isinstance(node, Check):
            return frozenset(keys)
        where = (node.source, node.mode)
        if node.op == "exists" and node.holds_when_missing is None:  # implied by any test of a present value
            return frozenset([*keys, ("present", *where)])
        if node.op == "secret" or node.mode not in ("single", "joined"):
            return frozenset(keys)
        values = [typed_key(v) for v in self.finite(node) or ()]
        if node.op in _FINITE and None not in values:  # only a check allowing one of these values can imply it
            keys |= {("value", *where, v) for v in values}  # (one allowing none is a rule that can never match)
        else:
            keys.add(("finite", *where))
        if node.op in _ORDERED:
            keys.add(("op", *where, node.op))
        return frozenset(keys)

    def offers(self, node: Node) -> set[Hashable]:
        """The keys `node` offers to the `needs` of an earlier rule's conditions."""
        keys: set[Hashable] = {self.signature(node)}
        if not isinstance(node, Check) or node.holds_when_missing is not None:
            return keys
        where = (node.source, node.mode)
        keys |= {("present", *where), ("op", *where, node.op)}
        values = self.finite(node)
        if values is not None:
            keys |= {("finite", *where), *(("value", *where, typed_key(v)) for v in values)}
        return keys

    @staticmethod
    def route_needs(rule: CompiledRule) -> frozenset[Hashable] | None:
        """What `covers_routes` needs of a later rule's routes: one of these exact routes (a route
        matching an exact one is written the same); None when a wildcard or ANY route matches more."""
        routes = rule.routes
        if not routes or any(p.exact_path is None or p.method == "*" for p in routes):
            return None
        return frozenset(("route", p.text) for p in routes)

    def facts(self, rule: CompiledRule) -> _Facts:
        conditions = tuple(_conjuncts(rule.conditions))
        routes = self.route_needs(rule)
        return _Facts(
            rule,
            conditions,
            tuple(self.signature(n) for n in conditions),
            frozenset(n.source for n in conditions if isinstance(n, Check)),
            self.keyed(conditions),
            (*(self.needs(n) for n in conditions), *([routes] if routes is not None else [])),
            frozenset({("route", p.text) for p in rule.routes or ()}.union(*(self.offers(n) for n in conditions))),
        )

    @staticmethod
    def covers_routes(a: CompiledRule, b: CompiledRule) -> bool:
        if a.routes is None:
            return True
        if b.routes is None:
            return False
        for pattern in b.routes:
            if any(p.text == pattern.text for p in a.routes):
                continue
            exact, method = pattern.exact_path, pattern.method
            if exact is None or method == "*" or not any(p.matches(method, exact) for p in a.routes):
                return False
        return True

    def shadows(self, a: _Facts, b: _Facts) -> bool:
        if not a.sources <= b.sources:
            return False
        for source, values in a.keyed.items():  # cheap necessary condition, checked first
            if not b.keyed.get(source, values | {None}) <= values:
                return False
        if not self.covers_routes(a.rule, b.rule):
            return False
        have = set(b.signatures)
        return all(
            sig in have or any(self.implies(y, x) for y in b.conditions)
            for x, sig in zip(a.conditions, a.signatures, strict=True)
        )

    # -- caching ---------------------------------------------------------------------------
    def caching(self) -> Iterator[LintWarning]:
        """What caching.py finds for the cache the policy declares."""
        for finding in findings(self.policy, cache_key(self.policy, self.data.get("cache"))):
            yield finding.loc, finding.message

    def express_style_routes(self) -> Iterator[LintWarning]:
        """`GET /pets/:id` matches the literal path `/pets/:id` only: API Gateway writes `{id}`."""
        for rule in self.policy.rules:
            for i, pattern in enumerate(rule.routes or ()):
                if re.search(r"/:[A-Za-z_]", pattern.text):
                    meant = re.sub(r"/:([A-Za-z_]\w*)", r"/{\1}", pattern.text)
                    yield (
                        (*rule.loc, "routes", i),
                        f"route {pattern.text!r} matches `:` literally; API Gateway writes path parameters "
                        f"in braces: did you mean {meant!r}?",
                    )

    # -- secrets in the path -----------------------------------------------------------------
    def secret_paths(self) -> Iterator[LintWarning]:
        """A path parameter that bears secrets: said once, where it is first read."""
        said: set[str] = set()
        for rule in self.policy.rules:
            for source, loc in reads(rule):
                key = source_key(source)
                if key.startswith("path.") and key in self.policy.sensitive and key not in said:
                    said.add(key)
                    yield (
                        loc,
                        f"{source} bears secrets, but a path cannot keep one: the URL is in API Gateway's access "
                        "logs, and the method ARN (in the event, and in the IAM policy returned and `eval` prints) "
                        "ends with it; this authorizer's decision line and local gateway show the route template "
                        "instead, the rest is beyond it: send the secret in a header",
                    )

    # -- bearer tokens -----------------------------------------------------------------------
    def tokens(self) -> Iterator[LintWarning]:
        tokens = self.policy.tokens
        if tokens is None:
            return
        reading = [r for r in self.policy.rules if any(is_claim(s) for s, _ in reads(r))]
        if not reading:
            yield ("tokens",), "no rule reads a claim (jwt.*): the token is never verified; drop `tokens:` or use it"
            return
        connect_only = all(r.routes and all(p.text == "$connect" for p in r.routes) for r in reading)
        for i, carrier in enumerate(tokens.carriers):
            if carrier.startswith("query.") and not connect_only:
                yield (
                    ("tokens", "from", i),
                    f"{carrier} puts the token in the URL, and URLs land in access logs (API Gateway, CloudFront, "
                    "proxies), where it can be replayed until it expires: send it in a header (a query string "
                    "only for WebSocket $connect, whose browser clients cannot set one: scope those rules to $connect)",
                )
        if self.builtin_would_do(reading):
            yield (
                ("tokens",),
                "every rule checks only the token's issuer, audience and scopes: an HTTP API's built-in JWT "
                "authorizer (or a REST API's Cognito authorizer) does that without a Lambda; this policy earns its "
                "place with claims beyond those, other request values, deny rules, or WebSocket $connect",
            )

    def builtin_would_do(self, reading: list[CompiledRule]) -> bool:
        """Every rule allows on jwt.scopes / jwt.issuer checks alone (routes aside): no other source,
        no comparison or JMESPath, no deny, no usage key, no $connect."""
        for rule in self.policy.rules:
            if rule.effect != "allow" or rule.usage_identifier_key is not None:
                return False
            if any(p.text == "$connect" for p in rule.routes or ()):
                return False
            if not all(isinstance(n, Check) and n.source in ("jwt.scopes", "jwt.issuer") for n in _leaves(rule)):
                return False
        return bool(reading)

    def run(self) -> list[LintWarning]:
        warnings: list[LintWarning] = [
            *self.caching(),
            *self.express_style_routes(),
            *self.tokens(),
            *self.secret_paths(),
        ]
        every = [self.facts(rule) for rule in self.policy.rules]
        offered = Counter(key for facts in every for key in facts.offers)
        live: list[_Facts] = []
        unconditional: list[int] = []  # live rules that need nothing: they may shadow any later rule
        needing: dict[Hashable, list[int]] = {}  # key → the live rules that could shadow a rule offering it
        for facts in every:
            rule = facts.rule
            reason = self.contradiction(facts)
            if reason:
                warnings.append(((*rule.loc, "name"), f"rule {rule.name!r} can never match: {reason}"))
                continue
            could = sorted({*unconditional, *(i for key in facts.offers for i in needing.get(key, ()))})
            earlier = next((live[i] for i in could if self.shadows(live[i], facts)), None)
            # a rule shadows only rules offering one key of each of its needs: filed under its rarest need
            if facts.needs:
                for key in min(facts.needs, key=lambda keys: sum(offered[k] for k in keys)):
                    needing.setdefault(key, []).append(len(live))
            else:
                unconditional.append(len(live))
            if earlier is not None:
                warnings.append(
                    (
                        (*rule.loc, "name"),
                        f"rule {rule.name!r} is shadowed by rule {earlier.rule.name!r}: every request it matches, "
                        f"{earlier.rule.name!r} matches first",
                    )
                )
            live.append(facts)
        return sorted(warnings, key=lambda w: (w[0][:2], w[1]))


def _leaves(rule: CompiledRule) -> Iterator[Node]:
    """Every condition of a rule inside `all` and `any` (a `not` is one, as a whole)."""
    stack = list(rule.conditions)
    while stack:
        node = stack.pop()
        if isinstance(node, AllOf | AnyOf):
            stack.extend(node.children)
        else:
            yield node


def lint(data: Mapping[str, Any], policy: CompiledPolicy) -> list[LintWarning]:
    """Warnings for a policy that compiled: (location in the validated data, message)."""
    return _Linter(data, policy).run()
