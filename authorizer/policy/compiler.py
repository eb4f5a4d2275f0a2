"""Validated policy data → CompiledPolicy, once per cold start (or policy reload).

Everything that can be decided before a request arrives is decided here: identity sources become
direct lookups, operators become per-value tests (operators.py), JMESPath is compiled, route
patterns are parsed, and rules are indexed. Every problem found is collected with its location,
so a broken policy reports all of them at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from authorizer.policy.errors import Loc
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
    RoutePattern,
    RuleIndex,
)
from authorizer.policy.operators import OPERATORS, OperatorError, Setting, key_function
from authorizer.policy.secrets import SecretLookup, secret_lookup
from authorizer.policy.sources import REDACTED, SourceError, check_source, getter, is_sensitive

COMBINATORS = ("any", "all", "not", "jmespath")
INDEX_MIN_RULES = 8  # below this a plain scan is as fast as a lookup


class CompileErrors(Exception):
    """Every problem found: (location, message, whether it is about the key rather than the value)."""

    def __init__(self, errors: list[tuple[Loc, str, bool]]) -> None:
        self.errors = errors
        super().__init__("; ".join(m for _, m, _ in errors))


class _Compiler:
    def __init__(self, data: Mapping[str, Any], secrets: SecretLookup) -> None:
        self.data = data
        self.secrets = secrets
        self.errors: list[tuple[Loc, str, bool]] = []
        self.redact = frozenset(data.get("redact", ()))
        self.secret_names = frozenset(data.get("secrets", {}))

    def error(self, loc: Loc, message: str, *, at_key: bool = False) -> None:
        self.errors.append((loc, message, at_key))

    # -- conditions ---------------------------------------------------------------------------
    def operator_test(self, op: str, arg: Any, loc: Loc, sensitive: bool) -> Callable[[Any], bool] | None:
        """The per-value test of one operator (operators.py), or None after recording what is wrong."""
        operator = OPERATORS.get(op)
        if operator is None:  # pragma: no cover - the model forbids it
            self.error(loc, f"unknown operator {op!r}")
            return None
        try:
            return operator.build(arg, Setting(sensitive, self.secrets, self.secret_names))
        except OperatorError as exc:
            for index, message in exc.problems:
                self.error(loc if index is None else (*loc, index), message)
            return None

    def condition(self, source: str, spec: Any, loc: Loc) -> list[Node]:
        try:
            get = getter(source)
        except SourceError as exc:
            self.error(loc, str(exc), at_key=True)
            return []
        sensitive = is_sensitive(source, self.redact)
        if not isinstance(spec, dict):
            spec = {"one_of" if isinstance(spec, list) else "equals": spec}
        inner = spec.get("not")  # a value compared with a secret is one, whatever its source is called
        sensitive = sensitive or "secret" in spec or (isinstance(inner, dict) and "secret" in inner)
        mode = spec.get("values", "single")
        ops = {k: v for k, v in spec.items() if k != "values"}
        if not ops:
            self.error(loc, "condition has no operator (equals, one_of, regex, exists, ...)")
            return []
        checks: list[Check] = []
        for op, arg in ops.items():
            op_loc = (*loc, op)
            operator = OPERATORS.get(op)
            if op == "not":
                test = self.negated(arg, op_loc, sensitive)
            else:
                test = self.operator_test(op, arg, op_loc, sensitive)
            if test is None or (operator is None and op != "not"):
                continue
            when_missing = operator.when_missing(arg) if operator and operator.when_missing else None
            indexable = operator is not None and operator.indexable and mode == "single"
            equals_key = key_function(sensitive)(arg) if indexable else None  # what RuleIndex may key on
            shown = f"secret:{arg}" if op == "secret" else REDACTED if sensitive else arg
            checks.append(Check(source, op, shown, get, test, mode, when_missing, sensitive, op_loc, equals_key))
        if mode == "any" and len(checks) > 1:  # one value must satisfy every operator, not each op a value of its own
            tests = [c.test for c in checks]
            missing_all = True if all(c.holds_when_missing for c in checks) else None
            return [
                Check(
                    source,
                    "+".join(c.op for c in checks),
                    {c.op: c.expected for c in checks},
                    get,
                    lambda v: all(t(v) for t in tests),
                    mode,
                    missing_all,
                    sensitive,
                    loc,
                )
            ]
        nodes: list[Node] = list(checks)
        return nodes

    def negated(self, spec: Any, loc: Loc, sensitive: bool) -> Callable[[Any], bool] | None:
        if not isinstance(spec, dict):
            spec = {"one_of" if isinstance(spec, list) else "equals": spec}
        tests = []
        for op, arg in spec.items():
            if op == "values" or op == "not" or (op in OPERATORS and not OPERATORS[op].in_not):
                if op != "values" or arg != "single":
                    self.error((*loc, op), f"`{op}` cannot be used inside `not`")
                continue
            test = self.operator_test(op, arg, (*loc, op), sensitive)
            if test is not None:
                tests.append(test)
        if not tests:
            return None
        return lambda v: not all(t(v) for t in tests)

    def when(self, spec: Mapping[str, Any], loc: Loc) -> list[Node]:
        nodes: list[Node] = []
        for key, value in spec.items():  # identity sources first, in the order written
            if key not in COMBINATORS:
                nodes.extend(self.condition(key, value, (*loc, key)))
        for key in ("any", "all"):
            if key in spec:
                groups = [AllOf(tuple(self.when(w, (*loc, key, i)))) for i, w in enumerate(spec[key])]
                if not groups:
                    self.error((*loc, key), f"`{key}` needs at least one entry")
                nodes.append(AnyOf(tuple(groups)) if key == "any" else AllOf(tuple(groups)))
        if "not" in spec:
            inner = self.when(spec["not"], (*loc, "not"))
            if not inner:
                self.error((*loc, "not"), "`not` needs at least one condition")
            nodes.append(Not(AllOf(tuple(inner))))
        if "jmespath" in spec:
            nodes.extend(self.jmespath(spec["jmespath"], (*loc, "jmespath")))
        return nodes

    def jmespath(self, expression: str, loc: Loc) -> list[Node]:
        import jmespath  # only policies with raw expressions pay for it
        from jmespath.exceptions import JMESPathError

        try:
            compiled = jmespath.compile(expression)
        except JMESPathError as exc:
            self.error(loc, f"invalid JMESPath expression {expression!r}: {exc}".replace("\n", " "))
            return []
        except RecursionError:  # the parser recurses once per nesting level
            self.error(loc, "JMESPath expression is nested too deeply")
            return []
        return [JmesCheck(expression, compiled.search, loc)]

    # -- outputs and routes ------------------------------------------------------------------
    def output(self, spec: Any, loc: Loc) -> Output:
        if isinstance(spec, dict):
            source = spec["from"]
            try:
                return Output(source=source, get=getter(source), sensitive=is_sensitive(source, self.redact))
            except SourceError as exc:
                self.error((*loc, "from"), str(exc))
                return Output()
        return Output(literal=spec)

    def route(self, text: str, loc: Loc) -> RoutePattern | None:
        if text.startswith("$"):  # WebSocket route key: $connect, $default, ...
            if not re.fullmatch(r"\$[A-Za-z]+", text):
                self.error(loc, f"invalid WebSocket route {text!r}")
                return None
            return RoutePattern(text, "", text, text.__eq__, text)
        method, _, path = text.partition(" ")
        method = method.upper()
        if not re.fullmatch(r"[A-Z]+|\*", method) or not path.startswith("/"):
            self.error(loc, f"route {text!r} must be `METHOD /path` (e.g. `GET /pets/*`) or `$connect`")
            return None
        method = "*" if method == "ANY" else method
        parts, iam = [], []
        for token in re.split(r"(\{[^}/]+\}|\*)", path):
            if token == "*":
                parts.append(".*")
                iam.append("*")
            elif token.startswith("{") and token.endswith("}"):
                parts.append(".+" if token.endswith("+}") else "[^/]+")
                iam.append("*")
            elif "{" in token or "}" in token:
                self.error(loc, f"route {text!r} has an unbalanced path parameter")
                return None
            else:
                parts.append(re.escape(token))
                iam.append(token)
        iam_path = "".join(iam)
        if len(parts) == len(iam) and "*" not in iam:
            exact = path
            return RoutePattern(text, method, exact, exact.__eq__, iam_path)
        from authorizer.policy.regex import FullMatcher, RegexError  # RE2: only policies with wildcard routes

        pattern = "(?s)" + "".join(parts)
        try:
            matcher = FullMatcher(pattern)
        except RegexError as exc:  # pragma: no cover - built from escaped pieces
            self.error(loc, str(exc))
            return None
        return RoutePattern(text, method, None, matcher, iam_path, pattern)

    def rule(self, spec: Mapping[str, Any], position: int, default_resource: str) -> CompiledRule:
        loc: Loc = ("rules", position)
        routes = None
        if spec.get("routes") is not None:
            compiled = [self.route(r, (*loc, "routes", i)) for i, r in enumerate(spec["routes"])]
            routes = tuple(r for r in compiled if r is not None)
            if not spec["routes"]:
                self.error((*loc, "routes"), "`routes` is empty: the rule could never apply")
        resource = spec.get("resource") or default_resource
        context = []
        for key, value in spec.get("context", {}).items():
            if not key:
                self.error((*loc, "context"), "context keys must not be empty")
            context.append((key, self.output(value, (*loc, "context", key))))
        principal = spec.get("principal")
        usage = spec.get("usage_identifier_key")
        return CompiledRule(
            name=spec["name"],
            position=position,
            effect=spec["effect"],
            conditions=tuple(self.when(spec.get("when", {}), (*loc, "when"))),
            routes=routes,
            principal=self.output(principal, (*loc, "principal")) if principal else Output(literal=spec["name"]),
            context=tuple(context),
            usage_identifier_key=self.output(usage, (*loc, "usage_identifier_key")) if usage else None,
            resource=resource,
            loc=loc,
        )

    def policy(self, name: str, digest: str) -> CompiledPolicy:
        data = self.data
        resource = data.get("resource", "method")
        rules = [self.rule(spec, i, resource) for i, spec in enumerate(data["rules"])]
        for rule_name, count in Counter(r.name for r in rules).items():
            if count > 1:
                dup = [r for r in rules if r.name == rule_name][1]
                self.error((*dup.loc, "name"), f"duplicate rule name {rule_name!r}")
        for key, source in enumerate(data.get("redact", [])):
            try:
                check_source(source)
            except SourceError as exc:
                self.error(("redact", key), str(exc))
        for secret_name, ref in data.get("secrets", {}).items():
            if sum(1 for v in ref.values() if v) != 1:
                self.error(("secrets", secret_name), "a secret needs exactly one of env, ssm, secretsmanager")
        if self.errors:
            raise CompileErrors(self.errors)
        return CompiledPolicy(
            name=name,
            digest=digest,
            rules=tuple(rules),
            index=build_index(tuple(rules)),
            on_no_match=data.get("on_no_match", "unauthorized"),
            resource=resource,
            response=data.get("response", "iam"),
            secrets=tuple(data.get("secrets", {})),
        )


def _index_keys(rule: CompiledRule) -> dict[str, Any]:
    """Discriminators this rule can be indexed under: `route` → exact routes, source → value."""
    keys: dict[str, Any] = {}
    if rule.routes and all(p.exact_path is not None and p.method != "*" for p in rule.routes):
        keys["route"] = frozenset(f"{p.method} {p.exact_path}" if p.method else p.text for p in rule.routes)
    for node in rule.conditions:
        if isinstance(node, Check) and node.equals_key is not None:
            keys.setdefault(node.source, frozenset([node.equals_key]))
    return keys


def build_index(rules: tuple[CompiledRule, ...]) -> RuleIndex:
    """Pick the discriminator that indexes the most rules; keep a scan for small policies."""
    per_rule = [_index_keys(r) for r in rules]
    counts = Counter(d for keys in per_rule for d in keys)
    if not counts or counts.most_common(1)[0][1] < INDEX_MIN_RULES:
        return RuleIndex(None, {}, rules)
    best = counts.most_common(1)[0][0]
    rest = tuple(r for r, keys in zip(rules, per_rule, strict=True) if best not in keys)
    buckets: dict[Any, list[CompiledRule]] = {}
    for rule, keys in zip(rules, per_rule, strict=True):
        for value in keys.get(best, ()):
            buckets.setdefault(value, []).append(rule)
    table = {value: tuple(sorted((*keyed, *rest), key=lambda r: r.position)) for value, keyed in buckets.items()}
    if best == "route":
        return RuleIndex("route", table, rest)
    check = next(n for r in rules for n in r.conditions if isinstance(n, Check) and n.source == best)
    return RuleIndex(best, table, rest, check.get, key_function(check.sensitive))


def compile_policy(
    data: Mapping[str, Any], *, name: str = "policy", digest: str = "", secrets: SecretLookup | None = None
) -> CompiledPolicy:
    """Compile validated policy data (the model's dump); raise CompileErrors with every problem."""
    if secrets is None:
        secrets = secret_lookup(data.get("secrets", {}))
    return _Compiler(data, secrets).policy(name, digest)
