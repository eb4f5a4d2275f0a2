"""The default path's yardstick: `policies/example.yaml` written by hand as a Powertools user would,
with the guarantees the authorizer gives (`baselines.example_same_guarantees`), one Powertools
`Logger.info` decision line holding the same record as the authorizer's, and one Powertools EMF
metric per request (`add_metric`, then `flush_metrics`, as `@metrics.log_metrics` does).

A Lambda module of its own (standard library and Powertools only), so the cold-start benchmark can
import it from the same package folder as the authorizer, in a fresh interpreter.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service=os.environ.get("HAND_WRITTEN_SERVICE", "hand-written"))
metrics = Metrics(namespace="Authorizer", service=os.environ.get("HAND_WRITTEN_SERVICE", "hand-written"))
_WANT = hashlib.sha256(b"headerValue1").digest()
_cold = True


def _values(event: dict[str, Any], single: str, multi: str, name: str, fold_case: bool) -> set[str]:
    found: set[str] = set()
    for key, values in (event.get(multi) or {}).items():
        if (key.lower() if fold_case else key) == name:
            found.update(values)
    for key, value in (event.get(single) or {}).items():
        if (key.lower() if fold_case else key) == name:
            found.update(value.split(",") if event.get("version") == "2.0" else [value])
    return found


def _decide(event: Any) -> tuple[dict[str, Any] | None, str | None]:
    if not isinstance(event, dict) or event.get("type") != "REQUEST":
        return None, "not a REQUEST event"
    arn = event.get("routeArn") if event.get("version") == "2.0" else event.get("methodArn")
    if not isinstance(arn, str) or arn.split(":", 3)[2:3] != ["execute-api"]:
        return None, "not an execute-api ARN"
    header = _values(event, "headers", "multiValueHeaders", "headerauth1", True)
    query = _values(event, "queryStringParameters", "multiValueQueryStringParameters", "QueryString1", False)
    if (
        len(header) == 1
        and hmac.compare_digest(hashlib.sha256(next(iter(header)).encode()).digest(), _WANT)
        and query == {"queryValue1"}
        and (event.get("stageVariables") or {}).get("StageVar1") == "stageValue1"
        and (event.get("requestContext") or {}).get("accountId") == "123456789012"
    ):
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}
        return {
            "principalId": "me",
            "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            "context": {"stringKey": "stringval", "numberKey": 123, "booleanKey": True},
        }, None
    return None, "no rule matched"


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    global _cold
    started = time.perf_counter_ns()
    cold, _cold = _cold, False
    response, reason = _decide(event)
    effect = "allow" if response is not None else "unauthorized"
    try:
        record: dict[str, Any] = {
            "effect": effect,
            "rule": "docs-example" if response is not None else None,
            "principal": "me" if response is not None else None,
            "reason": reason,
            "policy": "hand-written",
            "duration_us": (time.perf_counter_ns() - started) // 1000,
            "cold_start": cold,
            "function_request_id": getattr(context, "aws_request_id", None),
        }
        request_context = event.get("requestContext") if isinstance(event, dict) else None
        arn = event.get("routeArn") or event.get("methodArn") if isinstance(event, dict) else None
        if isinstance(arn, str) and isinstance(request_context, dict):
            api, stage, method, path = [*arn.split(":", 5)[5].split("/", 3), "", "", ""][:4]
            record.update(
                route=f"{method} /{path}",
                kind="rest-request" if event.get("version") is None else "http-request",
                api_id=api,
                stage=stage,
                request_id=request_context.get("requestId"),
                extended_request_id=request_context.get("extendedRequestId"),
            )
        logger.info("decision", extra={k: v for k, v in record.items() if v is not None})
        metrics.add_metric(name=effect.capitalize(), unit=MetricUnit.Count, value=1)
    finally:
        metrics.flush_metrics()
    if response is None:
        raise Exception("Unauthorized")
    return response
