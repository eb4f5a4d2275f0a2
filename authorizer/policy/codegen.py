"""A compiled policy as one generated Python function: the warm path of `lambda_handler`.

The engine (engine.py) walks rule and condition objects: a call per condition and per lookup, a
Request and a Decision per event. Here the same rules become straight-line Python, generated once
at load: each lookup read at most once into a local, string equality inline, every other test the
very function the engine calls, responses built and checked by response.py. Nothing from the
policy is written into the source: values, names and tests are bound by reference in the
function's namespace (`T3`, `READ0`, ...), so no policy text can change the code.

The function answers only when it answers exactly as the engine would. Whatever else happens (an
output source missing or ambiguous, a response API Gateway would reject, any exception) it gives
FALLBACK, and the handler asks the engine, which refuses and logs why. The engine stays the
reference: `--explain`, decision logs and metrics go through it, and tests hold the two to the
same answers over random policies and events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authorizer.arn import ExecuteApiArn
from authorizer.engine import resources
from authorizer.policy.compiled import Check, CompiledPolicy, CompiledRule, Node, Output
from authorizer.policy.sources import lookup
from authorizer.request import Request
from authorizer.response import InvalidResponse, check_context, check_resources, iam_response, simple_response

FastDecide = Callable[[dict[str, Any], str, str, ExecuteApiArn, bool], Any]
_SCALARS = (str, int, float, bool)


class _Fallback:
    def __repr__(self) -> str:
        return "FALLBACK"


FALLBACK: Any = _Fallback()  # "ask the engine": never a response
_UNSET = object()  # a lookup not read yet in this request
_NO_MATCH = object()  # a rule function's "did not apply"

_AMBIGUOUS = "len(v) > 1 and len(set(v)) > 1"  # several different values: the engine's "unknown"


class _Writer:
    """Source lines plus the namespace they refer to."""

    def __init__(self, slots_in_list: bool) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "UNSET": _UNSET,
            "NO_MATCH": _NO_MATCH,
            "FALLBACK": FALLBACK,
            "SCALARS": _SCALARS,
            "Request": Request,
            "RESOURCES": resources,
            "IAM": iam_response,
            "SIMPLE": simple_response,
            "CHECK_RESOURCES": check_resources,
            "CHECK_CONTEXT": check_context,
        }
        self.slots: dict[str, int] = {}  # lookup key → slot
        self.readers: dict[str, str] = {}  # lookup key → bound reader name
        self.slots_in_list = slots_in_list

    def bind(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def slot(self, key: str) -> str:
        index = self.slots.setdefault(key, len(self.slots))
        return f"m[{index}]" if self.slots_in_list else f"s{index}"

    def load(self, indent: int, source: str) -> None:
        """`v` = the values of `source`, read on first use in this request."""
        found = lookup(source)
        slot = self.slot(found.key)
        if found.key not in self.readers:
            self.readers[found.key] = self.bind("READ", found.read)
        self.emit(indent, f"v = {slot}")
        self.emit(indent, "if v is UNSET:")
        self.emit(indent + 1, f"v = {slot} = {self.readers[found.key]}(ev, kind, a)")

    # -- conditions ----------------------------------------------------------------------------
    def condition(self, indent: int, node: Node, fail: str) -> None:
        """Lines that run `fail` unless the node is True (three-valued: unknown fails too)."""
        if not isinstance(node, Check):  # combinators and JMESPath: the engine's own node, on a Request
            request = self.slot("request")
            self.emit(indent, f"if {request} is UNSET:")
            self.emit(indent + 1, f"{request} = Request(ev)")
            self.emit(indent, f"if {self.bind('NODE', node)}.eval({request}) is not True:")
            self.emit(indent + 1, fail)
            return
        self.load(indent, node.source)
        if node.missing is True:  # `exists: false`: a missing source holds
            self.emit(indent, "if v is not None:")
            indent += 1
        else:
            self.emit(indent, "if v is None:")
            self.emit(indent + 1, fail)
        test = self.bind("T", node.test)
        if node.mode == "single":
            self.emit(indent, f"if {_AMBIGUOUS}:")
            self.emit(indent + 1, fail)
            key = node.index_key  # ("str", text): a plain string equality, the one test worth inlining
            held = f"v[0] == {self.bind('E', key[1])}" if key is not None and key[0] == "str" else f"{test}(v[0])"
        elif node.mode == "any":
            held = f"any({test}(x) for x in v)"
        elif node.mode == "all":
            held = f"all({test}(x) for x in v)"
        else:  # joined
            held = f'{test}(",".join(str(x) for x in v))'
        self.emit(indent, f"if ({held}) is not True:")
        self.emit(indent + 1, fail)

    # -- outcome -------------------------------------------------------------------------------
    def value(self, indent: int, output: Output, target: str) -> None:
        """`target` = the output's value, or FALLBACK (the engine refuses) when missing or ambiguous."""
        if output.source is None:
            self.emit(indent, f"{target} = {self.bind('L', output.literal)}")
            return
        self.load(indent, output.source)
        self.emit(indent, f"if v is None or {_AMBIGUOUS}:")
        self.emit(indent + 1, "return FALLBACK")
        self.emit(indent, f"{target} = v[0]")

    def outcome(self, indent: int, rule: CompiledRule) -> None:
        """The rule's response. What response.check would refuse is checked here once when it cannot
        vary (a literal principal or context), per request otherwise (resources, request values)."""
        principal = rule.principal
        if principal.source is None:
            literal = principal.literal
            if not isinstance(literal, _SCALARS) or isinstance(literal, bool) or literal == "":
                self.emit(indent, "return FALLBACK")  # the engine refuses: the principal is unusable
                return
            self.emit(indent, f"p = {self.bind('P', str(literal))}")
        else:  # a non-empty scalar: str() of it passes check_principal
            self.value(indent, principal, "p")
            self.emit(indent, 'if not isinstance(p, SCALARS) or isinstance(p, bool) or p == "":')
            self.emit(indent + 1, "return FALLBACK")
            self.emit(indent, "p = str(p)")
        context_checked = False
        if rule.literal_context is not None:
            pairs = ", ".join(f"{self.bind('K', k)}: {self.bind('L', v)}" for k, v in rule.literal_context.items())
            self.emit(indent, f"c = {{{pairs}}}")
            try:
                check_context(rule.literal_context, "rest")  # the strictest kind: then any kind accepts it
                context_checked = True
            except InvalidResponse:
                pass
        else:
            self.emit(indent, "c = {}")
            for key, output in rule.context:
                self.value(indent, output, f"c[{self.bind('K', key)}]")
        if rule.usage_identifier_key is None:
            self.emit(indent, "u = None")
        else:
            self.value(indent, rule.usage_identifier_key, "u")
            self.emit(indent, "u = None if u is None else str(u)")
        self.emit(indent, "if simple:")
        self.emit(indent + 1, f"return SIMPLE({rule.effect == 'allow'}, c)")
        if rule.resource == "method":
            self.emit(indent, "r = (text,)")
        else:
            self.emit(indent, f"r = RESOURCES({self.bind('RULE', rule)}, {self.bind('S', rule.resource)}, a, text)")
        self.emit(indent, "CHECK_RESOURCES(r)")
        if not context_checked:
            self.emit(indent, "CHECK_CONTEXT(c, kind)")
        self.emit(indent, f"return IAM(p, {self.bind('X', rule.effect)}, r, c, u)")

    def rule(self, indent: int, rule: CompiledRule, fail: str) -> None:
        if rule.routes is not None:
            self.emit(indent, f"if not {self.bind('RULE', rule)}.in_scope(a):")
            self.emit(indent + 1, fail)
        for node in rule.conditions:
            self.condition(indent, node, fail)
        self.outcome(indent, rule)

    def no_match(self, indent: int, policy: CompiledPolicy) -> None:
        self.emit(indent, "if simple:")
        self.emit(indent + 1, "return SIMPLE(False, {})")
        if policy.on_no_match != "deny":
            self.emit(indent, "return None")
            return
        scope = "method" if policy.resource == "routes" else policy.resource
        self.emit(indent, f"r = RESOURCES(None, {self.bind('S', scope)}, a, text)")
        self.emit(indent, "CHECK_RESOURCES(r)")
        self.emit(indent, "return IAM('anonymous', 'deny', r, {}, None)")


_SIGNATURE = "(ev, kind, text, a, simple)"


def generate(policy: CompiledPolicy) -> tuple[str, dict[str, Any]]:
    """The source of `decide(ev, kind, text, a, simple)` for this policy, and its namespace.

    Without an index: one function, every rule a block left with `break`, lookups in locals.
    With an index: one function per rule (lookups shared through a list), tried in the order the
    index gives for the request's key.
    """
    index = policy.index
    if index.key is None:
        w = _Writer(slots_in_list=False)
        w.emit(0, f"def decide{_SIGNATURE}:")
        start = len(w.lines)
        for rule in policy.rules:
            w.emit(1, "while True:  # one rule: `break` when it does not apply")
            w.rule(2, rule, "break")
        w.no_match(1, policy)
        names = [f"s{i}" for i in range(len(w.slots))]
        if names:
            w.lines.insert(start, "    " + " = ".join(names) + " = UNSET")
        return "\n".join(w.lines) + "\n", w.namespace
    w = _Writer(slots_in_list=True)
    for rule in policy.rules:
        w.emit(0, f"def rule_{rule.position}{_SIGNATURE[:-1]}, m):")
        w.rule(1, rule, "return NO_MATCH")
        w.emit(0, "")
    w.emit(0, f"def decide{_SIGNATURE}:")
    start = len(w.lines)
    if index.describes == "route":
        w.emit(1, "key = a.route")
    else:
        w.load(1, index.describes)
        w.emit(1, f"key = None if v is None or {_AMBIGUOUS} else {w.bind('KEY', index.value_key)}(v[0])")
    w.emit(1, "for rule in TABLE.get(key, REST):")
    w.emit(2, "out = rule(ev, kind, text, a, simple, m)")
    w.emit(2, "if out is not NO_MATCH:")
    w.emit(3, "return out")
    w.no_match(1, policy)
    w.lines.insert(start, f"    m = [UNSET] * {len(w.slots)}")
    return "\n".join(w.lines) + "\n", w.namespace


def build(policy: CompiledPolicy) -> FastDecide:
    """Generate, compile and bind the policy's `decide` function."""
    source, namespace = generate(policy)
    exec(compile(source, f"<policy {policy.name}>", "exec"), namespace)  # only generated names: see module doc
    index = policy.index
    if index.key is not None:

        def functions(rules: tuple[CompiledRule, ...]) -> tuple[Callable[..., Any], ...]:
            return tuple(namespace[f"rule_{r.position}"] for r in rules)

        namespace["TABLE"] = {key: functions(rules) for key, rules in index.table.items()}
        namespace["REST"] = functions(index.rest)
    decide: FastDecide = namespace["decide"]
    return decide
