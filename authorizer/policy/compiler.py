"""Validated policy data → CompiledPolicy, once per cold start (or policy reload).

Everything that can be decided before a request arrives is decided here: identity sources become
direct lookups, operators become per-value tests (operators.py), JMESPath is compiled, route
patterns are parsed, and rules are indexed. Every problem found is collected with its location,
so a broken policy reports all of them at once.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authorizer.policy.errors import Loc
from authorizer.policy.identity import parse_identity_source
from authorizer.policy.index import build_index
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
    SourceMatch,
    Tokens,
)
from authorizer.policy.jmes import reads_whole_map, root_reads, source_of
from authorizer.policy.logic import all3, not3
from authorizer.policy.operators import OPERATORS, OperatorError, Setting, Test, key_function
from authorizer.policy.secrets import SecretLookup, secret_lookup, unavailable
from authorizer.policy.sensitivity import sensitive_sources
from authorizer.policy.sources import (
    LIST_CLAIMS,
    REDACTED,
    Getter,
    Lookup,
    SourceError,
    check_source,
    claim_path,
    getter_of,
    holds_text,
    is_claim,
    is_sensitive,
    lookup,
    source_key,
    suggest,
)

if TYPE_CHECKING:
    from authorizer.tokens.verify import IssuerConfig

Written = Callable[[Loc], str | None]

COMBINATORS = ("any", "all", "not", "jmespath")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY", "*")  # as API Gateway writes them
CONNECT = "$connect"


class TokenOptions:
    """How a policy's `tokens:` issuers are compiled. `jwks` replaces every issuer's key set (test
    suites, local serving: issuer name and configuration → a JWKS file; nothing is fetched then);
    `clock` gives `now` per request (seconds since the epoch; default time.time). A plain class: a
    NamedTuple costs every cold start a few hundred µs to create."""

    __slots__ = ("clock", "jwks")

    def __init__(
        self, jwks: Callable[[str, IssuerConfig], Path] | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.jwks = jwks
        self.clock = clock


class _TokensUnusable(SourceError):
    """A `jwt.*` source of a policy whose `tokens:` section has errors (reported there, once)."""


class CompileErrors(Exception):
    """Every problem found: (location, message, whether it is about the key rather than the value)."""

    def __init__(self, errors: list[tuple[Loc, str, bool]]) -> None:
        self.errors = errors
        super().__init__("; ".join(m for _, m, _ in errors))


class _Compiler:
    def __init__(
        self, data: Mapping[str, Any], secrets: SecretLookup, written: Written | None, base: Path, tokens: TokenOptions
    ) -> None:
        self.data = data
        self.secrets = secrets
        self.written = written  # a plain YAML scalar's text as written, for messages about YAML traps
        self.errors: list[tuple[Loc, str, bool]] = []
        self.secret_names = frozenset(data.get("secrets", {}))
        self.redact = frozenset(data.get("redact", ()))
        self.sensitive = sensitive_sources(data)
        self.map_reads: dict[str, Lookup] = {}  # the value maps read anywhere (CompiledPolicy.map_reads)
        self.secrets_used: set[str] = set()  # the secrets conditions compare with
        self.reads_whole_maps = False
        self.tokens: Tokens | None = None
        if data.get("tokens"):
            from authorizer.policy.claims import compile_tokens  # imports cryptography: token policies only

            self.tokens, problems = compile_tokens(data["tokens"], base=base, jwks=tokens.jwks, clock=tokens.clock)
            self.errors += [(loc, message, False) for loc, message in problems]
            for carrier in self.tokens.carriers if self.tokens else ():
                self.read(carrier)  # where the token travels is read like any source (maps that disagree refuse)

    def is_sensitive(self, source: str) -> bool:
        return source_key(source) in self.sensitive

    def read(self, source: str) -> tuple[Lookup, Getter]:
        """The source's lookup and getter (SourceError if it is none), noting a read of the value maps."""
        if is_claim(source) and self.data.get("tokens"):
            check_source(source)
            if self.tokens is None:
                raise _TokensUnusable(source)
            from authorizer.policy.claims import claim_lookup

            found = claim_lookup(self.tokens, source)
        else:
            found = lookup(source)
        if found.from_value_maps:
            self.map_reads.setdefault(found.key, found)
        return found, getter_of(found)

    def error(self, loc: Loc, message: str, *, at_key: bool = False) -> None:
        self.errors.append((loc, message, at_key))

    def source_error(self, loc: Loc, exc: SourceError, *, at_key: bool = False) -> None:
        if not isinstance(exc, _TokensUnusable):  # the `tokens:` section's own errors say why
            self.error(loc, str(exc), at_key=at_key)

    # -- conditions ---------------------------------------------------------------------------
    def operator_test(self, op: str, arg: Any, loc: Loc, sensitive: bool) -> Test | None:
        """The per-value test of one operator (operators.py), or None after recording what is wrong."""
        operator = OPERATORS.get(op)
        if operator is None:  # pragma: no cover - the model forbids it
            self.error(loc, f"unknown operator {op!r}")
            return None
        try:
            test = operator.build(arg, Setting(sensitive, self.secrets, self.secret_names))
        except OperatorError as exc:
            for index, message in exc.problems:
                self.error(loc if index is None else (*loc, index), message)
            return None
        if op == "secret":
            self.secrets_used.add(arg)
        return test

    def condition(self, source: str, spec: Any, loc: Loc) -> list[Node]:
        try:
            found, get = self.read(source)
        except SourceError as exc:
            self.source_error(loc, exc, at_key=True)
            return []
        sensitive = self.is_sensitive(source)
        shorthand = not isinstance(spec, dict)  # `header.x: abc` or `header.x: [a, b]`: the value is the argument
        if shorthand:
            spec = {"one_of" if isinstance(spec, list) else "equals": spec}
        mode = spec.get("values", "single")
        ops = {k: v for k, v in spec.items() if k != "values"}
        if not ops:
            self.error(loc, "condition has no operator (equals, one_of, regex, exists, ...)")
            return []
        nodes: list[Node] = []
        checks: list[Check] = []
        for op, arg in ops.items():
            op_loc = loc if shorthand else (*loc, op)
            operator = OPERATORS.get(op)
            if isinstance(arg, dict) and operator is not None and operator.between_sources is not None:
                match = self.source_match(source, op, arg, mode, op_loc)
                nodes += [match] if match is not None else []
                continue
            if op == "not":
                test = self.negated(source, arg, op_loc, sensitive)
            else:
                self.text_literals(source, op, arg, op_loc)
                self.issuer_names(source, op, arg, op_loc)
                test = self.operator_test(op, arg, op_loc, sensitive)
            if test is None or (operator is None and op != "not"):
                continue
            when_missing = operator.when_missing(arg) if operator and operator.when_missing else None
            indexable = operator is not None and operator.indexable and mode == "single"
            equals_key = key_function(sensitive)(arg) if indexable else None  # what RuleIndex may key on
            to_pattern = operator.pattern if operator is not None and mode == "single" and not sensitive else None
            pattern = to_pattern(arg) if to_pattern is not None else None  # or on this (secret-bearing values: never)
            shown = f"secret:{arg}" if op == "secret" else REDACTED if sensitive else arg
            check = Check(
                source, op, shown, get, found, test, mode, when_missing, sensitive, op_loc, equals_key, pattern=pattern
            )
            checks.append(check)
        if mode == "any" and len(checks) > 1:  # one value must satisfy every operator, not each op a value of its own
            tests = [c.test for c in checks]
            missing_all = True if all(c.holds_when_missing for c in checks) else None
            checks = [
                Check(
                    source,
                    "+".join(c.op for c in checks),
                    {c.op: c.expected for c in checks},
                    get,
                    found,
                    lambda v: all3(t(v) for t in tests),
                    mode,
                    missing_all,
                    sensitive,
                    loc,
                )
            ]
        return [*checks, *nodes]

    def source_match(self, source: str, op: str, arg: Mapping[str, Any], mode: str, loc: Loc) -> SourceMatch | None:
        """`source: {equals: {from: other}}`: two sources compared, both single-valued."""
        other = arg["from"]
        if mode != "single":
            self.error(loc, f"comparing {source} with another source takes one value of each: drop `values: {mode}`")
            return None
        if "join" in arg:
            self.error((*loc, "join"), "`join` is for outputs: a comparison takes one value of each source")
            return None
        try:
            found_other, get_other = self.read(other)
        except SourceError as exc:
            self.source_error((*loc, "from"), exc)
            return None
        sensitive = self.is_sensitive(source)  # the two are equally sensitive (sensitivity.py)
        between = OPERATORS[op].between_sources
        assert between is not None
        found, get = self.read(source)
        return SourceMatch(source, op, other, get, get_other, found, found_other, between(sensitive), sensitive, loc)

    def text_literals(self, source: str, op: str, arg: Any, loc: Loc) -> None:
        """Header, query, path, stage-variable, cookie (...) values are always text: a literal YAML
        read as something else (`yes` → true, `0123` → 83, `1e3` → 1000.0) can never equal one."""
        operator = OPERATORS.get(op)
        if operator is None or not operator.takes_values or not holds_text(source):
            return
        for where, item in [((*loc, i), v) for i, v in enumerate(arg)] if isinstance(arg, list) else [(loc, arg)]:
            if isinstance(item, str):
                continue
            if self.is_sensitive(source):  # never quote what is compared with a secret-bearing source
                self.error(where, f"{source} holds text, but YAML read this value as a {_yaml_type(item)}: quote it")
                continue
            written = self.written(where) if self.written is not None else None
            shown = written if written is not None else json.dumps(item)
            self.error(
                where,
                f"{source} holds text, but YAML read {shown} as {_yaml_reading(item)}: quote it, e.g. "
                f"{json.dumps(written if written is not None else shown)}",
            )

    def issuer_names(self, source: str, op: str, arg: Any, loc: Loc) -> None:
        """`jwt.issuer` holds the name the policy gives an issuer: a literal naming none can never match."""
        if source != "jwt.issuer" or self.tokens is None or op not in ("equals", "not_equals", "one_of", "not_one_of"):
            return
        names = list(self.tokens.issuers)
        for where, item in [((*loc, i), v) for i, v in enumerate(arg)] if isinstance(arg, list) else [(loc, arg)]:
            if item not in names:
                hint = suggest(str(item), names) or f"; the issuers are {', '.join(names)}"
                self.error(where, f"jwt.issuer is an issuer's name under tokens.issuers, and {item!r} names none{hint}")

    def negated(self, source: str, spec: Any, loc: Loc, sensitive: bool) -> Test | None:
        shorthand = not isinstance(spec, dict)
        if shorthand:
            spec = {"one_of" if isinstance(spec, list) else "equals": spec}
        tests = []
        for op, arg in spec.items():
            op_loc = loc if shorthand else (*loc, op)
            if op == "values" or op == "not" or (op in OPERATORS and not OPERATORS[op].in_not):
                if op != "values" or arg != "single":
                    self.error(op_loc, f"`{op}` cannot be used inside `not`")
                continue
            if isinstance(arg, dict):
                self.error(op_loc, f"`not` compares with literals; for another source use `not_{op}: {{from: ...}}`")
                continue
            self.text_literals(source, op, arg, op_loc)
            self.issuer_names(source, op, arg, op_loc)
            test = self.operator_test(op, arg, op_loc, sensitive)
            if test is not None:
                tests.append(test)
        if not tests:
            return None
        return lambda v: not3(all3(t(v) for t in tests))

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
            reads = root_reads(compiled.parsed)
        except JMESPathError as exc:  # the message, never the expression: it may hold a secret literal
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.error(loc, f"invalid JMESPath expression: {reason.split(' for expression')[0]}")
            return []
        except RecursionError:  # the parser recurses once per nesting level
            self.error(loc, "JMESPath expression is nested too deeply")
            return []
        self.reads_whole_maps = True
        for chain in reads:
            if chain[0] == "headers" and len(chain) > 1 and chain[1] != chain[1].lower():
                self.error(loc, f"header names are lower-case in the JMESPath view: write headers.{chain[1].lower()!r}")
        sources = [s for s in map(source_of, reads) if s is not None]
        sensitive = any(reads_whole_map(c) for c in reads) or any(
            self.is_sensitive(s) or is_sensitive(s, self.redact) for s in sources
        )
        return [JmesCheck(expression, compiled.search, reads, sensitive, loc)]

    # -- outputs and routes ------------------------------------------------------------------
    def output(self, spec: Any, loc: Loc) -> Output:
        if isinstance(spec, dict):
            source, join = spec["from"], spec.get("join")
            try:
                found, get = self.read(source)
            except SourceError as exc:
                self.source_error((*loc, "from"), exc)
                return Output()
            if join is None and _lists(source):
                self.error(
                    loc,
                    f"{source} is a list, and an output is one value: join it, e.g. "
                    f'{{from: {json.dumps(source)}, join: ","}}',
                )
            return Output(source=source, get=get, lookup=found, sensitive=self.is_sensitive(source), join=join)
        return Output(literal=spec)

    def route(self, text: str, loc: Loc) -> RoutePattern | None:
        if text.startswith("$"):  # a WebSocket route key: an authorizer only ever runs for $connect
            if text != CONNECT:
                hint = suggest(text, [CONNECT]) or f"; use {CONNECT!r}"
                self.error(loc, f"route {text!r} never matches: WebSocket authorizers run only on $connect{hint}")
                return None
            return RoutePattern(text, "", text, text.__eq__, text)
        method, _, path = text.partition(" ")
        if not path.startswith("/"):
            self.error(loc, f"route {text!r} must be `METHOD /path` (e.g. `GET /pets/*`) or `$connect`")
            return None
        if method not in METHODS:
            close = method.upper() if method.upper() in METHODS else None
            hint = f"; did you mean {f'{close} {path}'!r}?" if close else suggest(method.upper(), list(METHODS))
            self.error(loc, f"route {text!r} never matches: {method!r} is not an HTTP method{hint}")
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
        for i, text in enumerate((data.get("cache") or {}).get("identity_sources") or ()):
            try:
                parse_identity_source(text)
            except ValueError as exc:
                self.error(("cache", "identity_sources", i), str(exc))
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
            map_reads=tuple(self.map_reads.values()),
            reads_whole_maps=self.reads_whole_maps,
            sensitive=self.sensitive,
            tokens=self.tokens,
            unavailable_secrets=partial(unavailable, self.secrets, tuple(sorted(self.secrets_used)))
            if self.secrets_used
            else None,
        )


def compile_policy(
    data: Mapping[str, Any],
    *,
    name: str = "policy",
    digest: str = "",
    secrets: SecretLookup | None = None,
    written: Written | None = None,
    base: Path | None = None,
    tokens: TokenOptions | None = None,
) -> CompiledPolicy:
    """Compile validated policy data (the model's dump); raise CompileErrors with every problem.
    `written` gives a plain YAML scalar's text as written (for messages), when the text was parsed;
    `base` is the folder `tokens:` key set files are relative to (default: the folder of `name`)."""
    if secrets is None:
        secrets = secret_lookup(data.get("secrets", {}))
    folder = Path(name).parent if base is None else base
    return _Compiler(data, secrets, written, folder, tokens or TokenOptions()).policy(name, digest)


def _lists(source: str) -> bool:
    """A claim source holding an array by convention (`jwt.scopes`, `jwt[cognito:groups]`, ...)."""
    if source == "jwt.scopes":
        return True
    try:
        return is_claim(source) and claim_path(source)[-1:] in {(name,) for name in LIST_CLAIMS}
    except SourceError:
        return False


def _yaml_type(value: Any) -> str:
    return "boolean" if isinstance(value, bool) else "number" if isinstance(value, int | float) else "null"


def _yaml_reading(value: Any) -> str:
    """`the boolean true`, `the number 668`, ...: what YAML made of a literal."""
    return f"the {_yaml_type(value)} {json.dumps(value)}" if value is not None else "null"
