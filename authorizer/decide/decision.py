"""What was decided about one request, and (when asked) why: plain data for the response builder,
the log line, `--explain`, test suites and the local gateway."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from authorizer.policy.errors import Loc
from authorizer.policy.ir import Node
from authorizer.policy.sources import REDACTED

Effect = Literal["allow", "deny", "unauthorized"]
# unavailable: a secret the condition compares with cannot be read (unknown, like missing)
ConditionOutcome = Literal["true", "false", "missing", "ambiguous", "unavailable", "error"]
# Refusals that are not a policy's answer but something wrong around it: logged as warnings.
Anomaly = Literal[
    "bad event", "internal error", "response rejected", "settings invalid", "no policy", "secret unavailable"
]


class TraceEntry:
    """One condition as it was evaluated, for `--explain` and test failures. (Plain classes here: a
    dataclass or a NamedTuple costs every cold start a few hundred µs to create.)"""

    __slots__ = ("actual", "because", "expected", "loc", "op", "outcome", "rule", "source")

    def __init__(
        self,
        rule: str,
        source: str,
        op: str,
        expected: Any,
        actual: Any,
        outcome: ConditionOutcome,
        loc: Loc = (),
        because: str | None = None,  # why a missing value is missing, when known: a token's reason code
    ) -> None:
        self.rule = rule
        self.source = source
        self.op = op
        self.expected = expected
        self.actual = actual
        self.outcome = outcome
        self.loc = loc
        self.because = because

    def __repr__(self) -> str:
        return f"TraceEntry({self.as_dict()!r})"

    def as_dict(self) -> dict[str, Any]:
        out = {
            "rule": self.rule,
            "source": self.source,
            "op": self.op,
            "expected": self.expected,
            "actual": self.actual,
            "outcome": self.outcome,
        }
        if self.because is not None:
            out["because"] = self.because
        return out


class RuleAttempt:
    """How one rule tried by an explained decision ended: matched, or stopped at one top-level
    condition (`node`, which answered `result`; None when the rule was out of route scope) whose
    trace entries are `entries`."""

    __slots__ = ("entries", "loc", "matched", "node", "result", "rule")

    def __init__(
        self,
        rule: str,
        loc: Loc,
        matched: bool,
        node: Node | None = None,
        result: bool | None = None,
        entries: tuple[TraceEntry, ...] = (),
    ) -> None:
        self.rule = rule
        self.loc = loc
        self.matched = matched
        self.node = node
        self.result = result
        self.entries = entries

    def __repr__(self) -> str:
        return f"RuleAttempt({self.rule!r}, matched={self.matched})"


class Decision:
    """What was decided (a plain class: a dataclass costs every cold start ~0.4 ms to create)."""

    __slots__ = (
        "anomaly",
        "attempts",
        "context",
        "effect",
        "principal",
        "principal_sensitive",
        "reason",
        "resources",
        "rule",
        "sensitive_context",
        "trace",
        "usage_identifier_key",
        "usage_key_sensitive",
    )

    def __init__(
        self,
        effect: Effect,
        reason: str,  # why, in a few words: "rule matched", "no rule matched", "bad event: ..."
        rule: str | None = None,
        principal: str | None = None,
        context: dict[str, Any] | None = None,
        usage_identifier_key: str | None = None,
        resources: tuple[str, ...] = (),
        principal_sensitive: bool = False,  # the principal came from a secret-bearing source: never log it
        sensitive_context: frozenset[str] = frozenset(),  # context keys whose values came from one
        usage_key_sensitive: bool = False,
        anomaly: Anomaly | None = None,  # set when the refusal is not the policy's answer
        trace: tuple[TraceEntry, ...] | None = None,  # every condition tried, when the decision was explained
        attempts: tuple[RuleAttempt, ...] = (),  # how each rule tried ended, when the decision was explained
    ) -> None:
        self.effect = effect
        self.reason = reason
        self.rule = rule
        self.principal = principal
        self.context: dict[str, Any] = {} if context is None else context
        self.usage_identifier_key = usage_identifier_key
        self.resources = resources
        self.principal_sensitive = principal_sensitive
        self.sensitive_context = sensitive_context
        self.usage_key_sensitive = usage_key_sensitive
        self.anomaly = anomaly
        self.trace = trace
        self.attempts = attempts

    def __repr__(self) -> str:
        return f"Decision({self.effect!r}, {self.reason!r}, rule={self.rule!r})"

    def as_dict(self) -> dict[str, Any]:
        """The decision as shown to people (logs, `eval`, test reports, the local gateway's page):
        outputs taken from secret-bearing sources redacted."""
        out: dict[str, Any] = {
            "effect": self.effect,
            "rule": self.rule,
            "principal": self.shown_principal(),
            "context": self.shown_context(self.context),
            "resources": list(self.resources),
            "reason": self.reason,
        }
        if self.usage_identifier_key is not None:
            out["usage_identifier_key"] = REDACTED if self.usage_key_sensitive else self.usage_identifier_key
        if self.trace is not None:
            out["trace"] = [t.as_dict() for t in self.trace]
        return out

    def shown_principal(self) -> str | None:
        return REDACTED if self.principal_sensitive and self.principal is not None else self.principal

    def shown_context(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """A context (the decision's, or one API Gateway hands on) with secret-bearing values redacted."""
        return {k: REDACTED if k in self.sensitive_context else v for k, v in context.items()}

    def shown_response(self, response: dict[str, Any] | None) -> dict[str, Any] | None:
        """The Lambda's answer as shown to people: the same, outputs from secret-bearing sources redacted."""
        if response is None:
            return None
        shown = dict(response)
        if "principalId" in shown and self.principal_sensitive:
            shown["principalId"] = REDACTED
        if isinstance(shown.get("context"), dict):
            shown["context"] = self.shown_context(shown["context"])
        if "usageIdentifierKey" in shown and self.usage_key_sensitive:
            shown["usageIdentifierKey"] = REDACTED
        return shown


def refusal(reason: str, *, anomaly: Anomaly | None = None) -> Decision:
    return Decision("unauthorized", reason, anomaly=anomaly)


class Trace:
    """What an explained decision saw, filled as it goes: every condition evaluated (`entries`, in
    order) and how each rule tried ended (`attempts`). Kept by the caller, so that a decision cut
    short by an error still shows how far it got. `rule` is the rule being tried."""

    __slots__ = ("attempts", "entries", "rule")

    def __init__(self) -> None:
        self.entries: list[TraceEntry] = []
        self.attempts: list[RuleAttempt] = []
        self.rule = ""

    def record(
        self,
        source: str,
        op: str,
        expected: Any,
        actual: Any,
        outcome: ConditionOutcome,
        loc: Loc,
        because: str | None = None,
    ) -> None:
        self.entries.append(TraceEntry(self.rule, source, op, expected, actual, outcome, loc, because))
