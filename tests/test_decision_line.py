"""The decision line carries what operators correlate on: the cold start, the Lambda request id, API
Gateway's request ids, the API and stage, the route and kind; never a credential; the same keys
whichever back end decided."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from authorizer import handler
from authorizer.decide import generated as generated_module
from authorizer.event.builder import RequestSpec

POLICY = (
    "version: 1\nrules:\n"
    "  - {name: keyed, effect: allow, when: {header.x-api-key: the-key}, principal: {from: header.x-api-key}}\n"
)
CONTEXT = SimpleNamespace(aws_request_id="7f0c1a2b-0000-4000-8000-00000000aaaa")


def lines(log_output: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log_output.getvalue().splitlines() if '"decision"' in line]


def event(**context: Any) -> dict[str, Any]:
    item = RequestSpec(headers={"x-api-key": "the-key"}).to_event("rest")
    item["requestContext"].update(context)
    return item


@pytest.mark.parametrize("path", ["generated", "engine"])
def test_what_operators_correlate_on(
    use_policy: Any, log_output: Any, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    use_policy(POLICY)
    handler._cold = True  # a fresh process's first request
    if path == "engine":
        monkeypatch.setattr(generated_module, "classify", None)  # the generated path gives up
    first = event(requestId="req-1", extendedRequestId="ext-1")
    assert handler.lambda_handler(first, CONTEXT)["principalId"] == "the-key"
    handler.lambda_handler(event(requestId="req-2", extendedRequestId="ext-2"), None)
    one, two = lines(log_output)
    assert one["cold_start"] is True and two["cold_start"] is False
    assert one["function_request_id"] == CONTEXT.aws_request_id and "function_request_id" not in two
    assert (one["request_id"], one["extended_request_id"]) == ("req-1", "ext-1")
    assert (two["request_id"], two["extended_request_id"]) == ("req-2", "ext-2")
    assert one["location"].startswith("_record_answer" if path == "generated" else "_record_decision")
    arn = first["methodArn"].split(":")[5].split("/")
    assert (one["api_id"], one["stage"], one["kind"], one["route"]) == (arn[0], arn[1], "rest", "GET /")
    assert (one["effect"], one["rule"], one["reason"]) == ("allow", "keyed", "rule matched")
    assert one["principal"] == "<redacted>" and "the-key" not in log_output.getvalue()


@pytest.mark.parametrize("value", ["x" * 129, 12345, {"nested": "id"}, None])
def test_request_ids_that_are_not_api_gateways_are_left_out(use_policy: Any, log_output: Any, value: Any) -> None:
    use_policy(POLICY)
    handler.lambda_handler(event(requestId=value, extendedRequestId=value), None)
    (line,) = lines(log_output)
    assert "request_id" not in line and "extended_request_id" not in line


def test_an_anomaly_logged_with_decision_lines_off_has_its_own_duration(use_policy: Any, log_output: Any) -> None:
    use_policy(POLICY, POWERTOOLS_LOG_LEVEL="WARNING")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.lambda_handler({"type": "REQUEST"}, None)
    (line,) = lines(log_output)
    assert line["level"] == "WARNING" and line["reason"].startswith("bad event")
    assert 0 <= line["duration_us"] < 1_000_000, "measured from this request, not from the clock's origin"
