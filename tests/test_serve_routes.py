"""Route templates for the local gateway: API Gateway's route selection, and routes read from
OpenAPI files and SAM templates (the shipped one included)."""

from __future__ import annotations

import json

import pytest

from authorizer.cli.main import main
from authorizer.serve.apidef import ApiDefinitionError, openapi_routes, sam_routes
from authorizer.serve.routes import RouteTable, parse_route
from tests.conftest import REPO

TABLE = RouteTable(
    parse_route(text)
    for text in ("ANY /{proxy+}", "GET /pets/{id}", "GET /pets/mine", "ANY /pets/{rest+}", "POST /pets", "ANY /")
)


@pytest.mark.parametrize(
    ("method", "path", "route", "parameters"),
    [
        ("GET", "/pets/42", "GET /pets/{id}", {"id": "42"}),
        ("GET", "/pets/mine", "GET /pets/mine", {}),  # a literal beats a parameter
        ("DELETE", "/pets/42", "ANY /pets/{rest+}", {"rest": "42"}),  # a method beats ANY, ANY beats nothing
        ("GET", "/pets/42/toys", "ANY /pets/{rest+}", {"rest": "42/toys"}),
        ("POST", "/pets", "POST /pets", {}),
        ("GET", "/pets", "ANY /{proxy+}", {"proxy": "pets"}),
        ("GET", "/", "ANY /", {}),  # {proxy+} needs at least one segment
        ("GET", "/pets/", "ANY /{proxy+}", {"proxy": "pets/"}),  # strict: /pets/ is not /pets/{id}
    ],
)
def test_the_most_specific_route_wins(method, path, route, parameters):
    matched = TABLE.match(method, path)
    assert matched is not None and (matched.route.key, matched.parameters) == (route, parameters)


def test_no_route_matches():
    assert RouteTable([parse_route("GET /pets/{id}")]).match("GET", "/orders/1") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GET pets", "expected METHOD /path"),
        ("FETCH /pets", "expected METHOD /path"),
        ("GET /pets/{id}.json", "a path parameter is a whole segment"),
        ("GET /{rest+}/x", "must be the last segment"),
        ("GET /{id}/{id}", "named twice"),
        ("GET /pets//x", "an empty path segment"),
    ],
)
def test_bad_routes_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_route(text)


def test_openapi_operations_are_routes(tmp_path):
    document = {
        "openapi": "3.0.1",
        "paths": {
            "/pets": {"get": {}, "post": {}, "parameters": []},
            "/pets/{id}": {"x-amazon-apigateway-any-method": {}, "summary": "a pet"},
        },
    }
    path = tmp_path / "api.json"
    path.write_text(json.dumps(document))
    assert openapi_routes(str(path)) == ["GET /pets", "POST /pets", "ANY /pets/{id}"]


SAM = """
Resources:
  Pets:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        One: {Type: Api, Properties: {RestApiId: !Ref Rest, Path: "/pets/{id}", Method: get}}
        Two: {Type: HttpApi, Properties: {ApiId: !Ref Http, Path: "/orders/{id}", Method: DELETE}}
        Default: {Type: HttpApi, Properties: {ApiId: !Ref Http}}
        Queue: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      DefinitionBody:
        paths: {"/admin": {post: {}}}
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Http, RouteKey: "GET /health"}
  Connect:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Ws, RouteKey: $connect}
"""


def test_sam_events_definitions_and_route_keys_are_routes(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(SAM)
    assert sam_routes(str(path), "rest") == ["GET /pets/{id}", "POST /admin"]
    assert sam_routes(str(path), "http") == ["DELETE /orders/{id}", "GET /health"]


def test_the_shipped_template_gives_the_rest_api_its_two_routes():
    assert sam_routes(str(REPO / "deploy" / "template.yaml"), "rest") == ["ANY /", "ANY /{proxy+}"]


def test_a_route_that_is_not_written_out_is_an_error(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(SAM.replace('Path: "/pets/{id}"', 'Path: !Sub "/pets/${Id}"'))
    with pytest.raises(ApiDefinitionError, match=r"Resources\.Pets\.Properties\.Events\.One: Method and Path"):
        sam_routes(str(path), "rest")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--route", "GET pets"], "--route: route 'GET pets': expected METHOD /path"),
        (["--api", "websocket", "--route", "GET /x"], "--api websocket events carry no route"),
        (["--api", "token", "--route", "GET /x"], "--api token events carry no route"),
        (["--openapi", "/nonexistent.yaml"], "--openapi /nonexistent.yaml: No such file"),
        (["--api", "http-v2", "--sam-template", "deploy/template.yaml"], "no routes for a http-v2 API in it"),
        (["--source-ip", "10.0.0.256"], "--source-ip '10.0.0.256': not an IPv4 or IPv6 address"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, monkeypatch, args, message):
    monkeypatch.chdir(REPO)
    assert main(["serve", "policies/example.yaml", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_source_ip_and_trust_forwarded_for_exclude_each_other(capsys):
    assert main(["serve", "policies/example.yaml", "--source-ip", "192.0.2.1", "--trust-forwarded-for"]) == 2
    assert "not allowed with argument --source-ip" in capsys.readouterr().err
