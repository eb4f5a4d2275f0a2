"""Mutated copies of every shipped policy, each with the group of change it must produce and the
other groups it may produce as a side effect (with why)."""

from __future__ import annotations

from dataclasses import dataclass

BLOCK = "rules:\n  - name: new-block\n    effect: deny\n    when:\n      source_ip: {cidr: 198.51.100.0/28}\n\n"


@dataclass(frozen=True)
class Mutation:
    policy: str
    name: str
    edits: tuple[tuple[str, str], ...]  # (text, replacement), each text must occur
    group: str  # the change it makes
    also: frozenset[str] = frozenset()  # side effects it may have too


# a new Deny in a policy with simple responses: 401 → 403 for IAM kinds, the refusal's principal for
# Deny → Deny (outputs), and for simple responses the same {"isAuthorized": false} by another rule
_REFUSALS = frozenset({"401-403", "outputs", "attribution"})
_MOVED_READ = (
    '  - name: public-read\n    effect: allow\n    routes: ["GET /pets", "GET /pets/{id}"]\n'
    "    principal: anonymous\n    context: {role: public}\n\n"
)

MUTATIONS = [
    Mutation("api-keys", "narrowed CIDR", (("198.51.100.0/24", "198.51.100.0/25"),), "narrowed"),
    # a Deny where there was a 401 before is 401 → 403 (requests with no key from the block)
    Mutation("api-keys", "added block list", (("\nrules:\n", "\n" + BLOCK),), "narrowed", frozenset({"401-403"})),
    Mutation("api-keys", "changed context value", (("tier: gold", "tier: platinum"),), "outputs"),
    Mutation("example", "changed context value", (("numberKey: 123", "numberKey: 124"),), "outputs"),
    Mutation("example", "added block list", (("\nrules:\n", "\n" + BLOCK),), "narrowed", frozenset({"401-403"})),
    Mutation(
        "example",
        "loosened prefix",
        (("header.HeaderAuth1: headerValue1", "header.HeaderAuth1: {prefix: header}"),),
        "widened",
    ),
    Mutation("http-routes", "loosened regex", (("[a-z][a-z0-9._-]{1,31}", "[a-zA-Z][a-zA-Z0-9._-]{1,31}"),), "widened"),
    Mutation("http-routes", "widened regex length", (("{1,31}", "{1,63}"),), "widened"),
    # the retired client's Deny now catches more user agents (side effects as for a new Deny)
    Mutation(
        "http-routes", "loosened prefix", (('"petstore-client/0."', '"petstore-client/"'),), "narrowed", _REFUSALS
    ),
    Mutation(
        "http-routes",
        "a new allowed method",
        (('"PUT /pets/{id}"]', '"PUT /pets/{id}", "PATCH /pets/{id}"]'),),
        "widened",
    ),
    Mutation(
        "http-routes",
        "a rule moved above another",
        ((_MOVED_READ, ""), ("  - name: retired-client", _MOVED_READ + "  - name: retired-client")),
        "widened",
    ),
    Mutation(
        "http-routes", "changed context value", (("context: {role: public}", "context: {role: reader}"),), "outputs"
    ),
    Mutation("http-routes", "added block list", (("\nrules:\n", "\n" + BLOCK),), "narrowed", _REFUSALS),
    Mutation(
        "websocket-chat",
        "a new origin",
        (("https://www.example.com]", "https://www.example.com, https://beta.example.com]"),),
        "widened",
    ),
    Mutation("websocket-chat", "widened regex length", (("{1,32}", "{1,64}"),), "widened"),
    Mutation("websocket-chat", "loosened regex", (("[a-z0-9-]{1,32}", "[a-z0-9_-]{1,32}"),), "widened"),
    Mutation("websocket-chat", "added block list", (("\nrules:\n", "\n" + BLOCK),), "narrowed", frozenset({"401-403"})),
]


def mutate(text: str, mutation: Mutation) -> str:
    for old, new in mutation.edits:
        assert old in text, f"{mutation.policy}: {old!r} not found"
        text = text.replace(old, new, 1) if mutation.name == "a rule moved above another" else text.replace(old, new)
    return text
