"""Every line the Lambda writes that carries a metric is a valid CloudWatch EMF document: the
schema the CloudWatch User Guide publishes (tests/fixtures/cloudwatch/), and the rules its prose
adds. Both handler paths (the generated function and the engine), decision lines on and off, each
effect, anomalies included."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from authorizer import handler
from authorizer.decide import generated as generated_module
from authorizer.event.builder import RequestSpec

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "cloudwatch" / "emf-schema.json").read_text())
EMF = jsonschema.Draft7Validator(SCHEMA)  # no `$schema` in it; its `$id` fragments are draft-07 style
POLICY = (
    "version: 1\nrules:\n"
    "  - {name: in, effect: allow, when: {header.x-who: ann}, principal: {from: header.x-who}}\n"
    "  - {name: out, effect: deny, when: {header.x-who: bob}}\n"
)
EVENTS = {
    "allow": RequestSpec(headers={"x-who": "ann"}).to_event("rest"),
    "deny": RequestSpec(headers={"x-who": "bob"}).to_event("rest"),
    "unauthorized": RequestSpec(headers={"x-who": "eve"}).to_event("rest"),
    "bad event": {"type": "REQUEST"},
}
METRIC_OF = {"allow": "Allow", "deny": "Deny", "unauthorized": "Unauthorized", "bad event": "Unauthorized"}


def test_the_schema_is_a_draft_7_schema_that_rejects_what_the_spec_rejects() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    good = {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [[]], "Metrics": []}]}}
    assert EMF.is_valid(good)
    for broken in ({}, {"_aws": {"CloudWatchMetrics": []}}, {"_aws": {"Timestamp": "1", "CloudWatchMetrics": []}}):
        assert not EMF.is_valid(broken)


def check_emf(document: dict[str, Any], line: str) -> None:
    EMF.validate(document)
    assert len(line.encode()) <= 256 * 1024
    for directive in document["_aws"]["CloudWatchMetrics"]:
        assert len(directive["Metrics"]) <= 100
        for dimensions in directive["Dimensions"]:
            assert len(dimensions) <= 9
            assert all(isinstance(document.get(key), str) for key in dimensions), dimensions
        for metric in directive["Metrics"]:
            value = document.get(metric["Name"])
            numbers = value if isinstance(value, list) else [value]
            assert 1 <= len(numbers) <= 100
            assert all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers), metric


@pytest.mark.parametrize("path", ["generated", "engine"])
@pytest.mark.parametrize("level", ["INFO", "WARNING"])
@pytest.mark.parametrize("case", sorted(EVENTS))
def test_every_metric_line_is_valid_emf(
    use_policy: Any,
    log_output: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    level: str,
    case: str,
) -> None:
    use_policy(POLICY, AUTHORIZER_METRICS="true", POWERTOOLS_LOG_LEVEL=level)
    runtime = handler.boot()
    if path == "engine":
        monkeypatch.setattr(generated_module, "classify", None)  # the generated path gives up: FALLBACK
    try:
        handler.lambda_handler(EVENTS[case], None)
    except Exception as exc:
        assert str(exc) == "Unauthorized"
    assert runtime.metrics is not None
    written = (log_output.getvalue() + capsys.readouterr().out).splitlines()
    documents = [(json.loads(line), line) for line in written if '"_aws"' in line]
    assert len(documents) == 1, written  # one metric per decision, in the decision line or alone
    document, line = documents[0]
    check_emf(document, line)
    assert document[METRIC_OF[case]] in (1, [1.0])
    assert document["service"] == "authorizer"
    shown = document.get("message") == "decision"
    assert shown == (level == "INFO" or case == "bad event"), "the line is there when INFO is on, or for an anomaly"


def test_powertools_is_still_the_one_serialising_the_metric(use_policy: Any) -> None:
    """The EMF block is Powertools' own serialisation (made at boot), not a copy of its format."""
    use_policy(POLICY, AUTHORIZER_METRICS="true", POWERTOOLS_METRICS_NAMESPACE="Shop")
    runtime = handler.boot()
    assert runtime.metrics is not None
    block = runtime.metrics.add({}, "deny")
    check_emf(block, json.dumps(block))
    assert block["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Shop"
    assert logging.getLevelName(handler.logger.log_level) in ("INFO", "WARNING", "DEBUG")
