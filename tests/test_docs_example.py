"""policies/example.yaml against the AWS docs' own JavaScript authorizer, run with node as an oracle.

Same events in, same Allow response out, same 401; where the JS crashes (a 500 on AWS) we answer
401; where the JS misses a header sent in another case, we match it (documented improvement).
"""

import json
import shutil
import subprocess

import pytest

from authorizer import handler
from authorizer.event.builder import RequestSpec
from tests.conftest import POLICIES, load_fixture

NODE = shutil.which("node")
ORACLE = str(POLICIES.parent / "tests" / "data" / "aws_docs_authorizer.js")
GOOD = {
    "headers": {"HeaderAuth1": "headerValue1"},
    "query": {"QueryString1": "queryValue1"},
    "stage_variables": {"StageVar1": "stageValue1"},
}


def js(event):
    out = subprocess.run([NODE, ORACLE], input=json.dumps(event), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def ours(event):
    try:
        return {"allow": handler.lambda_handler(event, None)}
    except Exception as exc:
        assert type(exc) is Exception
        return {"error": str(exc)}


@pytest.fixture(autouse=True)
def example_policy(monkeypatch):
    monkeypatch.setenv("AUTHORIZER_POLICY", str(POLICIES / "example.yaml"))
    monkeypatch.setenv("AUTHORIZER_METRICS", "false")
    handler.reset()
    yield
    handler.reset()


def events():
    spec = RequestSpec(**GOOD)
    yield "rest allowed", spec.to_event("rest")
    yield "websocket allowed", RequestSpec(**GOOD).to_event("websocket")
    yield "http-v1 allowed", RequestSpec(**GOOD).to_event("http-v1") | {"headers": {"HeaderAuth1": "headerValue1"}}
    yield "go REST sample", load_fixture("aws-lambda-go/apigw-custom-auth-request-type-request.json")
    yield "SAM REST template", load_fixture("aws-sam-cli/ApiGatewayRestRequestAuthorizer.json")
    yield "go HTTP 1.0 sample", load_fixture("aws-lambda-go/apigw-v2-custom-authorizer-v1-request.json")
    yield "own websocket sample", load_fixture("own/websocket-connect-request.json")
    for field, value in [("HeaderAuth1", "x"), ("QueryString1", "x"), ("StageVar1", "x")]:
        broken = RequestSpec(**GOOD).to_event("rest")
        for key in ("headers", "queryStringParameters", "stageVariables"):
            if field in broken[key]:
                broken[key][field] = value
        yield f"wrong {field}", broken
    other_account = RequestSpec(**GOOD, account_id="999999999999").to_event("rest")
    yield "other account", other_account
    numeric_account = RequestSpec(**GOOD).to_event("rest")
    numeric_account["requestContext"]["accountId"] = 123456789012
    yield "account as a number", numeric_account


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("name,event", list(events()), ids=lambda v: v if isinstance(v, str) else "")
def test_same_answer_as_the_docs_javascript(name, event):
    assert ours(event) == js(event)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("field", ["headers", "queryStringParameters", "stageVariables", "requestContext"])
def test_where_the_javascript_crashes_we_answer_401(field):
    event = RequestSpec(**GOOD).to_event("rest")
    event[field] = None
    event.pop(
        {"headers": "multiValueHeaders", "queryStringParameters": "multiValueQueryStringParameters"}.get(field, ""), 0
    )
    assert "crash" in js(event)
    assert ours(event) == {"error": "Unauthorized"}


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_header_case_differs_from_the_javascript_on_purpose():
    event = RequestSpec(**{**GOOD, "headers": {"headerauth1": "headerValue1"}}).to_event("rest")
    assert js(event) == {"error": "Unauthorized"}
    assert ours(event)["allow"]["principalId"] == "me"


def test_allow_response_is_exactly_the_docs_shape():
    event = RequestSpec(**GOOD).to_event("rest")
    assert handler.lambda_handler(event, None) == {
        "principalId": "me",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}],
        },
        "context": {"stringKey": "stringval", "numberKey": 123, "booleanKey": True},
    }
