"""May API Gateway cache this authorizer's answers? One analysis, for `authorizer validate` (as
warnings) and `make package` (as its advice), that never calls a policy safe when it is not.

API Gateway caches an answer under the identity-source values (and, with `per_route`, the route
template, HTTP API `$context.routeKey`) and reuses it, its policy evaluated against the new ARN,
for every request with the same key until the TTL ends (docs/api-gateway.md). So caching is safe
only if every request sharing a key would get the same answer from the policy, and every Allow
covers no more than that. Each way a policy can break that is a finding, in one line:

- a rule reads something the key does not hold (a header that is not an identity source, the
  source IP, a concrete path, a JMESPath condition reading the whole request), so a cached answer
  is reused whatever that value: it **opens** the API when the policy can allow at all;
- a rule applies to some routes only: an answer cached on one route is reused on the others (an
  Allow covering the stage **opens** them, a route-limited Deny is never evaluated, a cached simple
  response applies everywhere); with `per_route` the key is the template, not the path the
  patterns match;
- an Allow for `GET /pets/{id}` becomes `GET/pets/*`, and in IAM `*` also matches `/`: a cached
  Allow covers `/pets/1/admin`, which the rule never allowed (**opens**);
- an Allow covering only the incoming method ARN: the cached answer **refuses** (403) the caller's
  other routes;
- a rule reads a token's claims (`jwt.*`): they are derived from the token, so keyed when the
  header or query parameter the token travels in is; but a cached Allow is reused whatever the
  token's `exp`, so a TTL above the policy's leeway **opens** the API to expired tokens.

The analysis reads the compiled policy only: the sources every condition and output reads, route
scopes and resources. It is conservative: a finding is a possibility, silence a proof (for the key
declared in `cache:` or derived from the policy).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from authorizer.policy.errors import Loc
from authorizer.policy.identity import derive_identity_sources, parse_identity_source
from authorizer.policy.ir import (
    AllOf,
    AnyOf,
    Check,
    CompiledPolicy,
    CompiledRule,
    JmesCheck,
    Node,
    Not,
    Output,
    SourceMatch,
)
from authorizer.policy.sources import is_claim, source_key

_SAME_FOR_THE_STAGE = ("stage.", "arn.")  # stage variables and the API's own ARN parts: one value per cache
_SAME_FOR_THE_TEMPLATE = ("route.key", "route.method")  # with per_route, the template is in the key
ASSUMED_TTL = 300  # for advice about a policy that declares no cache (API Gateway's REST default)


class Finding(NamedTuple):
    loc: Loc
    message: str
    opens: bool  # a cached answer can let in a request the policy would refuse (else: it refuses one)


class CacheKey(NamedTuple):
    ttl: int
    per_route: bool
    identity: tuple[str, ...]  # policy-style identity sources, as declared or derived
    carriers: tuple[str, ...] = ()  # where the policy's token travels (`tokens.from`)

    def holds(self, source: str) -> bool:
        if source.startswith(_SAME_FOR_THE_STAGE) or source in ("kind", "token"):  # TOKEN: the token is the key
            return True
        if is_claim(source):  # derived from the token: keyed when every place it may travel is
            return bool(self.carriers) and all(self.holds(carrier) for carrier in self.carriers)
        if self.per_route and source in _SAME_FOR_THE_TEMPLATE:
            return True
        return source_key(source) in {source_key(s) for s in self.identity}

    def described(self) -> str:
        parts = [*self.identity, *(["the route template"] if self.per_route else [])]
        return ", ".join(parts) or "no identity source"


def cache_key(policy: CompiledPolicy, cache: Mapping[str, Any] | None, *, assume_ttl: bool = False) -> CacheKey:
    """The key a policy's `cache:` declares (identity sources derived when not declared); with
    `assume_ttl`, a TTL is assumed when none is declared (what packaging advises about)."""
    cache = cache or {}
    ttl = cache.get("ttl", ASSUMED_TTL if assume_ttl else 0)
    declared = cache.get("identity_sources")
    identity = (
        tuple(parse_identity_source(s) for s in declared) if declared is not None else derive_identity_sources(policy)
    )
    carriers = policy.tokens.carriers if policy.tokens is not None else ()
    return CacheKey(ttl, bool(cache.get("per_route")), identity, carriers)


def findings(policy: CompiledPolicy, key: CacheKey) -> list[Finding]:
    """Every way a cached answer under `key` could differ from the policy's own (none when ttl is 0)."""
    if key.ttl <= 0:
        return []
    can_allow = any(rule.effect == "allow" for rule in policy.rules)
    simple = policy.response == "simple"
    out: list[Finding] = []
    for rule in policy.rules:
        for source, loc in reads(rule):
            if not key.holds(source) and can_allow:
                out.append(Finding(loc, _unkeyed(rule, source, key), True))
        if rule.routes is not None:
            out += _route_findings(policy, rule, key, simple, can_allow)
        elif rule.effect == "allow" and rule.resource == "method" and not simple:
            out.append(Finding((*rule.loc, "name"), _method_scoped(rule, key), False))
    out += _expired_tokens(policy, key, can_allow)
    return list(dict.fromkeys(out))


def _expired_tokens(policy: CompiledPolicy, key: CacheKey, can_allow: bool) -> list[Finding]:
    """A cached Allow outlives the token that earned it by up to the TTL: more than the leeway opens."""
    tokens = policy.tokens
    if tokens is None or not can_allow or key.ttl <= tokens.leeway:
        return []
    reading = next((rule for rule in policy.rules if any(is_claim(s) for s, _ in reads(rule))), None)
    if reading is None:
        return []
    return [
        Finding(
            ("cache", "ttl"),
            f"rule {reading.name!r} reads the token's claims, but API Gateway reuses a cached answer for "
            f"{key.ttl} s whatever the token's exp: an expired token keeps its access up to {key.ttl} s, beyond "
            f"the {tokens.leeway:g} s leeway; set the TTL at most the leeway (tokens.leeway), or to 0",
            True,
        )
    ]


def reads(rule: CompiledRule) -> Iterator[tuple[str, Loc]]:
    """Every source a rule's conditions and outputs read, with where (a JMESPath condition: `*`)."""

    def walk(node: Node) -> Iterator[tuple[str, Loc]]:
        if isinstance(node, Check):
            yield node.source, node.loc
        elif isinstance(node, SourceMatch):
            yield node.source, node.loc
            yield node.other, node.loc
        elif isinstance(node, JmesCheck):
            yield "*", node.loc
        elif isinstance(node, Not):
            yield from walk(node.child)
        elif isinstance(node, AllOf | AnyOf):
            for child in node.children:
                yield from walk(child)

    for node in rule.conditions:
        yield from walk(node)
    outputs: list[tuple[Loc, Output | None]] = [
        (("principal",), rule.principal),
        (("usage_identifier_key",), rule.usage_identifier_key),
        *((("context", key), output) for key, output in rule.context),
    ]
    for where, output in outputs:
        if output is not None and output.source is not None:
            yield output.source, (*rule.loc, *where)


def _unkeyed(rule: CompiledRule, source: str, key: CacheKey) -> str:
    what = "a JMESPath condition over the whole request" if source == "*" else source
    fix = "set the TTL to 0" if source == "*" else f"add {source} to the identity sources or set the TTL to 0"
    if is_claim(source):
        carriers = " and ".join([c for c in key.carriers if c != "token"] or key.carriers)
        what = f"{source}, a claim of the token in {carriers},"
        fix = f"add {carriers} to the identity sources (the token is the key), or set the TTL to 0"
    return (
        f"rule {rule.name!r} reads {what}, which is not in the cache key ({key.described()}): API Gateway "
        f"reuses a cached answer for {key.ttl} s whatever it holds; {fix}"
    )


def _method_scoped(rule: CompiledRule, key: CacheKey) -> str:
    others = "other paths of the same route template" if key.per_route else "the caller's other routes"
    return (
        f"allow rule {rule.name!r} covers only the incoming method ARN, but API Gateway caches the answer "
        f"for {key.ttl} s and re-uses it for {others} (403 there): use `resource: stage` "
        "(or api, or routes listing every route), cache.ttl 0, or put the route in the identity sources"
    )


def _route_findings(
    policy: CompiledPolicy, rule: CompiledRule, key: CacheKey, simple: bool, can_allow: bool
) -> Iterator[Finding]:
    if not can_allow:  # every answer refuses, cached or not
        return
    routes = ", ".join(p.text for p in rule.routes or ())
    where = (*rule.loc, "routes")
    if key.per_route:  # the key holds the template, but patterns match concrete paths
        yield Finding(
            where,
            f"rule {rule.name!r} matches concrete paths ({routes}), but per_route keys the cache on the route "
            f"template ($context.routeKey): a template such as ANY /{{proxy+}} spans paths the rule tells apart; "
            f"write the condition as `route.key: ...`, or set the TTL to 0",
            True,
        )
        return
    if simple:
        yield Finding(
            where,
            f"rule {rule.name!r} decides per route, but a cached simple response applies to every route for "
            f"{key.ttl} s: add $context.routeKey to the identity sources (cache.per_route: true) or set cache.ttl 0",
            True,
        )
        return
    if rule.effect == "deny":
        wide = [r for r in policy.rules if r.effect == "allow" and r.resource in ("stage", "api")]
        if wide:
            yield Finding(
                where,
                f"rule {rule.name!r} denies only {routes}, but an Allow cached on another route covers them "
                f"(rule {wide[0].name!r}, resource: {wide[0].resource}): for {key.ttl} s the Deny is never "
                f"evaluated; make the Allow `resource: routes`, or set the TTL to 0",
                True,
            )
    elif rule.resource in ("stage", "api"):
        yield Finding(
            where,
            f"allow rule {rule.name!r} is limited to some routes ({routes}), but its Allow covers the whole "
            f"{rule.resource}: API Gateway caches it for {key.ttl} s and lets the caller call every route "
            "meanwhile; use `resource: routes`, cache.ttl 0, or put the route in the identity sources "
            "(cache.per_route: true)",
            True,
        )
    elif rule.resource == "routes":
        for pattern in rule.routes or ():
            if pattern.exact_path is None and "{" in pattern.text:
                example = re.sub(r"\{[^}]+\}", "1", pattern.text.split(" ", 1)[-1]) + "/admin"
                yield Finding(
                    where,
                    f"allow rule {rule.name!r} allows {pattern.text} as `{pattern.iam_path}`, and in a policy `*` "
                    f"also matches `/`: an Allow cached for {key.ttl} s covers deeper paths ({example}) the rule "
                    "never allowed; list those routes too, use `*` only where any path may follow, or set the TTL to 0",
                    True,
                )
    yield Finding(
        where,
        f"rule {rule.name!r} applies to {routes} only, but the cache key holds no route: for {key.ttl} s an "
        "answer cached on one route is reused on the caller's others (refused there, or refusing here); "
        "set the TTL to 0, or put the route in the identity sources",
        False,
    )


def advice(policy: CompiledPolicy, cache: Mapping[str, Any] | None) -> str:
    """One line for a deployer: whether AuthorizerCacheTtl may be above 0, and if not the first reason."""
    found = findings(policy, cache_key(policy, cache, assume_ttl=True))
    if not found:
        return "caching (AuthorizerCacheTtl) is safe: every request sharing a cache key gets the same answer"
    opens = [f for f in found if f.opens]
    first = (opens or found)[0]
    effect = "would let in requests the policy refuses" if opens else "would refuse requests the policy allows"
    return f"keep AuthorizerCacheTtl=0: caching {effect} ({first.message})"
