"""What the engine decided about one request: plain data, handed to the response builder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from authorizer.policy.compiled import TraceEntry

Effect = Literal["allow", "deny", "unauthorized"]


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each field through object.__setattr__ (~1 µs a decision)
class Decision:
    effect: Effect
    reason: str  # why, in a few words: "rule matched", "no rule matched", "bad event: ..."
    rule: str | None = None
    principal: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    usage_identifier_key: str | None = None
    resources: tuple[str, ...] = ()
    principal_sensitive: bool = False  # the principal came from a secret-bearing source: never log it
    trace: tuple[TraceEntry, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "effect": self.effect,
            "rule": self.rule,
            "principal": self.principal,
            "context": self.context,
            "resources": list(self.resources),
            "reason": self.reason,
        }
        if self.usage_identifier_key is not None:
            out["usage_identifier_key"] = self.usage_identifier_key
        if self.trace is not None:
            out["trace"] = [t.as_dict() for t in self.trace]
        return out


def refusal(reason: str, trace: tuple[TraceEntry, ...] | None = None) -> Decision:
    return Decision("unauthorized", reason, trace=trace)
