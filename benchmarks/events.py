"""The events the benchmarks decide: each shipped policy's sample events (policies/events/<policy>/),
carrying the ~20 headers a real API Gateway request carries (CloudFront, X-Forwarded-*, User-Agent...,
taken from the AWS docs' REST authorizer sample), so header lookups are timed at realistic size.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies"
SECRETS = {"CHAT_TICKET": "demo-ticket", "OPS_API_KEY": "demo-ops-key"}  # what the shipped events carry
SHIPPED = ("example", "api-keys", "http-routes", "websocket-chat")
WITH_TOKENS = ("cognito-rest", "websocket-tokens")  # their sample tokens verify with the packaged key sets

# The AWS docs' REST authorizer sample (aws-lambda-go apigw-custom-auth-request-type-request.json),
# without its HeaderAuth1: the headers every request carries whatever the policy reads.
TYPICAL_HEADERS = {
    "X-AMZ-Date": "20170718T062915Z",
    "Accept": "*/*",
    "CloudFront-Viewer-Country": "US",
    "CloudFront-Forwarded-Proto": "https",
    "CloudFront-Is-Tablet-Viewer": "false",
    "CloudFront-Is-Mobile-Viewer": "false",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)",
    "X-Forwarded-Proto": "https",
    "CloudFront-Is-SmartTV-Viewer": "false",
    "Host": "example123.execute-api.us-east-1.amazonaws.com",
    "Accept-Encoding": "gzip, deflate",
    "X-Forwarded-Port": "443",
    "X-Amzn-Trace-Id": "Root=1-5e66d96f-7491f09xmpl79d18acf3d050",
    "Via": "1.1 d3ab5fa3a7f6e3d9.cloudfront.net (CloudFront)",
    "X-Amz-Cf-Id": "nBsWBOrSHMgnaROZJK1wGCZ9PcRcSpq_oSXZNQwQ10OTZL4cimZo3g==",
    "X-Forwarded-For": "198.51.100.1, 130.176.0.1",
    "Postman-Token": "1ad8b1a0-9b7f-4c4e-8f4e-4f8d3c3e2a11",
    "cache-control": "no-cache",
    "CloudFront-Is-Desktop-Viewer": "true",
    "Content-Type": "application/x-www-form-urlencoded",
}


def with_typical_headers(event: dict[str, Any]) -> dict[str, Any]:
    """The event with the typical headers added (lower-cased for HTTP APIs, as API Gateway does)."""
    event = copy.deepcopy(event)
    lower = event.get("version") in ("1.0", "2.0")
    typical = {(k.lower() if lower else k): v for k, v in TYPICAL_HEADERS.items()}
    if isinstance(event.get("headers"), dict):
        event["headers"] = {**typical, **event["headers"]}
    if isinstance(event.get("multiValueHeaders"), dict):
        event["multiValueHeaders"] = {**{k: [v] for k, v in typical.items()}, **event["multiValueHeaders"]}
    return event


def shipped_events(policy: str) -> list[dict[str, Any]]:
    """A policy's sample events as shipped (one or two headers each)."""
    paths = sorted((POLICIES / "events" / policy).glob("*.json"))
    return [json.loads(p.read_text()) for p in paths]


def realistic_events(policy: str) -> list[dict[str, Any]]:
    """A policy's sample events with a real request's headers: the mix the warm benchmarks time."""
    return [with_typical_headers(e) for e in shipped_events(policy)]
