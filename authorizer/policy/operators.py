"""Condition operators, as one table: operator → how one value is tested.

Each entry says what its argument is, how the argument becomes a per-value test (built once, when
the policy is compiled), whether the rule index may key rules on it (by value, or by an RE2 pattern
equivalent to the test), and whether its comparison takes constant time. A new operator is an
entry here plus its field in `model.Operators`.

Values compare type-strictly (`"1"`, `1` and `true` never equal each other). Equality on a
secret-bearing source compares SHA-256 digests with `hmac.compare_digest`, never the raw values,
so neither the time taken nor an index lookup depends on how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

from authorizer.policy.secrets import SecretLookup, SecretUnavailable, read_secret
from authorizer.policy.sensitivity import NOT_SHOWN

Test = Callable[[Any], bool | None]  # None: the test cannot tell (a secret that cannot be read)
PairTest = Callable[[Any, Any], bool]  # the value of one source against the value of another
ConstantTime = Literal["no", "on secret-bearing sources", "digest lookup on secret-bearing sources", "yes"]


class OperatorError(ValueError):
    """A bad argument: (position in a list argument or None, message) for each problem."""

    def __init__(self, problems: list[tuple[int | None, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


class Setting:
    """What a test is built for: the source's sensitivity, and the policy's secrets. (Plain classes
    here: a dataclass or a NamedTuple costs every cold start a few hundred µs to create.)"""

    __slots__ = ("secret_names", "secrets", "sensitive")

    def __init__(self, sensitive: bool, secrets: SecretLookup, secret_names: frozenset[str]) -> None:
        self.sensitive = sensitive
        self.secrets = secrets
        self.secret_names = secret_names


class Operator:
    """One operator of the language: how its test is built, and what the index, `not`, missing values
    and the constant-time table need to know of it."""

    __slots__ = (
        "between_sources",
        "build",
        "constant_time",
        "in_not",
        "indexable",
        "name",
        "pattern",
        "takes_values",
        "when_missing",
    )

    def __init__(
        self,
        name: str,
        build: Callable[[Any, Setting], Test],  # argument → per-value test; OperatorError on a bad argument
        indexable: bool = False,  # with `values: single`, the rule index may key rules on the argument
        constant_time: ConstantTime = "no",
        in_not: bool = True,  # may be used inside `not`
        when_missing: Callable[[Any], bool | None] | None = None,  # the answer for a missing source (default unknown)
        # `{from: SOURCE}` as the argument: the test of one source's value against another's (sensitive → digests)
        between_sources: Callable[[bool], PairTest] | None = None,
        # its argument is values of the source (or a list of them): on a source that only holds text, a
        # literal YAML read as a number, boolean or date (yes, 0123, 2024-01-01) is a trap, refused at load
        takes_values: bool = False,
        # the argument → an RE2 pattern matching, as a whole, exactly the texts the test accepts (as UTF-8):
        # the rule index may key rules on it, every rule's pattern run at once (policy/index.py)
        pattern: Callable[[Any], str] | None = None,
    ) -> None:
        self.name = name
        self.build = build
        self.indexable = indexable
        self.constant_time = constant_time
        self.in_not = in_not
        self.when_missing = when_missing
        self.between_sources = between_sources
        self.takes_values = takes_values
        self.pattern = pattern


# -- values -----------------------------------------------------------------------------------------
def typed_key(value: Any) -> tuple[str, Any] | None:
    """Hashable key with type-strict equality: "1", 1 and true never collide (1 == True in Python)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else ("num", value)
    if isinstance(value, str):
        return ("str", value)
    return None


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def secret_key(value: Any) -> tuple[str, Any] | None:
    """Comparison key for values of secret-bearing sources: strings by digest, never raw."""
    return ("sha256", digest(value)) if isinstance(value, str) else typed_key(value)


def key_function(sensitive: bool) -> Callable[[Any], tuple[str, Any] | None]:
    """How values of a source are keyed for equality: by digest when the source bears secrets."""
    return secret_key if sensitive else typed_key


def as_float(number: int | float) -> float:
    """float(), saturating: an int beyond the double range is ±inf rather than an OverflowError."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return as_float(value)
    if isinstance(value, str) and len(value) <= 64:
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def glob_regex(pattern: str) -> str:
    """`*` any characters, `?` one character, everything else literal: as an RE2 pattern."""
    return "(?s)" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


_ANY_BYTES = r"\C*"  # RE2: any bytes, even those of no UTF-8 character (a lone surrogate's)


def _prefix_regex(arg: str) -> str:
    return re.escape(arg) + _ANY_BYTES


def _suffix_regex(arg: str) -> str:
    return _ANY_BYTES + re.escape(arg)


def _contains_regex(arg: str) -> str:
    return _ANY_BYTES + re.escape(arg) + _ANY_BYTES


# -- builders ---------------------------------------------------------------------------------------
def _equality(expected: Any, setting: Setting) -> Test:
    if setting.sensitive and isinstance(expected, str):
        want = digest(expected)
        return lambda v: isinstance(v, str) and hmac.compare_digest(digest(v), want)
    if isinstance(expected, bool):
        return lambda v: v is expected
    if isinstance(expected, str):
        return lambda v: v == expected  # a str never equals a non-str
    return lambda v: type(v) is not bool and isinstance(v, int | float) and v == expected


def _not_equals(expected: Any, setting: Setting) -> Test:
    equal = _equality(expected, setting)
    return lambda v: not equal(v)


def _same_values(sensitive: bool) -> PairTest:
    """Two sources' values are equal, type-strictly; strings of secret-bearing sources by digest."""
    if sensitive:
        return lambda a, b: (
            hmac.compare_digest(digest(a), digest(b))
            if isinstance(a, str) and isinstance(b, str)
            else typed_key(a) is not None and typed_key(a) == typed_key(b)
        )
    return lambda a, b: typed_key(a) is not None and typed_key(a) == typed_key(b)


def _different_values(sensitive: bool) -> PairTest:
    same = _same_values(sensitive)
    return lambda a, b: not same(a, b)


def _one_of(listed: Sequence[Any], setting: Setting) -> Test:
    key_of = key_function(setting.sensitive)
    keys = frozenset(k for k in map(key_of, listed) if k is not None)
    return lambda v: key_of(v) in keys


def _not_one_of(listed: Sequence[Any], setting: Setting) -> Test:
    key_of = key_function(setting.sensitive)
    keys = frozenset(k for k in map(key_of, listed) if k is not None)
    return lambda v: key_of(v) not in keys  # like not_equals: any present value but these


def _prefix(arg: str, setting: Setting) -> Test:
    return lambda v: isinstance(v, str) and v.startswith(arg)


def _suffix(arg: str, setting: Setting) -> Test:
    return lambda v: isinstance(v, str) and v.endswith(arg)


def _contains(arg: str, setting: Setting) -> Test:
    return lambda v: isinstance(v, str) and arg in v


def _matcher(pattern: str, setting: Setting, what: str) -> Test:
    from authorizer.policy.regex import FullMatcher, RegexError

    try:
        matcher = FullMatcher(pattern)
    except RegexError as exc:  # on a secret-bearing source the pattern may hold a secret: not a character of it
        message = f"invalid {what} ({NOT_SHOWN}): {exc.problem}" if setting.sensitive else str(exc)
        raise OperatorError([(None, message)]) from None
    return lambda v: isinstance(v, str) and matcher(v)


def _regex(arg: str, setting: Setting) -> Test:
    return _matcher(arg, setting, "regular expression")


def _glob(arg: str, setting: Setting) -> Test:
    return _matcher(glob_regex(arg), setting, "glob")


def _cidr(arg: str | list[str], setting: Setting) -> Test:
    import ipaddress  # ~3 ms of a cold start: only for policies with a `cidr` condition

    parse, v6 = ipaddress.ip_address, ipaddress.IPv6Address

    networks = []
    problems: list[tuple[int | None, str]] = []
    for i, text in enumerate([arg] if isinstance(arg, str) else arg):
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            shown = f"({NOT_SHOWN})" if setting.sensitive else repr(text)
            problems.append((None if isinstance(arg, str) else i, f"invalid CIDR {shown}"))
    if problems:
        raise OperatorError(problems)
    nets = tuple(networks)

    def in_networks(v: Any) -> bool:
        if not isinstance(v, str) or len(v) > 64:
            return False
        try:
            address = parse(v.strip())
        except ValueError:
            return False
        if isinstance(address, v6) and address.ipv4_mapped is not None:  # ::ffff:10.0.0.1 is 10.0.0.1
            address = address.ipv4_mapped
        return any(address in n for n in nets)

    return in_networks


def _bound(compare: Callable[[float, float], bool]) -> Callable[[int | float, Setting], Test]:
    def build(arg: int | float, setting: Setting) -> Test:
        bound = as_float(arg)

        def numeric(v: Any) -> bool:
            n = _number(v)
            return n is not None and compare(n, bound)

        return numeric

    return build


def _exists(arg: bool, setting: Setting) -> Test:
    return (lambda v: True) if arg else (lambda v: False)


def _secret(name: str, setting: Setting) -> Test:
    if name not in setting.secret_names:
        raise OperatorError([(None, f"unknown secret {name!r}; declare it under `secrets:`")])
    lookup = setting.secrets
    known: list[Any] = [None, b""]  # the secret's last value and its digest, kept while it stays the same

    def secret_equals(v: Any) -> bool | None:
        if not isinstance(v, str):
            return False
        try:
            secret = read_secret(lookup, name)
        except SecretUnavailable:  # unknown, not unequal: `not: {secret: ...}` must not hold either
            return None
        if secret != known[0]:  # the secret against its own last value: nothing the caller sent
            known[:] = [secret, digest(secret)]
        return hmac.compare_digest(digest(v), known[1])

    return secret_equals


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator(
            "equals",
            _equality,
            indexable=True,
            constant_time="on secret-bearing sources",
            between_sources=_same_values,
            takes_values=True,
        ),
        Operator(
            "not_equals",
            _not_equals,
            constant_time="on secret-bearing sources",
            between_sources=_different_values,
            takes_values=True,
        ),
        Operator(
            "one_of",
            _one_of,
            constant_time="digest lookup on secret-bearing sources",
            takes_values=True,
        ),
        Operator(
            "not_one_of",
            _not_one_of,
            constant_time="digest lookup on secret-bearing sources",
            takes_values=True,
        ),
        Operator("prefix", _prefix, pattern=_prefix_regex),
        Operator("suffix", _suffix, pattern=_suffix_regex),
        Operator("contains", _contains, pattern=_contains_regex),
        Operator("regex", _regex, pattern=str),
        Operator("glob", _glob, pattern=glob_regex),
        Operator("cidr", _cidr),
        Operator("lt", _bound(lambda n, bound: n < bound)),
        Operator("le", _bound(lambda n, bound: n <= bound)),
        Operator("gt", _bound(lambda n, bound: n > bound)),
        Operator("ge", _bound(lambda n, bound: n >= bound)),
        Operator("exists", _exists, in_not=False, when_missing=lambda arg: None if arg else True),
        Operator("secret", _secret, constant_time="yes"),
    )
}
