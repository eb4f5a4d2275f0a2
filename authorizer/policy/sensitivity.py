"""Which identity sources of a policy bear secrets, and whether a place in the policy text is under a
condition on one: one definition for the compiler (digests, redaction) and for every message about
the text (nothing written under such a condition is ever quoted, not even in an error).

A source bears secrets for the whole policy when its name looks secret-bearing (`auth`, `token`,
`key`, a cookie, ...), when `redact:` names it (even where no rule reads it: the local gateway shows
it), when a bearer token travels in it (`tokens.from`, whatever its name), when it is compared with
a `secret:` anywhere, or when it is compared with such a source (`{from: ...}`). The policy may not
have validated yet (its errors are being described), so the data is read defensively: anything of
the wrong shape is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from authorizer.policy.errors import Loc
from authorizer.policy.sources import is_sensitive, source_key

NOT_SHOWN = "not shown: its source bears secrets"  # in a message, in place of what it must not quote
_GROUPS = ("any", "all")  # lists of `when` mappings


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def conditions(when: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (source, operators) of a `when`, through `any`, `all` and `not` (shorthand spelled out)."""
    if not isinstance(when, Mapping):
        return
    for key, value in when.items():
        if key in _GROUPS:
            for inner in _list(value):
                yield from conditions(inner)
        elif key == "not":
            yield from conditions(value)
        elif key != "jmespath" and isinstance(key, str):
            yield key, value if isinstance(value, dict) else {"one_of" if isinstance(value, list) else "equals": value}


def sensitive_sources(data: Any) -> frozenset[str]:
    """The secret-bearing sources of a policy, as `source_key`s."""
    if not isinstance(data, Mapping):
        return frozenset()
    redact = frozenset(s for s in _list(data.get("redact")) if isinstance(s, str))
    rules = [r for r in _list(data.get("rules")) if isinstance(r, Mapping)]
    named: set[str] = set(redact)
    pairs: list[tuple[str, str]] = []
    tokens = data.get("tokens")
    carriers = _list(tokens.get("from")) if isinstance(tokens, Mapping) else []
    sensitive: set[str] = {source_key(c) for c in carriers if isinstance(c, str)}  # the token itself
    for rule in rules:
        for source, ops in conditions(rule.get("when")):
            named.add(source)
            inner = ops.get("not")
            if "secret" in ops or (isinstance(inner, dict) and "secret" in inner):
                sensitive.add(source_key(source))
            for arg in (ops.get("equals"), ops.get("not_equals")):
                if isinstance(arg, dict) and isinstance(arg.get("from"), str):
                    pairs.append((source, arg["from"]))
                    named.add(arg["from"])
        context = rule.get("context")
        outputs = [rule.get("principal"), rule.get("usage_identifier_key")]
        for output in [*outputs, *(context.values() if isinstance(context, Mapping) else ())]:
            if isinstance(output, dict) and isinstance(output.get("from"), str):
                named.add(output["from"])
    sensitive |= {source_key(source) for source in named if is_sensitive(source, redact)}
    changed = True
    while changed:  # a value equal to a secret-bearing one bears it too
        changed = False
        for a, b in pairs:
            if (source_key(a) in sensitive) != (source_key(b) in sensitive):
                sensitive |= {source_key(a), source_key(b)}
                changed = True
    return frozenset(sensitive)


def condition_source(loc: Loc) -> str | None:
    """The identity source whose condition `loc` is at or in (`rules.N.when[.any.N|.all.N|.not]*.SOURCE...`)."""
    if len(loc) < 4 or loc[0] != "rules" or loc[2] != "when":
        return None
    rest = loc[3:]
    while rest:
        head = rest[0]
        if head in _GROUPS and len(rest) > 1 and isinstance(rest[1], int):
            rest = rest[2:]
        elif head == "not":
            rest = rest[1:]
        elif isinstance(head, str) and head not in _GROUPS and head != "jmespath":
            return head
        else:
            return None
    return None


def under_secret(loc: Loc, sensitive: frozenset[str]) -> bool:
    """Whether `loc` is at or under a condition on a secret-bearing source: never quote what is there."""
    source = condition_source(loc)
    return source is not None and source_key(source) in sensitive
