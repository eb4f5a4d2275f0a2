import copy

import pytest

from authorizer.event.builder import RequestSpec
from authorizer.event.readers import BadEvent, classify
from authorizer.event.request import Request
from tests.conftest import load_fixture

KIND_OF_FIXTURE = {
    "aws-lambda-go/apigw-custom-auth-request.json": "token",
    "powertools/apiGatewayAuthorizerTokenEvent.json": "token",
    "aws-lambda-go/apigw-custom-auth-request-type-request.json": "rest",
    "aws-sam-cli/ApiGatewayRestRequestAuthorizer.json": "rest",
    "own/websocket-connect-request.json": "websocket",
    "aws-lambda-go/apigw-v2-custom-authorizer-v1-request.json": "http-v1",
    "aws-lambda-java-libs/apigw_auth.json": "http-v1",
    "powertools/apiGatewayAuthorizerRequestEvent.json": "http-v1",
    "aws-lambda-go/apigw-v2-custom-authorizer-v2-request.json": "http-v2",
    "aws-lambda-java-libs/apigw_auth_v2.json": "http-v2",
    "powertools/apiGatewayAuthorizerV2Event.json": "http-v2",
}


@pytest.mark.parametrize("fixture,kind", sorted(KIND_OF_FIXTURE.items()))
def test_kind_is_recognised_from_real_samples(fixture, kind):
    assert Request(load_fixture(fixture)).kind.name == kind


@pytest.mark.parametrize(
    "fixture",
    [
        "powertools/apiGatewayProxyEvent.json",
        "powertools/apiGatewayProxyV2Event.json",
        "aws-lambda-dotnet/websocket-api-connect-request.json",
        "aws-lambda-go/apigw-custom-auth-response.json",
    ],
)
def test_non_authorizer_events_are_bad(fixture):
    with pytest.raises(BadEvent):
        Request(load_fixture(fixture))


@pytest.mark.parametrize("event", [None, [], "x", 1, {}, {"type": "TOKEN"}, {"type": "REQUEST", "version": "3.0"}])
def test_junk_is_bad(event):
    with pytest.raises(BadEvent):
        Request(event)


def test_websocket_recognised_by_arn_without_event_type():
    event = load_fixture("own/websocket-connect-request.json")
    del event["requestContext"]["eventType"]
    assert classify(event)[0].name == "websocket"


def test_header_names_are_case_insensitive():
    r = Request(RequestSpec(headers={"HeaderAuth1": "v"}).to_event("rest"))
    assert r.headers()["headerauth1"] == ("v",)


def test_same_name_in_two_cases_keeps_both_values():
    event = RequestSpec().to_event("rest")
    event["headers"] = {"X-Key": "a", "x-key": "b"}
    event["multiValueHeaders"] = None
    assert sorted(Request(event).headers()["x-key"]) == ["a", "b"]


@pytest.mark.parametrize(
    "field",
    [
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "stageVariables",
        "requestContext",
        "pathParameters",
    ],
)
@pytest.mark.parametrize("value", [None, "junk", 3, []])
def test_every_map_may_be_null_absent_or_junk(field, value):
    event = RequestSpec(headers={"a": "1"}, query={"q": "1"}).to_event("rest")
    event[field] = value
    r = Request(event)
    r.headers(), r.query(), r.stage_variables(), r.path_parameters(), r.request_context(), r.view()
    event.pop(field)
    Request(event).view()


def test_multi_value_maps_hold_every_value():
    r = Request(RequestSpec(query={"colors[]": ["blue", "red"]}).to_event("rest"))
    assert r.query()["colors[]"] == ("blue", "red")


def test_http_v2_comma_joined_values_are_split():
    r = Request(
        RequestSpec(query={"p": ["a", "b"]}, headers={"X-Forwarded-For": "1.1.1.1, 2.2.2.2"}).to_event("http-v2")
    )
    assert r.query()["p"] == ("a", "b")
    assert r.headers()["x-forwarded-for"] == ("1.1.1.1", "2.2.2.2")


def test_http_v2_cookies():
    r = Request(load_fixture("aws-lambda-go/apigw-v2-custom-authorizer-v2-request.json"))
    event = copy.deepcopy(r.event)
    event["cookies"] = ["session=abc", "theme=dark", "bad"]
    assert Request(event).cookies() == {"session": ("abc",), "theme": ("dark",)}


def test_cookie_header_for_rest():
    r = Request(RequestSpec(headers={"Cookie": "a=1; b=2"}).to_event("rest"))
    assert r.cookies() == {"a": ("1",), "b": ("2",)}


def test_source_ip_per_kind():
    for kind in ("rest", "websocket", "http-v1", "http-v2"):
        assert Request(RequestSpec(source_ip="203.0.113.9").to_event(kind)).source_ip() == "203.0.113.9"
    assert Request(RequestSpec().to_event("token")).source_ip() is None


def test_token_only_for_token_events():
    assert Request(RequestSpec(token="Bearer x").to_event("token")).token() == "Bearer x"
    assert Request(RequestSpec().to_event("http-v1")).token() is None


def test_route_key():
    assert Request(RequestSpec(route_key="GET /pets/{id}", path="/pets/1").to_event("http-v2")).route_key() == (
        "GET /pets/{id}"
    )
    assert Request(RequestSpec(route_key="GET /pets/{id}", path="/pets/1").to_event("rest")).route_key() == (
        "GET /pets/{id}"
    )
    assert Request(RequestSpec().to_event("websocket")).route_key() == "$connect"
    assert Request(RequestSpec(path="/x").to_event("token")).route_key() == "GET /x"


def test_view_flattens_single_values_and_keeps_conflicts_as_lists():
    view = Request(RequestSpec(headers={"A": "1", "B": ["1", "2"]}).to_event("rest")).view()
    assert view["headers"]["a"] == "1"
    assert view["headers"]["b"] == ["1", "2"]
    assert view["arn"]["stage"] == "dev"
