"""The template's alarms fire on what the function writes, and on nothing else it writes.

Each metric filter's pattern is matched against the log lines the handler writes, configured with
the template's own environment, in every case an alarm is for (a policy that does not load, each
kind of anomalous refusal) and in the ordinary ones it is not for; the refusal alarm is compared
with the EMF metric the handler prints.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable
from typing import Any

import pytest

from authorizer import handler
from authorizer.decide import evaluate as evaluate_module
from authorizer.decide import generated as generated_module
from authorizer.decide.decision import Anomaly
from authorizer.event.builder import RequestSpec
from authorizer.stores.base import StaticPolicyStore
from tests.conftest import compile_yaml
from tests.test_template import Resolver, deployed, source

TOPIC = "arn:aws:sns:eu-west-1:123456789012:operators"
OPEN = "version: 1\nrules:\n  - {name: open, effect: allow, when: {header.x-ok: 'yes'}}\n"
BROKEN = "version: 1\nrules:\n  - {name: open, effect: alow}\n"
NESTED_CONTEXT = "version: 1\nrules:\n  - {name: r, effect: allow, context: {id: {from: context.identity}}}\n"


def matches(pattern: str, line: str) -> bool:
    """CloudWatch Logs' filter patterns, in the two forms the template uses: `?"a b" ?"c"` (one of the
    quoted terms occurs in the line) and `{ $.k = "v" && $.k != "w" }` (string fields of a JSON line)."""
    if pattern.startswith("{"):
        clauses = pattern.strip("{} ").split(" && ")
        tests = [re.fullmatch(r'\$\.(\w+) (=|!=) "([^"*]*)"', clause) for clause in clauses]
        assert all(tests), f"extend matches() to read {pattern!r}"
        try:
            event = json.loads(line)
        except ValueError:
            return False
        return all((event.get(m[1]) == m[3]) == (m[2] == "=") for m in tests if m)
    terms = re.findall(r'\?"([^"]+)"', pattern)
    assert terms and pattern == " ".join(f'?"{term}"' for term in terms), f"extend matches() to read {pattern!r}"
    return any(term in line for term in terms)


def with_topic(**params: str) -> Resolver:
    return deployed(AlarmTopicArn=TOPIC, **params)


def filters(resolver: Resolver) -> dict[str, str]:
    """Metric name → the pattern of each filter that counts into it, as `?`-joined alternatives."""
    found: dict[str, list[str]] = {}
    for name in resolver.created("AWS::Logs::MetricFilter"):
        props = resolver.properties(name)
        assert props["LogGroupName"] == "<AuthorizerLogGroup>"  # the function's own log group
        (metric,) = props["MetricTransformations"]
        assert metric["MetricNamespace"] == "Authorizer/authorizer-dev" and metric["MetricValue"] == "1"
        found.setdefault(metric["MetricName"], []).append(props["FilterPattern"])
    return {metric: " | ".join(patterns) for metric, patterns in found.items()}


def counted(resolver: Resolver, lines: list[str]) -> dict[str, int]:
    """How much each log-fed metric grows for these lines."""
    return {
        metric: sum(any(matches(p, line) for p in patterns.split(" | ")) for line in lines)
        for metric, patterns in filters(resolver).items()
    }


def test_the_function_logs_to_the_group_the_filters_read() -> None:
    resolver = with_topic()
    assert resolver.properties("AuthorizerLogGroup")["LogGroupName"] == "/aws/lambda/<AuthorizerFunction>"
    assert set(filters(resolver)) == {"PolicyLoadFailures", "InternalErrors"}


def test_no_filters_or_alarms_without_a_topic() -> None:
    resolver = deployed()
    assert resolver.created("AWS::CloudWatch::Alarm") == resolver.created("AWS::Logs::MetricFilter") == []


def test_every_alarm_notifies_the_topic_and_watches_a_metric_that_exists() -> None:
    resolver = with_topic()
    alarms = {name: resolver.properties(name) for name in resolver.created("AWS::CloudWatch::Alarm")}
    assert set(alarms) == {"PolicyLoadAlarm", "InternalErrorAlarm", "RefusalSurgeAlarm", "ThrottleAlarm"}
    log_metrics = set(filters(resolver))
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [TOPIC], name
        assert alarm["TreatMissingData"] == "notBreaching", name  # no traffic is not an incident
        if alarm["Namespace"] == "AWS/Lambda":
            assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "<AuthorizerFunction>"}], name
        elif alarm["MetricName"] != "Unauthorized":  # the EMF metric: test_refusal_alarm_...
            assert alarm["Namespace"] == "Authorizer/authorizer-dev" and alarm["MetricName"] in log_metrics, name


def test_the_refusal_threshold_is_a_parameter() -> None:
    alarm = with_topic(RefusalAlarmThreshold="250").properties("RefusalSurgeAlarm")
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["Period"]) == ("250", "GreaterThanThreshold", 300)


def test_alarms_refuse_a_log_level_that_hides_what_they_count() -> None:
    rule = source()["Rules"]["AlarmsNeedWarningLines"]

    def holds(**params: str) -> bool:
        resolver = Resolver(source(), **params)
        return not resolver(rule["RuleCondition"]) or all(resolver(a["Assert"]) for a in rule["Assertions"])

    assert holds(LogLevel="ERROR")  # no topic, no alarms
    assert not holds(AlarmTopicArn=TOPIC, LogLevel="ERROR")
    assert holds(AlarmTopicArn=TOPIC, LogLevel="WARNING")


@pytest.fixture
def as_deployed(use_policy: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point the handler at a policy with the function's environment from the template (alarms on)."""

    def configure(policy: str, **params: str) -> None:
        variables = with_topic(**params).properties("AuthorizerFunction")["Environment"]["Variables"]
        use_policy(policy, **{name: str(value) for name, value in variables.items() if name != "AUTHORIZER_POLICY"})
        monkeypatch.delenv("AUTHORIZER_METRICS")  # not set by the template: the default, as on Lambda

    return configure


def logged(log_output: Any, event: Any) -> list[str]:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.lambda_handler(event, None)
    return [line for line in log_output.getvalue().splitlines() if line.strip()]


def test_a_policy_that_does_not_load_counts_as_a_policy_failure_only(
    as_deployed: Callable[..., None], log_output: Any
) -> None:
    as_deployed(BROKEN)
    lines = logged(log_output, RequestSpec().to_event("rest"))
    assert counted(with_topic(), lines) == {"PolicyLoadFailures": 3, "InternalErrors": 0}  # store, boot, decision


def test_a_refreshed_policy_that_does_not_load_counts_too(log_output: Any) -> None:
    store = StaticPolicyStore(compile_yaml(OPEN), "s3://policies/prod.yaml")
    store._reject("s3://policies/prod.yaml:3:26: 'alow' is not allowed here")  # as a refresh does
    lines = log_output.getvalue().splitlines()
    assert "keeping policy" in lines[0]
    assert counted(with_topic(), lines) == {"PolicyLoadFailures": 1, "InternalErrors": 0}


def rest_event() -> dict[str, Any]:
    return RequestSpec(headers={"x-ok": "yes"}).to_event("rest")


def bad_event(as_deployed: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> Any:
    as_deployed(OPEN)
    return {"type": "REQUEST"}


def internal_error(as_deployed: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> Any:
    as_deployed(OPEN)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(evaluate_module, "decide", boom)  # the engine raises
    monkeypatch.setattr(generated_module, "classify", boom)  # and the generated path gives up
    return rest_event()


def response_rejected(as_deployed: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> Any:
    as_deployed(NESTED_CONTEXT)  # an object in a REST context: API Gateway would answer 500
    return rest_event()


def settings_invalid(as_deployed: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> Any:
    as_deployed(OPEN)
    monkeypatch.setenv("AUTHORIZER_RESPONSE", "fancy")
    return rest_event()


def secret_unavailable(as_deployed: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("ALARM_TEST_KEY", raising=False)  # the function's environment lacks the secret
    as_deployed(
        "version: 1\nsecrets: {k: {env: ALARM_TEST_KEY}}\n"
        "rules:\n  - {name: keyed, effect: allow, when: {header.x-key: {secret: k}}}\n"
    )
    return RequestSpec(headers={"x-key": "guess"}).to_event("rest")


ANOMALIES = {
    "bad event": bad_event,
    "internal error": internal_error,
    "response rejected": response_rejected,
    "settings invalid": settings_invalid,
    "secret unavailable": secret_unavailable,
}


def test_every_anomaly_has_a_case() -> None:
    assert set(ANOMALIES) | {"no policy"} == set(typing.get_args(Anomaly))


@pytest.mark.parametrize("level", ["INFO", "WARNING"])
@pytest.mark.parametrize("anomaly", sorted(ANOMALIES))
def test_each_anomalous_refusal_counts_as_an_internal_error(
    anomaly: str, level: str, as_deployed: Callable[..., None], monkeypatch: pytest.MonkeyPatch, log_output: Any
) -> None:
    event = ANOMALIES[anomaly](lambda policy: as_deployed(policy, LogLevel=level), monkeypatch)
    lines = logged(log_output, event)
    assert any(json.loads(line).get("reason", "").startswith(anomaly) for line in lines)
    assert counted(with_topic(), lines) == {"PolicyLoadFailures": 0, "InternalErrors": 1}


def test_ordinary_decisions_count_nowhere(as_deployed: Callable[..., None], log_output: Any) -> None:
    as_deployed(OPEN + "  - {name: blocked, effect: deny, when: {header.x-ok: 'no'}}\n")
    handler.lambda_handler(rest_event(), None)
    handler.lambda_handler(RequestSpec(headers={"x-ok": "no"}).to_event("rest"), None)
    lines = logged(log_output, RequestSpec().to_event("rest"))
    assert [json.loads(line)["effect"] for line in lines] == ["allow", "deny", "unauthorized"]
    assert counted(with_topic(), lines) == {"PolicyLoadFailures": 0, "InternalErrors": 0}


def test_the_refusal_alarm_watches_the_count_the_function_emits(
    as_deployed: Callable[..., None], log_output: Any
) -> None:
    """The count travels in the decision line (one JSON object: the record and its EMF block)."""
    as_deployed(OPEN)
    lines = logged(log_output, RequestSpec().to_event("rest"))
    (emf,) = [json.loads(line) for line in lines if '"_aws"' in line]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    (dimensions,) = directive["Dimensions"]
    alarm = with_topic().properties("RefusalSurgeAlarm")
    assert directive["Namespace"] == alarm["Namespace"]
    assert alarm["MetricName"] in [metric["Name"] for metric in directive["Metrics"]]
    assert [{"Name": name, "Value": emf[name]} for name in dimensions] == alarm["Dimensions"]
