"""The decision record: one JSON line per decision, written by Powertools' Logger, which is also the
decision's CloudWatch metric (EMF) when metrics are on.

A Lambda that logs its decision and flushes a Powertools metric writes two JSON objects per request,
each built and serialised separately; CloudWatch reads a log event holding an `_aws` block as an EMF
metric and keeps every other key as the event. So the record carries the metric: one object, one
serialisation, half the log volume. The `_aws` block is Powertools' own (`Metrics.serialize_metric_set`,
made once per effect at boot; each request sets its timestamp); the line goes through Powertools'
Logger and formatter (its keys, level, service, X-Ray id), whose shortcut here only skips rebuilding
the record's keys. When decision lines are off (POWERTOOLS_LOG_LEVEL above INFO) the metric is
written alone, as Powertools writes it. Never a credential: principals from secret-bearing sources
are redacted, and the API Gateway ids come from its requestContext (length-capped).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from authorizer.decide.generated import Answer
from authorizer.decide.outcome import RULE_MATCHED, no_match_effect, no_match_reason
from authorizer.event.arn import ExecuteApiArn
from authorizer.event.kinds import EventKind
from authorizer.event.readers import classify
from authorizer.event.request import Request
from authorizer.policy.ir import CompiledPolicy
from authorizer.policy.sources import REDACTED

if TYPE_CHECKING:  # the engine's: a decision line of generated code never imports it
    from authorizer.decide.decision import Decision

EFFECT_METRICS = {"allow": "Allow", "deny": "Deny", "unauthorized": "Unauthorized"}
_HEAD = ("level", "location", "message", "timestamp")
_ID_LENGTH = 128  # API Gateway's ids are short: anything longer is not one


class DecisionFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter; a record that arrives with its keys ready (`extra={"record": {...}}`)
    is the default keys and those, serialised once, instead of being rebuilt from the LogRecord."""

    def format(self, record: logging.LogRecord) -> str:
        prepared = record.__dict__.get("record")
        if not isinstance(prepared, dict):
            return super().format(record)
        line: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.msg,
            "timestamp": self.formatTime(record),
        }
        for key, value in self.log_format.items():  # the appended keys: service, sampling rate, ...
            if key not in _HEAD and value is not None and not (isinstance(value, str) and "%(" in value):
                line[key] = value
        trace = self._get_latest_trace_id()
        if trace:
            line["xray_trace_id"] = trace
        line.update(prepared)
        return self.serialize(line)


class MetricTemplates:
    """The EMF block of each effect's count, as Powertools serialises it (made once, at boot)."""

    def __init__(self, namespace: str, service: str) -> None:
        from aws_lambda_powertools import Metrics

        metrics = Metrics(namespace=namespace, service=service)
        self.blocks: dict[str, tuple[Any, dict[str, Any]]] = {}
        for effect, name in EFFECT_METRICS.items():
            blob: dict[str, Any] = dict(
                metrics.serialize_metric_set(
                    metrics={name: {"Unit": "Count", "Value": 1}}, dimensions={"service": service}, metadata={}
                )
            )
            self.blocks[effect] = (blob.pop("_aws")["CloudWatchMetrics"], blob)

    def add(self, line: dict[str, Any], effect: str) -> dict[str, Any]:
        """`line` with `_aws` (this moment's timestamp) and the dimension and value keys of one count."""
        definitions, keys = self.blocks[effect]
        line["_aws"] = {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": definitions}
        line.update(keys)
        return line


def _id(context: Any, key: str) -> str | None:
    value = context.get(key) if isinstance(context, dict) else None
    return value if isinstance(value, str) and len(value) <= _ID_LENGTH else None


def _line(
    effect: str,
    rule: str | None,
    principal: str | None,
    reason: str,
    policy: CompiledPolicy | None,
    started_ns: int,
    cold_start: bool,
    lambda_request_id: str | None,
) -> dict[str, Any]:
    line: dict[str, Any] = {"effect": effect}
    if rule is not None:
        line["rule"] = rule
    if principal is not None:
        line["principal"] = principal
    line["reason"] = reason
    if policy is not None:
        line["policy"] = policy.digest
    line["duration_us"] = (time.perf_counter_ns() - started_ns) // 1000
    line["cold_start"] = cold_start
    if lambda_request_id is not None:
        line["function_request_id"] = lambda_request_id
    return line


def _add_request(
    line: dict[str, Any], event: dict[str, Any], kind: EventKind, arn: ExecuteApiArn, policy: CompiledPolicy | None
) -> dict[str, Any]:
    line["route"] = arn.route if policy is None else policy.shown_route(event, arn)
    line["kind"] = kind.name
    line["api_id"] = arn.api
    line["stage"] = arn.stage
    context = event.get("requestContext")
    for key, name in (("request_id", "requestId"), ("extended_request_id", "extendedRequestId")):
        value = _id(context, name)
        if value is not None:
            line[key] = value
    return line


def decision_record(
    decision: Decision,
    request: Request | None,
    policy: CompiledPolicy | None,
    started_ns: int,
    *,
    cold_start: bool,
    lambda_request_id: str | None,
) -> dict[str, Any]:
    """The keys of an engine decision (None values left out, as Powertools leaves them out)."""
    line = _line(
        decision.effect,
        decision.rule,
        decision.shown_principal(),
        decision.reason,
        policy,
        started_ns,
        cold_start,
        lambda_request_id,
    )
    return line if request is None else _add_request(line, request.event, request.kind, request.arn, policy)


def answer_record(
    answer: Answer,
    event: dict[str, Any],
    policy: CompiledPolicy,
    started_ns: int,
    *,
    cold_start: bool,
    lambda_request_id: str | None,
) -> dict[str, Any]:
    """The same keys for the generated function's answer: what `decision_record` gives for the
    engine's decision of the same request (the differential tests hold them to it)."""
    rule, principal, _response, because = answer
    kind, _, arn = classify(event)  # again: cheaper here than carried out of every silent decision
    if rule is None:
        reason = no_match_reason(because)
        line = _line(
            no_match_effect(policy), None, principal, reason, policy, started_ns, cold_start, lambda_request_id
        )
    else:
        shown = REDACTED if rule.principal.sensitive else principal
        line = _line(rule.effect, rule.name, shown, RULE_MATCHED, policy, started_ns, cold_start, lambda_request_id)
    return _add_request(line, event, kind, arn, policy)


def answer_effect(answer: Answer, policy: CompiledPolicy) -> str:
    rule = answer[0]
    return no_match_effect(policy) if rule is None else rule.effect


def write_metric_alone(metric: dict[str, Any]) -> None:
    """The metric without a decision line (decision lines off), as Powertools' flush writes it."""
    sys.stdout.write(json.dumps(metric, separators=(",", ":")) + "\n")
