"""`authorizer serve` over HTTP, with a real client: API Gateway's statuses, bodies, events and caching.

Servers are shared within this module (see `serve`): each test uses its own paths and identities.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from authorizer.cli.main import main
from tests import test_serve_support as support
from tests.test_serve_support import EXAMPLE, IDENTITY, STAGE_VAR, write_policy

serve, upstream = support.serve, support.upstream  # the fixtures

USERS = """
version: 1
resource: {resource}
rules:
  - name: banned
    effect: deny
    when:
      header.x-user: {{exists: true}}
      header.x-role: banned
  - name: users
    effect: allow
    when:
      header.x-user: {{exists: true}}
    principal: {{from: header.x-user}}
    context:
      tier: gold
"""
BY_METHOD, BY_STAGE = USERS.format(resource="method"), USERS.format(resource="stage")
HTML = {"Accept": "text/html,application/xhtml+xml"}
OK_QUERY = "QueryString1=queryValue1"
SIMPLE = """
version: 1
response: simple
rules:
  - name: keyed
    effect: allow
    when:
      header.x-api-key: k-123
    context:
      scopes: read write
"""

TOKEN = """
version: 1
resource: api
rules:
  - name: bearer
    effect: allow
    when:
      token: {prefix: "Bearer good-"}
"""

# every server this module uses (besides the upstream and reload ones), started side by side
EXAMPLE_REST = (EXAMPLE, "--stage-var", STAGE_VAR)
EXAMPLE_GIVEN_SOURCES = (EXAMPLE, "--identity-source", "method.request.header.HeaderAuth1,stageVariables.StageVar1")
EXAMPLE_HTTP_V1 = (EXAMPLE, "--api", "http-v1", "--stage-var", STAGE_VAR)
USERS_UNCACHED = (BY_METHOD, "--ttl", "0")
USERS_CACHED_METHOD = (BY_METHOD, "--ttl", "300")
USERS_CACHED_STAGE = (BY_STAGE, "--ttl", "300")
SIMPLE_HTTP_V2 = (SIMPLE, "--api", "http-v2", "--stage", "$default")
TOKEN_REST = (TOKEN, "--api", "token")
ALL = (EXAMPLE_REST, EXAMPLE_GIVEN_SOURCES, EXAMPLE_HTTP_V1, USERS_UNCACHED, USERS_CACHED_METHOD, USERS_CACHED_STAGE,
       SIMPLE_HTTP_V2, TOKEN_REST)  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _start_servers(serve):
    for config in ALL:
        serve(*config)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, timeout=10, **kwargs)


@pytest.fixture
def example(serve):
    return serve(*EXAMPLE_REST)


# -- the example policy -------------------------------------------------------------------------
def test_example_allowed_request_reaches_the_echo_backend_with_the_exact_event(example):
    response = get(example.url(f"/pets/42?{OK_QUERY}&colour=red&colour=blue"), headers=IDENTITY)
    assert response.status_code == 200, response.text
    assert response.text.startswith('{\n  "message": ')  # indented, for people reading it with curl
    body = response.json()
    assert (body["rule"], body["principalId"]) == ("docs-example", "me")
    assert body["context"] == {"stringKey": "stringval", "numberKey": 123, "booleanKey": True}
    # REST hands the context to the integration stringified, beside the principal
    assert body["requestContext"]["authorizer"] == {
        "principalId": "me",
        "stringKey": "stringval",
        "numberKey": "123",
        "booleanKey": "true",
    }
    event = body["authorizerEvent"]
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == "arn:aws:execute-api:us-east-1:123456789012:example123/dev/GET/pets/42"
    assert event["path"] == "/pets/42" and event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "pets/42"}
    # REST keeps the case the client sent; the value is shown redacted: the name looks secret-bearing
    assert event["headers"]["HeaderAuth1"] == "<redacted>" and "headerauth1" not in event["headers"]
    assert event["multiValueQueryStringParameters"]["colour"] == ["red", "blue"]
    assert event["queryStringParameters"]["colour"] == "blue"  # single-value maps hold the last value
    assert event["stageVariables"] == {"StageVar1": "stageValue1"}
    context = event["requestContext"]
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert context["stage"] == "dev" and context["path"] == "/dev/pets/42"
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    line = example.line("GET /dev/pets/42 ")
    assert " 200 allow rule=docs-example " in line
    log = example.log()
    assert "queryValue1" not in log and "headerValue1" not in log  # no identity values in the access log


def test_missing_identity_source_is_401_without_calling_the_authorizer(example):
    response = get(example.url(f"/missing-header?{OK_QUERY}"))
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    line = example.line("GET /dev/missing-header ")
    assert "401 missing-identity rule=- " in line and "identity source header.HeaderAuth1 missing" in line


def test_an_empty_identity_value_counts_as_missing(example):
    response = get(example.url("/empty-query?QueryString1="), headers=IDENTITY)
    assert response.status_code == 401
    assert "identity source query.QueryString1 missing" in example.line("GET /dev/empty-query ")


def test_identity_sources_given_in_api_gateways_notation(serve):
    server = serve(*EXAMPLE_GIVEN_SOURCES)  # no --stage-var: StageVar1 is missing
    assert "identity sources: header.HeaderAuth1, stage.StageVar1 (given)" in server.banner
    response = get(server.url(f"/pets?{OK_QUERY}"), headers=IDENTITY)
    assert response.status_code == 401
    assert "identity source stage.StageVar1 missing" in server.line("GET /dev/pets ")


def test_the_authorizer_refusing_is_401(example):
    response = get(example.url(f"/wrong-value?{OK_QUERY}"), headers={"HeaderAuth1": "wrong"})
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    line = example.line("GET /dev/wrong-value ")
    assert "401 unauthorized rule=- " in line and 'reason="no rule matched"' in line


def test_a_path_outside_the_stage_is_403_forbidden(example):
    response = get(f"http://127.0.0.1:{example.port}/prod/pets", headers=IDENTITY)
    assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})


# -- deny, caching ------------------------------------------------------------------------------
def test_explicit_deny_is_403_with_api_gateways_body(serve):
    server = serve(*USERS_UNCACHED)
    response = get(server.url("/deny"), headers={"x-user": "mallory", "x-role": "banned"})
    assert response.status_code == 403
    assert response.json() == {"Message": "User is not authorized to access this resource with an explicit deny"}
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert get(server.url("/deny"), headers={"x-user": "alice"}).status_code == 200
    assert "403 explicit-deny rule=banned" in server.line("GET /dev/deny ")


def test_cached_method_allow_gives_403_on_the_second_route_and_explains_why(serve):
    server = serve(*USERS_CACHED_METHOD)
    first = get(server.url("/pets"), headers={"x-user": "carol"})
    assert first.status_code == 200 and first.json()["cached"] is False
    again = get(server.url("/pets"), headers={"x-user": "carol"})
    assert again.status_code == 200 and again.json()["cached"] is True
    second = get(server.url("/orders/7"), headers={"x-user": "carol"})
    assert second.status_code == 403
    assert second.json() == {"Message": "User is not authorized to access this resource"}
    other_caller = get(server.url("/orders/8"), headers={"x-user": "dave"})  # another cache key: decided anew
    assert other_caller.status_code == 200 and other_caller.json()["cached"] is False
    assert "403 implicit-deny rule=users" in server.line("GET /dev/orders/7 ")
    note = server.line("403 on GET /orders/7 from a cached answer")
    assert "the authorizer decided for GET /pets" in note and "resource: stage" in note


def test_cached_stage_allow_serves_every_route(serve):
    server = serve(*USERS_CACHED_STAGE)
    assert get(server.url("/pets"), headers={"x-user": "erin"}).status_code == 200
    second = get(server.url("/orders/7"), headers={"x-user": "erin"})
    assert second.status_code == 200 and second.json()["cached"] is True
    assert "from a cached answer" not in server.log()


def test_a_cached_deny_is_reused_for_the_same_identity(serve):
    server = serve(*USERS_CACHED_STAGE)
    assert get(server.url("/first"), headers={"x-user": "mike", "x-role": "banned"}).status_code == 403
    # the identity source is x-user only (the one both rules need): the cached Deny answers for mike
    response = get(server.url("/second"), headers={"x-user": "mike", "x-role": "admin"})
    assert response.status_code == 403
    assert "403 explicit-deny rule=banned" in server.line("GET /dev/second ")
    assert server.line("GET /dev/second ").split("ms")[1].startswith(" cached")


def test_ttl_zero_calls_the_authorizer_every_time(serve):
    server = serve(*USERS_UNCACHED)
    assert get(server.url("/a"), headers={"x-user": "frank"}).status_code == 200
    second = get(server.url("/b"), headers={"x-user": "frank"})
    assert second.status_code == 200 and second.json()["cached"] is False


# -- HTTP APIs, TOKEN ---------------------------------------------------------------------------


def test_http_api_simple_response_refusal_is_403_forbidden(serve):
    server = serve(*SIMPLE_HTTP_V2)
    allowed = get(server.url("/pets/1?a=1&a=2"), headers={"X-Api-Key": "k-123", "Cookie": "s=1; t=2"})
    assert allowed.status_code == 200, allowed.text
    body = allowed.json()
    assert body["requestContext"]["authorizer"] == {"lambda": {"scopes": "read write"}}
    event = body["authorizerEvent"]
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["routeArn"].endswith("/$default/GET/pets/1")
    assert event["headers"]["x-api-key"] == "<redacted>"  # HTTP APIs lowercase header names
    assert event["identitySource"] == ["<redacted>"]  # the event's values: tests/test_serve_gateway.py
    assert event["queryStringParameters"]["a"] == "1,2" and event["cookies"] == ["s=<redacted>", "t=<redacted>"]
    assert "apigw-requestid" in allowed.headers
    refused = get(server.url("/pets/1"), headers={"x-api-key": "nope"})
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})
    missing = get(server.url("/pets/1"))
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})


def test_http_api_payload_1_event_joins_identity_values(serve):
    server = serve(*EXAMPLE_HTTP_V1)
    response = get(server.url(f"/pets?{OK_QUERY}"), headers=IDENTITY)
    assert response.status_code == 200, response.text
    event = response.json()["authorizerEvent"]
    assert event["version"] == "1.0"
    assert event["identitySource"] == "<redacted>"  # the event's values: tests/test_serve_gateway.py
    assert event["headers"]["headerauth1"] == "<redacted>"


def test_token_api_sends_a_token_event(serve):
    server = serve(*TOKEN_REST)
    response = get(server.url("/x"), headers={"Authorization": "Bearer good-1"})
    assert response.status_code == 200, response.text
    event = response.json()["authorizerEvent"]
    assert set(event) == {"type", "authorizationToken", "methodArn"} and event["type"] == "TOKEN"
    assert get(server.url("/x"), headers={"Authorization": "Bearer bad"}).status_code == 401
    assert get(server.url("/x")).status_code == 401


# -- upstream --------------------------------------------------------------------------------------
def test_allowed_requests_are_proxied_with_the_authorizer_output_and_a_dead_upstream_is_502(serve, upstream):
    server = serve(EXAMPLE, "--stage-var", STAGE_VAR, "--ttl", "0", "--upstream", upstream.url + "/base")
    response = httpx.post(server.url(f"/orders?{OK_QUERY}"), headers=IDENTITY, content=b"hello", timeout=10)
    assert (response.status_code, response.json()) == (201, {"from": "upstream"})
    seen = upstream.seen
    assert seen[0]["target"] == f"/base/orders?{OK_QUERY}" and seen[0]["body"] == "hello"
    authorizer = json.loads(seen[0]["headers"]["x-apigateway-authorizer"])
    assert authorizer["principalId"] == "me" and authorizer["numberKey"] == "123"
    refused = httpx.post(server.url("/orders"), content=b"x", timeout=10)
    assert refused.status_code == 401 and len(seen) == 1  # a refused request never reaches the upstream
    upstream.stop()
    dead = get(server.url(f"/pets?{OK_QUERY}"), headers=IDENTITY)
    assert (dead.status_code, dead.json()) == (502, {"message": "Internal server error"})


# -- reload -------------------------------------------------------------------------------------
RELOADABLE = """
version: 1
rules:
  - name: {name}
    effect: allow
    when:
      header.x-key: "{key}"
"""


def test_policy_reload_and_a_broken_edit_keeps_the_last_good_policy(serve, tmp_path):
    policy = write_policy(tmp_path / "live.yaml", RELOADABLE.format(name="first", key="one"))
    server = serve(policy, "--ttl", "0")
    assert get(server.url("/"), headers={"x-key": "one"}).status_code == 200
    write_policy(policy, RELOADABLE.format(name="second", key="two"))
    server.wait_for_log("policy reloaded from")
    assert get(server.url("/"), headers={"x-key": "two"}).json()["rule"] == "second"
    assert get(server.url("/"), headers={"x-key": "one"}).status_code == 401
    write_policy(policy, "version: 1\nrules:\n  - name: broken\n    efect: allow\n")
    line = server.line("failed to load (keeping policy")
    assert f"{policy}:3:5: missing required key 'effect'" in line  # says why, as file:line:col
    assert get(server.url("/"), headers={"x-key": "two"}).status_code == 200
    page = get(server.url("/"), headers={"x-key": "two", **HTML})
    assert "the last good policy is still in use" in page.text


# -- pages for browsers -----------------------------------------------------------------------------
def test_browsers_get_a_page_with_the_decision_and_the_trace(serve):
    server = serve(*USERS_UNCACHED)
    denied = get(server.url("/page"), headers={**HTML, "x-user": "m", "x-role": "banned"})
    assert denied.status_code == 403 and denied.headers["content-type"].startswith("text/html")
    assert "<code>banned</code>" in denied.text and "explicit Deny" in denied.text
    allowed = get(server.url("/page"), headers={**HTML, "x-user": "<b>alice</b>", "x-role": "<i>x</i>"})
    assert allowed.status_code == 200
    assert "&lt;b&gt;alice&lt;/b&gt;" in allowed.text and "<b>alice</b>" not in allowed.text  # escaped
    assert "<i>x</i>" not in allowed.text and "header.x-role" in allowed.text  # the trace: `banned` failed on x-role
    assert "tier" in allowed.text and "gold" in allowed.text
    missing = get(server.url("/page"), headers=HTML)
    assert missing.status_code == 401 and "the authorizer was not called" in missing.text


# -- the command line ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage-var", "novalue"], "expected NAME=VALUE"),
        (["--identity-source", "headers.Auth"], "did you mean"),
        (["--identity-source", "path.id"], "cannot be an identity source"),
        (["--ttl", "3601"], "--ttl must be between 0 and 3600"),
        (["--upstream", "ftp://x"], "expected an http:// or https:// URL"),
        (["--api", "token", "--identity-source", "query.t"], "exactly one identity source, a header"),
    ],
)
def test_usage_errors_exit_2(capsys, args, message):
    assert main(["serve", str(EXAMPLE), *args]) == 2
    assert message in capsys.readouterr().err


def test_a_broken_policy_exits_1_with_file_line_col(capsys, tmp_path):
    broken = write_policy(tmp_path / "broken.yaml", "version: 1\nrules:\n  - name: x\n    efect: allow\n")
    assert main(["serve", str(broken)]) == 1
    assert f"{broken}:4:5:" in capsys.readouterr().err
