"""A compiled policy as generated Python: the back end `lambda_handler` asks first.

The engine (engine.py) walks rule and condition objects: a call per condition and per lookup, a
Request and a Decision per event. Here the same rules become straight-line Python, generated once
per policy: each lookup read at most once per request; single-valued checks written out (a missing
value or several different values fail, through `conditions.ambiguous`; plain string equality
inline, other tests the compiled test itself), other value modes and `exists: false` through
`conditions.judge`, combinators and JMESPath through `conditions.holds`, outputs and resources
through `outcome.py`, responses built and checked by `response.py`. Nothing from the policy is
written into the source: values, names and tests are bound by reference (`c0`, `c1`, ...), so no
policy text can change the code.

Two shapes. A small policy without an index is one function, each rule a block left with `break`,
lookups in locals. Otherwise each rule is a function (lookups shared through a list) and the index
picks which to try; rules that differ only in their values (1,000 API keys) share one compiled
body, so generating stays proportional to the number of distinct rule shapes.

It answers `(rule, principal, response, because)`: the deciding rule (None when none matched), the
principal (for the decision line), the response (None for a 401), and why claims were missing when
no rule matched (the token's reason code, for the decision line; None otherwise). It answers only
when it answers exactly as the engine would. Whatever else happens
(an output source missing or ambiguous, a response API Gateway would reject, any exception) it
gives FALLBACK, and the caller asks the engine, which refuses and says why. This module never
imports the engine: tests hold the two to the same answers over random policies and events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

from authorizer.decide.conditions import ambiguous, holds, judge, missing_because
from authorizer.decide.outcome import (
    NO_MATCH_PRINCIPAL,
    UNRESOLVED,
    joined,
    no_match_effect,
    no_match_scope,
    principal_id,
    resolved,
    resources,
    usage_key,
)
from authorizer.decide.response import (
    ESCAPED,
    FIXED_SIZE,
    InvalidResponse,
    ResponseMode,
    check_context,
    check_resources,
    check_size,
    iam_response,
    simple_response,
    text_size,
    uses_simple,
)
from authorizer.event.arn import ExecuteApiArn
from authorizer.event.kinds import REST, EventKind
from authorizer.event.readers import classify
from authorizer.event.request import Request
from authorizer.policy.ir import Check, CompiledPolicy, CompiledRule, Node, Output
from authorizer.policy.sources import Getter, Lookup, headers_reader

log = logging.getLogger("authorizer.policy")
FastDecide = Callable[[dict[str, Any], EventKind, str, ExecuteApiArn, bool], Any]
INLINE_MAX_RULES = 32  # beyond this (or with an index) rules become functions: bounded generation time


class _Fallback:
    def __repr__(self) -> str:
        return "FALLBACK"


FALLBACK: Any = _Fallback()  # "ask the engine": never a response
_UNSET = object()  # a lookup not read yet in this request
_NO_MATCH = object()  # a rule function's "did not apply"
_GLOBALS = {
    "UNSET": _UNSET,
    "NO_MATCH": _NO_MATCH,
    "FALLBACK": FALLBACK,
    "UNRESOLVED": UNRESOLVED,
    "REQUEST": Request,
    "AMBIGUOUS": ambiguous,
    "JUDGE": judge,
    "HOLDS": holds,
    "BECAUSE": missing_because,
    "RESOLVED": resolved,
    "JOINED": joined,
    "PRINCIPAL": principal_id,
    "USAGE_KEY": usage_key,
    "RESOURCES": resources,
    "IAM": iam_response,
    "SIMPLE": simple_response,
    "CHECK_RESOURCES": check_resources,
    "CHECK_CONTEXT": check_context,
    "CHECK_SIZE": check_size,
}


class _Body:
    """The lines of one rule (or of the decide function) and the values they refer to, named in
    order of use (`{prefix}c0`, `{prefix}c1`, ...): two rules of the same shape get the same text."""

    def __init__(
        self, prefix: str, slots: dict[str, int], slot_in_list: bool, fail: str, read_first: frozenset[str]
    ) -> None:
        self.lines: list[str] = []
        self.bound: list[tuple[str, Any]] = []
        self.prefix = prefix
        self.slots = slots  # lookup key → slot, shared by every rule of the policy
        self.slot_in_list = slot_in_list
        self.fail = fail
        self.read_first = read_first  # slots filled before any rule (`read_value_maps`)

    def bind(self, value: Any) -> str:
        name = f"{self.prefix}c{len(self.bound)}"
        self.bound.append((name, value))
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def slot(self, key: str) -> str:
        index = self.slots.setdefault(key, len(self.slots))
        return f"m[{index}]" if self.slot_in_list else f"s{index}"

    def load(self, indent: int, found: Lookup, get: Getter | None) -> None:
        """`v` = the values `found` reads, read on first use in this request (or before any rule).
        A source read from a basis (a `jwt.*` claim) goes through its getter on the request, where
        the basis (the verified token) is computed once, whoever reads it first: a combinator too."""
        slot = self.slot(found.key)
        self.emit(indent, f"v = {slot}")
        if found.key in self.read_first:
            return
        self.emit(indent, "if v is UNSET:")
        if found.basis is None or get is None:
            self.emit(indent + 1, f"v = {slot} = {self.bind(found.read)}(ev, kind, a)")
        else:
            request = self.request(indent + 1)
            self.emit(indent + 1, f"v = {slot} = {self.bind(get)}({request})")

    def request(self, indent: int) -> str:
        """The slot of the request's `Request` (for combinators, JMESPath and claims), made on first use."""
        request = self.slot(_REQUEST)
        if _REQUEST not in self.read_first:
            self.emit(indent, f"if {request} is UNSET:")
            self.make_request(indent + 1, request)
        return request

    def make_request(self, indent: int, request: str) -> None:
        """`Request` from the classified event, holding the value maps read before any rule (its getters,
        the token's carrier among them, need not read them again)."""
        self.emit(indent, f"{request} = REQUEST(ev, (kind, text, a))")
        for key in sorted(key for key in self.read_first if key != _REQUEST):
            self.emit(indent, f"{request}.found[{self.bind(key)}] = {self.slot(key)}")

    def read_value_maps(self, indent: int, policy: CompiledPolicy) -> None:
        """The engine's `read_value_maps`: every value map the policy reads, read before any rule
        (maps that disagree raise BadEvent: FALLBACK, and the engine refuses)."""
        headers = [s for s in policy.map_reads if s.key.startswith("header.") and s.basis is None]
        together = headers if len(headers) > 1 else []  # one folding plan for them all
        if together:
            reader = self.bind(headers_reader(tuple(s.key.removeprefix("header.") for s in together)))
            self.emit(indent, f"{', '.join(self.slot(s.key) for s in together)} = {reader}(ev, kind, a)")
        for source in policy.map_reads:
            if source not in together:
                self.emit(indent, f"{self.slot(source.key)} = {self.bind(source.read)}(ev, kind, a)")
        if policy.reads_whole_maps:
            request = self.slot(_REQUEST)
            self.make_request(indent, request)
            self.emit(indent, f"{request}.view()")

    # -- conditions ----------------------------------------------------------------------------
    def condition(self, indent: int, node: Node) -> None:
        """Lines that run `fail` unless the node is True (three-valued: unknown fails too)."""
        fail = self.fail
        if not isinstance(node, Check):  # combinators and JMESPath: on a Request, as the engine does
            request = self.request(indent)
            self.emit(indent, f"if HOLDS({self.bind(node)}, {request}) is not True:")
            self.emit(indent + 1, fail)
            return
        self.load(indent, node.lookup, node.get)
        if node.mode != "single" or node.holds_when_missing is not None:  # the rarer forms: the engine's own judge
            self.emit(indent, f"if JUDGE({self.bind(node)}, v) is not True:")
            self.emit(indent + 1, fail)
            return
        # `judge` for one value, written out: missing or several different values fail, else the test
        self.emit(indent, "if v is None or (len(v) != 1 and AMBIGUOUS(v)):")
        self.emit(indent + 1, fail)
        key = node.equals_key  # ("str", text): plain string equality, written out too
        if key is not None and key[0] == "str":
            self.emit(indent, f"if v[0] != {self.bind(key[1])}:")
        else:
            self.emit(indent, f"if {self.bind(node.test)}(v[0]) is not True:")
        self.emit(indent + 1, fail)

    # -- outcome -------------------------------------------------------------------------------
    def value(self, indent: int, output: Output, target: str) -> None:
        """`target` = the output's value, or FALLBACK (the engine refuses) when missing or ambiguous."""
        if output.lookup is None:
            self.emit(indent, f"{target} = {self.bind(output.literal)}")
            return
        self.load(indent, output.lookup, output.get)
        if output.join is None:
            self.emit(indent, f"{target} = RESOLVED(v)")
        else:
            self.emit(indent, f"{target} = JOINED(v, {self.bind(output.join)})")
        self.emit(indent, f"if {target} is UNRESOLVED:")
        self.emit(indent + 1, "return FALLBACK")

    def outcome(self, indent: int, rule: CompiledRule) -> None:
        """The rule's response. What response.check would refuse is checked here once when it cannot
        vary (a literal principal or context), per request otherwise (resources, request values)."""
        principal = rule.principal
        if principal.source is None:
            literal = principal_id(principal.literal)
            if literal is None:
                self.emit(indent, "return FALLBACK")  # the engine refuses: the principal is unusable
                return
            self.emit(indent, f"p = {self.bind(literal)}")
        else:
            self.value(indent, principal, "p")
            self.emit(indent, "p = PRINCIPAL(p)")
            self.emit(indent, "if p is None:")
            self.emit(indent + 1, "return FALLBACK")
        context_checked = False
        if rule.literal_context is not None:
            pairs = ", ".join(f"{self.bind(k)}: {self.bind(v)}" for k, v in rule.literal_context.items())
            self.emit(indent, f"c = {{{pairs}}}")
            try:
                check_context(rule.literal_context, REST)  # the strictest kind: then every kind accepts it
                context_checked = True
            except InvalidResponse:
                pass
        else:
            self.emit(indent, "c = {}")
            for key, output in rule.context:
                self.value(indent, output, f"c[{self.bind(key)}]")
        if rule.usage_identifier_key is None:
            self.emit(indent, "u = None")
        else:
            self.value(indent, rule.usage_identifier_key, "u")
            self.emit(indent, "u = USAGE_KEY(u)")
        decided = self.bind(rule)
        self.emit(indent, "if simple:")
        self.emit(indent + 1, f"return ({decided}, p, SIMPLE({rule.effect == 'allow'}, c), None)")
        if rule.resource == "method":
            self.emit(indent, "r = (text,)")
        else:
            self.emit(indent, f"r = RESOURCES({self.bind(rule)}, {self.bind(rule.resource)}, a, text)")
        self.emit(indent, "CHECK_RESOURCES(r)")
        if not context_checked:
            self.emit(indent, "CHECK_CONTEXT(c, kind)")
        self.emit(indent, f"out = IAM(p, {self.bind(rule.effect)}, r, c, u)")
        self.size_check(indent, rule)
        self.emit(indent, f"return ({decided}, p, out, None)")

    def size_check(self, indent: int, rule: CompiledRule) -> None:
        """`response.check_size` for kinds with a result limit (WebSocket), skipped when the texts that
        vary cannot reach it: the literal principal and context are sized here, once."""
        literal = rule.principal.source is None and rule.literal_context is not None
        if not literal:
            self.emit(indent, "if kind.result_limit is not None:")
            self.emit(indent + 1, "CHECK_SIZE(out, kind)")
            return
        assert rule.literal_context is not None
        texts = [rule.principal.literal, *rule.literal_context, *rule.literal_context.values()]
        static = FIXED_SIZE + text_size(texts)
        varying = "sum(map(len, r))" + (" + len(u)" if rule.usage_identifier_key is not None else "")
        self.emit(
            indent, f"if kind.result_limit is not None and {static} + {ESCAPED} * ({varying}) > kind.result_limit:"
        )
        self.emit(indent + 1, "CHECK_SIZE(out, kind)")

    def rule(self, indent: int, rule: CompiledRule) -> None:
        if rule.routes is not None:
            self.emit(indent, f"if not {self.bind(rule)}.in_scope(a):")
            self.emit(indent + 1, self.fail)
        for node in rule.conditions:
            self.condition(indent, node)
        self.outcome(indent, rule)

    def no_match(self, indent: int, policy: CompiledPolicy) -> None:
        if policy.unavailable_secrets is not None:  # the engine refuses saying which secret, logged as an anomaly
            self.emit(indent, f"if {self.bind(policy.unavailable_secrets)}():")
            self.emit(indent + 1, "return FALLBACK")
        because = "None"  # why claims were missing, for the decision line: the token's reason code
        if policy.tokens is not None:
            request = self.slot(_REQUEST)
            self.emit(
                indent, f"b = None if {request} is UNSET else BECAUSE({self.bind(policy.tokens.verified)}, {request})"
            )
            because = "b"
        if no_match_effect(policy) != "deny":
            self.emit(indent, f"return (None, None, SIMPLE(False, {{}}) if simple else None, {because})")
            return
        principal = self.bind(NO_MATCH_PRINCIPAL)
        self.emit(indent, "if simple:")
        self.emit(indent + 1, f"return (None, {principal}, SIMPLE(False, {{}}), {because})")
        self.emit(indent, f"r = RESOURCES(None, {self.bind(no_match_scope(policy))}, a, text)")
        self.emit(indent, "CHECK_RESOURCES(r)")
        self.emit(indent, f"out = IAM({principal}, 'deny', r, {{}}, None)")
        self.emit(indent, "if kind.result_limit is not None:")
        self.emit(indent + 1, "CHECK_SIZE(out, kind)")
        self.emit(indent, f"return (None, {principal}, out, {because})")


_SIGNATURE = "(ev, kind, text, a, simple)"
_REQUEST = "request"  # the slot of the Request built for combinators and JMESPath


def generate(policy: CompiledPolicy) -> tuple[str, dict[str, Any], dict[int, tuple[str, list[Any]]]]:
    """The source defining `decide(ev, kind, text, a, simple)`, its namespace, and for rule functions,
    position → (the factory that makes it, the values to make it with)."""
    slots: dict[str, int] = {}
    read_first = frozenset([*(s.key for s in policy.map_reads), *([_REQUEST] if policy.reads_whole_maps else [])])
    if policy.index.keyed_on is None and len(policy.rules) <= INLINE_MAX_RULES:
        body = _Body("e_", slots, slot_in_list=False, fail="break", read_first=read_first)
        body.read_value_maps(1, policy)
        for position, rule in enumerate(policy.rules):
            body.prefix = f"r{position}_"
            body.emit(1, "while True:  # one rule: `break` when it does not apply")
            body.rule(2, rule)
        body.prefix = "n_"
        body.no_match(1, policy)
        names = [f"s{i}" for i in range(len(slots))]
        head = [f"def decide{_SIGNATURE}:", *(["    " + " = ".join(names) + " = UNSET"] if names else [])]
        return "\n".join([*head, *body.lines]) + "\n", {**_GLOBALS, **dict(body.bound)}, {}
    shapes: dict[str, str] = {}  # rule body → its factory's name
    makers: dict[int, tuple[str, list[Any]]] = {}
    lines: list[str] = []
    top = _Body("n_", slots, slot_in_list=True, fail="", read_first=read_first)
    top.read_value_maps(1, policy)  # first: the slots it fills are known before the rules are written
    for rule in policy.rules:
        body = _Body("", slots, slot_in_list=True, fail="return NO_MATCH", read_first=read_first)
        body.rule(2, rule)
        text = "\n".join(body.lines)
        factory = shapes.get(text)
        if factory is None:
            factory = shapes[text] = f"shape_{len(shapes)}"
            parameters = ", ".join(name for name, _ in body.bound)
            lines += [
                f"def {factory}({parameters}):",
                f"    def rule{_SIGNATURE[:-1]}, m):",
                text,
                "    return rule",
                "",
            ]
        makers[rule.position] = (factory, [value for _, value in body.bound])
    index = policy.index
    if index.keyed_on is None:
        top.emit(1, "key = None")
    elif index.get is None:  # keyed on the route
        top.emit(1, "key = a.route")
    elif index.patterns is not None:  # `candidates.matching`: the rules worth trying, each through its function
        from authorizer.decide.candidates import matching  # only for pattern-keyed policies

        assert index.lookup is not None
        top.load(1, index.lookup, index.get)
        top.emit(1, f"for rule in {top.bind(matching)}({top.bind(index)}, v):")
        top.emit(2, "out = FN[rule.position](ev, kind, text, a, simple, m)")
    else:
        assert index.lookup is not None
        top.load(1, index.lookup, index.get)  # `candidates.index_key`, written out: no key when missing or ambiguous
        top.emit(1, f"key = None if v is None or (len(v) != 1 and AMBIGUOUS(v)) else {top.bind(index.value_key)}(v[0])")
    if index.patterns is None:
        top.emit(1, "for rule in TABLE.get(key, REST):")
        top.emit(2, "out = rule(ev, kind, text, a, simple, m)")
    top.emit(2, "if out is not NO_MATCH:")
    top.emit(3, "return out")
    top.no_match(1, policy)
    lines += [f"def decide{_SIGNATURE}:", f"    m = [UNSET] * {len(slots)}", *top.lines]  # slots, then reads
    return "\n".join(lines) + "\n", {**_GLOBALS, **dict(top.bound)}, makers


def build(policy: CompiledPolicy, packaged: Path | None = None) -> FastDecide:
    """Generate, compile and bind the policy's `decide` function (compiled by `make package` when
    `packaged` holds this very source: see `_compiled`)."""
    source, namespace, makers = generate(policy)
    exec(_compiled(source, policy.name, packaged), namespace)  # only generated names: see module doc
    if makers:
        made = {position: namespace[factory](*values) for position, (factory, values) in makers.items()}

        def functions(rules: tuple[CompiledRule, ...]) -> tuple[Callable[..., Any], ...]:
            return tuple(made[r.position] for r in rules)

        if policy.index.patterns is not None:
            namespace["FN"] = functions(policy.rules)  # by position
        else:
            namespace["TABLE"] = {key: functions(rules) for key, rules in policy.index.table.items()}
            namespace["REST"] = functions(policy.index.rest)
    decide: FastDecide = namespace["decide"]
    return decide


def _compiled(source: str, name: str, packaged: Path | None) -> CodeType:
    """The source's code. `make package` writes the generated source of the policy it bundles as a
    file, whose bytecode it compiles with the rest of the package: when that file holds this very
    source, its bytecode is used (compiling here would cost a cold start ~170 bytes of peak memory per
    byte of source, and time); otherwise, or if anything about it fails, the source is compiled here."""
    if packaged is not None:
        try:
            if packaged.read_text(encoding="utf-8") == source:
                from importlib.machinery import SourceFileLoader

                code = SourceFileLoader("authorizer_generated", str(packaged)).get_code("authorizer_generated")
                if code is not None:
                    return code
        except Exception:  # unreadable, stale or broken bytecode: compile instead
            pass
    return compile(source, f"<policy {name}>", "exec")


def with_generated(policy: CompiledPolicy, where: str, packaged: Path | None = None) -> CompiledPolicy:
    """The policy with its generated decision function attached; unchanged (the engine deciding
    every request, logged as a warning) if generating fails: a generator bug must not lose a good policy."""
    try:
        fast = build(policy, packaged)
    except Exception:
        log.warning("policy %s: no generated decision function; the engine decides every request", where)
        return policy
    return policy.replace(fast=fast)


Answer = tuple[CompiledRule | None, str | None, dict[str, Any] | None, str | None]
"""The generated function's answer: the deciding rule (None when none matched), the principal (for
the decision line), the response (None: Unauthorized), and why claims were missing when no rule
matched (a token's reason code, for the decision line; None otherwise)."""


def respond(event: Any, policy: CompiledPolicy, mode: ResponseMode | None = None) -> Answer | Any:
    """The generated function's `Answer`, or FALLBACK when it cannot answer exactly as the engine
    would (no generated function, a bad event, any error); never raises."""
    fast = policy.fast
    if fast is None:
        return FALLBACK
    try:
        kind, text, arn = classify(event)
        simple = kind.simple_responses and uses_simple(mode or policy.response, kind)  # no call for most kinds
        return fast(event, kind, text, arn, simple)
    except Exception:  # a bad event, an odd value: the engine decides, refuses and says why
        return FALLBACK
