"""Split each identity source's values into the classes that the conditions of both versions tell
apart, and pick one value per class: a request needs to try only one value of each.

For every source: missing; each literal of an equality or list and "anything else"; the edges of
every numeric bound and CIDR network (one below, at, one above; IPv4 also as IPv4-mapped IPv6);
for `prefix`/`suffix`/`contains`/`glob`/`regex`, a shortest string in every cell of the languages'
Venn diagram (languages.py), which includes the strings in the difference between an old and a
new pattern; and for names that can arrive more than once, two different values. Values that
every test on the source answers alike are one class. What cannot be split exactly is recorded
as `Unproven`: the comparison stays a search there, not a proof.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations, pairwise
from typing import Any

from authorizer.diff.languages import Unanalysable, language, literal, nonempty, pattern, split, witness
from authorizer.diff.versions import stand_in
from authorizer.policy.ir import AllOf, AnyOf, Check, CompiledRule, JmesCheck, Node, Not, SourceMatch
from authorizer.policy.lint import argument
from authorizer.policy.load import LoadedPolicy
from authorizer.policy.operators import as_float
from authorizer.policy.sources import REDACTED, is_claim, source_key

Value = tuple[Any, ...] | None  # the values a source holds; None: missing
Route = tuple[str, str]  # (method, concrete path)

MAX_CELLS = 64
_LITERAL_OPS = ("equals", "not_equals", "one_of", "not_one_of")
_LANGUAGE_OPS = ("prefix", "suffix", "contains", "glob", "regex")
_NUMERIC_OPS = ("lt", "le", "gt", "ge")
REPEATABLE = ("header.", "query.", "cookie.")  # names a request can carry more than once
ROUTE_SOURCES = ("kind", "route.method", "route.path")  # set by the event kind and the route, not by a value
_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


@dataclass(frozen=True, slots=True)
class Unproven:
    """A condition the classes do not split exactly: its changes are searched for, not proven absent."""

    at: str
    condition: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"at": self.at, "condition": self.condition, "reason": self.reason}


@dataclass(slots=True)
class SourceClasses:
    source: str
    values: list[Value]  # one per class; the first is missing
    sensitive: bool


@dataclass(slots=True)
class Analysis:
    """What requests must vary: every source either version reads, with its classes, and the routes."""

    sources: dict[str, SourceClasses]
    routes: list[Route]
    unproven: list[Unproven] = field(default_factory=list)


def walk(nodes: tuple[Node, ...]) -> Iterator[Check | SourceMatch | JmesCheck]:
    """Every check in a condition tree, however deeply nested in any/all/not."""
    for node in nodes:
        if isinstance(node, AllOf | AnyOf):
            yield from walk(node.children)
        elif isinstance(node, Not):
            yield from walk((node.child,))
        else:
            yield node


def _operators(spec: Any) -> Iterator[tuple[str, Any]]:
    """(operator, argument) pairs of a written condition, `not` included: a scalar is `equals`, a list `one_of`."""
    if isinstance(spec, dict):
        for op, arg in spec.items():
            if op == "not":
                yield from _operators(arg)
            elif op != "values":
                yield op, arg
    else:
        yield ("one_of" if isinstance(spec, list) else "equals"), spec


def _written(check: Check, loaded: LoadedPolicy) -> Iterator[tuple[str, Any]]:
    if check.op == "not" or "+" in check.op:  # the inner operators, or a `values: any` merge
        yield from _operators(argument(loaded.data, check))
    else:
        yield check.op, argument(loaded.data, check)


def _shown(check: Check) -> str:
    return f"{check.source} {check.op}"


def _vector(checks: list[Check], value: Any) -> tuple[Any, ...]:
    out: list[Any] = []
    for check in checks:
        try:
            out.append(check.test(value))
        except Exception:  # a test that raises is refused by the engine: its own class
            out.append("error")
    return tuple(out)


def _number_text(number: float) -> str:
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _numeric_edges(bounds: list[float]) -> list[str]:
    edges: list[float] = []
    ordered = sorted(set(bounds))
    for b in ordered:
        edges += [b - 1, b, b + 1, math.nextafter(b, -math.inf), math.nextafter(b, math.inf)]
    edges += [(a + b) / 2 for a, b in pairwise(ordered)]
    return [_number_text(e) for e in edges if math.isfinite(e)]


def _cidr_edges(networks: list[str]) -> list[str]:
    out: list[str] = []
    for text in networks:
        net = ipaddress.ip_network(text, strict=False)
        first, last = int(net.network_address), int(net.broadcast_address)
        top = (1 << net.max_prefixlen) - 1
        for n in (first - 1, first, last, last + 1):
            if 0 <= n <= top:
                address = ipaddress.ip_address(n) if net.version == 4 else ipaddress.IPv6Address(n)
                out.append(str(address))
                if net.version == 4:
                    out.append(f"::ffff:{address}")
    return out


def _named(node: Check | SourceMatch) -> tuple[str, ...]:
    return (node.source, node.other) if isinstance(node, SourceMatch) else (node.source,)


class _Builder:
    def __init__(self, old: LoadedPolicy, new: LoadedPolicy) -> None:
        self.versions = (old, new)
        self.unproven: list[Unproven] = []
        self.checks: dict[str, list[tuple[Check, LoadedPolicy]]] = {}
        self.outputs: dict[str, bool] = {}  # source read by an output → sensitive
        self.shared: set[str] = set()  # sources compared with another: they need a value in common
        for loaded in self.versions:
            for rule in loaded.policy.rules:
                self.rule(rule, loaded)

    def rule(self, rule: CompiledRule, loaded: LoadedPolicy) -> None:
        for node in walk(rule.conditions):
            if not isinstance(node, JmesCheck) and any(is_claim(s) for s in _named(node)):
                reason = "claims of a verified token are not generated (requests carry no token): not searched for"
                self.note(loaded.where(node.loc), f"{node.source} {node.op}", reason)
            elif isinstance(node, JmesCheck):
                reason = "JMESPath is not analysed: covered by the generated requests (and samples) and the corpus only"
                shown = REDACTED if node.sensitive else repr(node.expression)
                self.note(loaded.where(node.loc), f"jmespath {shown}", reason)
            elif isinstance(node, SourceMatch):
                reason = "two sources compared: tried equal and different, not split exactly"
                self.note(loaded.where(node.loc), f"{node.source} {node.op} {{from: {node.other}}}", reason)
                for source in (node.source, node.other):
                    self.checks.setdefault(source, [])
                    self.shared.add(source)
            else:
                self.checks.setdefault(node.source, []).append((node, loaded))
        outputs = [rule.principal, *(out for _, out in rule.context)]
        if rule.usage_identifier_key is not None:
            outputs.append(rule.usage_identifier_key)
        for out in outputs:
            if out.source is not None and not is_claim(out.source):
                self.outputs[out.source] = self.outputs.get(out.source, False) or out.sensitive

    def note(self, at: str, condition: str, reason: str) -> None:
        found = Unproven(at, condition, reason)
        if found not in self.unproven:
            self.unproven.append(found)

    def candidates(self, source: str, found: list[tuple[Check, LoadedPolicy]]) -> list[Any]:
        """Values of `source`, at least one per class; the unproven splits recorded."""
        literals: list[Any] = []
        atoms = []
        bounds: list[float] = []
        networks: list[str] = []
        for check, loaded in found:
            if check.mode != "single":
                self.note(
                    loaded.where(check.loc), _shown(check), f"values: {check.mode} is tried with two values at most"
                )
            for op, arg in _written(check, loaded):
                if op in _LITERAL_OPS:
                    literals += arg if isinstance(arg, list) else [arg]
                elif op == "secret":
                    literals.append(stand_in(loaded.data, arg))
                elif op in _LANGUAGE_OPS:
                    try:
                        atoms.append(language(op, arg))
                    except Unanalysable as exc:
                        self.note(loaded.where(check.loc), f"{check.source} {op} {arg!r}", str(exc))
                elif op in _NUMERIC_OPS:
                    bounds.append(as_float(arg))
                elif op == "cidr":
                    networks += [arg] if isinstance(arg, str) else arg
                elif op != "exists":  # present/missing is every class `exists` needs
                    self.note(loaded.where(check.loc), f"{check.source} {op}", "no value classes for this operator")
        families = [bool(atoms), bool(bounds), bool(networks)]
        if sum(families) > 1:
            at = self.versions[1].where(found[-1][0].loc)
            self.note(at, source, "string patterns, numbers and networks on one source are split separately")
        strings = [v for v in literals if isinstance(v, str) and v]
        values: list[Any] = [v for v in literals if not isinstance(v, str)]
        if atoms:
            try:
                cells = split(nonempty(), [*atoms, *map(literal, dict.fromkeys(strings))], MAX_CELLS)
                values += [w for w in map(witness, cells) if w]
            except Unanalysable as exc:
                self.note(self.versions[1].where(found[-1][0].loc), source, str(exc))
        values = [*strings, *values, f"other-{source.partition('.')[2] or source}"]
        return values + _numeric_edges(bounds) + _cidr_edges(networks)

    def source(self, source: str) -> SourceClasses:
        found = self.checks.get(source, [])
        checks = [c for c, _ in found]
        stringly = not source.startswith("context.")
        classes: dict[tuple[Any, ...], Any] = {}
        for value in self.candidates(source, found):
            if (isinstance(value, str) or not stringly) and value != "":
                classes.setdefault(_vector(checks, value), value)
        singles = list(classes.values())
        if source in self.shared:  # a value every compared source can hold, so that they can be equal
            singles.append("shared-value")
        values: list[Value] = [None, *((v,) for v in singles)]
        if source.startswith(REPEATABLE) and singles:
            pool = [*singles[:4], f"{singles[0]}-2"] if len(singles) == 1 else singles[:4]
            pairs = list(combinations(pool, 2))
            many = any(c.mode != "single" for c in checks)
            values += [tuple(p) for p in (pairs if many else pairs[:1])]
        sensitive = (
            any(c.sensitive for c in checks)
            or self.outputs.get(source, False)
            or any(source_key(source) in loaded.policy.sensitive for loaded in self.versions)
        )
        return SourceClasses(source, values, sensitive)

    def routes(self) -> list[Route]:
        patterns = [p for loaded in self.versions for r in loaded.policy.rules for p in r.routes or () if p.method]
        method_checks = [c for c, _ in self.checks.get("route.method", [])]
        path_checks = self.checks.get("route.path", [])
        methods = {p.method for p in patterns if p.method != "*"} | {"GET"}
        for check, loaded in self.checks.get("route.method", []):
            for op, arg in _written(check, loaded):
                if op in _LITERAL_OPS:
                    methods.update(v for v in (arg if isinstance(arg, list) else [arg]) if isinstance(v, str) and v)
                else:
                    self.note(loaded.where(check.loc), _shown(check), "only literal methods are split")
        methods.add(next(m for m in (*_METHODS, "TRACE") if m not in methods))
        paths = ["/"]
        atoms = []
        for p in patterns:
            atoms.append(literal(p.exact_path) if p.exact_path is not None else pattern(p.path_regex or ""))
        for check, loaded in path_checks:
            for op, arg in _written(check, loaded):
                try:
                    atoms.append(language(op, arg))
                except Unanalysable as exc:
                    self.note(loaded.where(check.loc), _shown(check), str(exc))
        if atoms:
            try:
                paths += [w for w in map(witness, split(nonempty("/"), atoms, MAX_CELLS)) if w]
            except Unanalysable as exc:
                self.note(self.versions[1].name, "routes", str(exc))
                paths += [p.exact_path for p in patterns if p.exact_path]
        checks = [c for c, _ in path_checks]
        classes: dict[tuple[Any, ...], Route] = {}
        for method in sorted(methods):
            for path in paths:
                vector = (
                    tuple(p.matches(method, path) for p in patterns)
                    + _vector(method_checks, method)
                    + _vector(checks, path)
                )
                classes.setdefault(vector, (method, path))
        return list(classes.values())


def analyse(old: LoadedPolicy, new: LoadedPolicy) -> Analysis:
    """The sources and routes to vary to compare `old` and `new`, with their classes of values."""
    builder = _Builder(old, new)
    names = [s for s in dict.fromkeys([*builder.checks, *builder.outputs]) if s not in ROUTE_SOURCES]
    sources = {name: builder.source(name) for name in names}
    return Analysis(sources, builder.routes(), builder.unproven)
