"""deploy/template.yaml means what its docs say: policy location, least privilege, identity sources, TTLs.

cfn-lint (`make lint`) and `sam validate --lint` check the template's form; these tests check its
meaning in what CloudFormation deploys: the template as the SAM transform expands it (by
aws-sam-translator, the transform's own code), with the parameters, conditions and intrinsic
functions that matter here resolved for a given set of parameter values.
"""

from __future__ import annotations

import copy
import functools
import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import decode
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from authorizer.policy.ir import AllOf, AnyOf, Check, CompiledPolicy, JmesCheck, Not
from authorizer.policy.load import load_file
from authorizer.stores.remote import parse_location
from tests.conftest import REPO

TEMPLATE_PATH = REPO / "deploy" / "template.yaml"
STAGE_POLICIES = sorted((REPO / "deploy" / "stages").glob("*.yaml"))
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "",
    "AWS::StackName": "authorizer-dev",
}
NO_VALUE = object()
APIS = {"rest": "ExampleRestApi", "websocket": "ExampleWebSocketApi", "http": "ExampleHttpApi"}
SAM = shutil.which("sam", path=str(Path(sys.executable).parent)) or shutil.which("sam")


@functools.cache
def source() -> dict[str, Any]:
    decoded, problems = decode(str(TEMPLATE_PATH))
    assert not problems and decoded is not None
    return decoded


@functools.cache
def _expanded(params: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    template = copy.deepcopy(source())
    for resource in template["Resources"].values():  # `sam deploy` uploads local code first, as this
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in resource["Properties"]:
            resource["Properties"]["CodeUri"] = "s3://artifacts/authorizer.zip"
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=PSEUDO["AWS::Region"]))
    expanded: dict[str, Any] = translator.translate(template, parameter_values=dict(params))
    translator.metrics.publish()
    return expanded


def expanded(**params: str) -> dict[str, Any]:
    """The template after the SAM transform, given these parameter values (CloudFormation passes them)."""
    return _expanded(tuple(sorted(params.items())))


class Resolver:
    """CloudFormation's evaluation of the intrinsics this template uses, for given parameter values."""

    def __init__(self, template: dict[str, Any], **overrides: str) -> None:
        self.template = template
        self.params = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
        self.params.update(overrides)

    def condition(self, name: str) -> bool:
        return bool(self(self.template["Conditions"][name]))

    def lookup(self, name: str, local: dict[str, Any]) -> Any:
        if name in local:
            return local[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        return self.params[name] if name in self.params else PSEUDO.get(name, f"<{name}>")

    def __call__(self, node: Any, local: dict[str, Any] | None = None) -> Any:
        local = local or {}
        if isinstance(node, list):
            items = [self(item, local) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.lookup(arg, local)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::If":
                return self(arg[1] if self.condition(arg[0]) else arg[2], local)
            if key == "Fn::Equals":
                return self(arg[0]) == self(arg[1])
            if key == "Fn::Not":
                return not self(arg[0])
            if key == "Fn::Or":
                return any(self(item) for item in arg)
            if key == "Fn::Split":
                return str(self(arg[1], local)).split(arg[0])
            if key == "Fn::Select":
                return self(arg[1], local)[int(arg[0])]
            if key == "Fn::Sub":
                text, names = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                scope = {**local, **{name: self(value, local) for name, value in names.items()}}
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.lookup(m.group(1), scope)), text)
        return {key: value for key, value in ((k, self(v, local)) for k, v in node.items()) if value is not NO_VALUE}

    def properties(self, resource: str) -> dict[str, Any]:
        spec = self.template["Resources"][resource]
        assert self.condition(spec["Condition"]) if "Condition" in spec else True, f"{resource} is not created"
        resolved: dict[str, Any] = self(spec["Properties"])
        return resolved

    def created(self, resource_type: str) -> list[str]:
        """Logical IDs of the resources of this type that these parameter values create."""
        return [
            name
            for name, spec in self.template["Resources"].items()
            if spec["Type"] == resource_type and ("Condition" not in spec or self.condition(spec["Condition"]))
        ]


def deployed(**params: str) -> Resolver:
    return Resolver(expanded(**params), **params)


LOCATIONS = {
    "s3": ("policies-bucket/prod/policy.yaml", ("policies-bucket", "prod/policy.yaml")),
    "ssm": ("/authorizer/prod/policy", ("/authorizer/prod/policy",)),
    "appconfig": ("app1234/env5678/prof9012", ("app1234", "env5678", "prof9012")),
}


@pytest.mark.parametrize("source_kind", sorted(LOCATIONS))
def test_remote_policy_location_is_what_the_store_parses(source_kind: str) -> None:
    path, parts = LOCATIONS[source_kind]
    env = deployed(PolicySource=source_kind, PolicyPath=path).properties("AuthorizerFunction")["Environment"]
    where = parse_location(env["Variables"]["AUTHORIZER_POLICY"])
    assert (where.kind, where.parts) == (source_kind, parts)


def test_bundled_policy_is_the_packaged_file() -> None:
    env = deployed().properties("AuthorizerFunction")["Environment"]["Variables"]
    assert env["AUTHORIZER_POLICY"] == "policy.yaml"  # where deploy/package.py puts the stage policy


def read_statements(**params: str) -> list[dict[str, Any]]:
    policies = deployed(**params).properties("AuthorizerRole").get("Policies", [])
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


def test_a_bundled_policy_gets_no_read_permission() -> None:
    assert read_statements() == []
    managed = deployed().properties("AuthorizerRole")["ManagedPolicyArns"]
    assert managed == ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]  # logs only


@pytest.mark.parametrize(
    ("source_kind", "actions", "resource"),
    [
        ("s3", "s3:GetObject", "arn:aws:s3:::policies-bucket/prod/policy.yaml"),
        ("ssm", "ssm:GetParameter", "arn:aws:ssm:eu-west-1:123456789012:parameter/authorizer/prod/policy"),
        (
            "appconfig",
            ["appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"],
            "arn:aws:appconfig:eu-west-1:123456789012:application/app1234/environment/env5678/configuration/prof9012",
        ),
    ],
)
def test_a_remote_policy_gets_read_access_to_that_one_location(source_kind: str, actions: Any, resource: str) -> None:
    statements = read_statements(PolicySource=source_kind, PolicyPath=LOCATIONS[source_kind][0])
    assert statements == [{"Effect": "Allow", "Action": actions, "Resource": resource}]


def test_the_function_role_is_the_least_privileged_one() -> None:
    """SAM would otherwise create a role of its own for the function."""
    assert deployed().properties("AuthorizerFunction")["Role"] == {"Fn::GetAtt": ["AuthorizerRole", "Arn"]}


def sources_read(policy: CompiledPolicy) -> set[tuple[str, str]]:
    """(kind, name) of every header, query-string and stage-variable source the policy reads."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Check):
            names.add(node.source)
        elif isinstance(node, AllOf | AnyOf):
            for child in node.children:
                walk(child)
        elif isinstance(node, Not):
            walk(node.child)
        elif isinstance(node, JmesCheck):
            pytest.fail("a JMESPath condition may read anything: list its identity sources by hand")

    for rule in policy.rules:
        for condition in rule.conditions:
            walk(condition)
        outputs = [rule.principal, rule.usage_identifier_key, *(output for _, output in rule.context)]
        names.update(output.source for output in outputs if output is not None and output.source)
    kinds = {"header", "query", "stage"}
    pairs = {tuple(name.split(".", 1)) for name in names if name.split(".", 1)[0] in kinds}
    return {(kind, name.lower() if kind == "header" else name) for kind, name in pairs}


IDENTITY_PREFIXES = {
    "method.request.header.": "header",
    "method.request.querystring.": "query",
    "route.request.header.": "header",
    "route.request.querystring.": "query",
    "$request.header.": "header",
    "$request.querystring.": "query",
    "stageVariables.": "stage",
    "$stageVariables.": "stage",
}


def authorizer(resolver: Resolver, api: str) -> dict[str, Any]:
    """The authorizer API Gateway is given for one example API, as OpenAPI's
    x-amazon-apigateway-authorizer keys (the WebSocket API's resource properties renamed so)."""
    if api == "websocket":
        props = resolver.properties("WebSocketAuthorizer")
        return {"identitySource": props["IdentitySource"], "authorizerUri": props["AuthorizerUri"]}
    body = resolver.properties(APIS[api])["Body"]
    schemes = body["securityDefinitions"] if api == "rest" else body["components"]["securitySchemes"]
    ((name, scheme),) = schemes.items()
    operations = [operation for path in body["paths"].values() for operation in path.values()]
    assert operations and all(operation["security"] == [{name: []}] for operation in operations)  # every route
    config: dict[str, Any] = scheme["x-amazon-apigateway-authorizer"]
    return config


def identity_sources(config: dict[str, Any]) -> set[tuple[str, str]]:
    raw = config["identitySource"]
    found = set()
    for entry in raw.split(",") if isinstance(raw, str) else raw:
        for prefix, kind in IDENTITY_PREFIXES.items():
            if entry.strip().startswith(prefix):
                name = entry.strip().removeprefix(prefix)
                found.add((kind, name.lower() if kind == "header" else name))
    return found


@pytest.mark.parametrize("policy_path", STAGE_POLICIES, ids=lambda p: Path(p).stem)
@pytest.mark.parametrize("api", sorted(APIS))
def test_identity_sources_are_what_the_stage_policies_read(policy_path: Path, api: str) -> None:
    """Fewer would cache answers under too coarse a key; more would 401 callers the policy admits."""
    policy = load_file(policy_path, use_cache=False).policy
    assert identity_sources(authorizer(deployed(), api)) == sources_read(policy)


def stage_of(resolver: Resolver, api: str) -> dict[str, Any]:
    """The deployed stage of one example API, its variables under one name."""
    (stage,) = [
        props
        for name in resolver.created("AWS::ApiGateway::Stage") + resolver.created("AWS::ApiGatewayV2::Stage")
        if (props := resolver.properties(name)).get("RestApiId", props.get("ApiId")) == f"<{APIS[api]}>"
    ]
    return {"name": stage["StageName"], "variables": stage.get("Variables", stage.get("StageVariables", {}))}


def test_stage_variables_the_policies_read_are_set_on_every_stage() -> None:
    resolver = deployed(Stage="prod")
    for api in APIS:
        stage = stage_of(resolver, api)
        assert stage["name"] == "prod"
        for path in STAGE_POLICIES:
            read = {name for kind, name in sources_read(load_file(path, use_cache=False).policy) if kind == "stage"}
            assert read <= set(stage["variables"]), f"{api} lacks stage variables {read} read by {path.name}"


def test_cache_ttl_is_off_by_default_and_only_where_api_gateway_caches() -> None:
    assert source()["Parameters"]["AuthorizerCacheTtl"]["Default"] == 0
    assert str(authorizer(deployed(), "rest")["authorizerResultTtlInSeconds"]) == "0"
    assert str(authorizer(deployed(), "http")["authorizerResultTtlInSeconds"]) == "0"
    cached = deployed(AuthorizerCacheTtl="300")
    assert str(authorizer(cached, "rest")["authorizerResultTtlInSeconds"]) == "300"
    http = authorizer(cached, "http")
    assert str(http["authorizerResultTtlInSeconds"]) == "300"
    assert "$context.routeKey" in http["identitySource"]  # simple responses have no resource scope: key per route
    assert "authorizerResultTtlInSeconds" not in authorizer(cached, "websocket")  # not supported
    assert "AuthorizerResultTtlInSeconds" not in cached.properties("WebSocketAuthorizer")


def test_http_api_uses_payload_2_with_simple_responses_and_the_function_answers_so() -> None:
    resolver = deployed()
    http = authorizer(resolver, "http")
    assert (http["authorizerPayloadFormatVersion"], http["enableSimpleResponses"]) == ("2.0", True)
    assert resolver.properties("AuthorizerFunction")["Environment"]["Variables"]["AUTHORIZER_RESPONSE"] == "simple"


def test_every_authorizer_calls_the_live_alias_and_may() -> None:
    resolver = deployed()
    (alias,) = resolver.created("AWS::Lambda::Alias")
    assert resolver.properties(alias)["Name"] == "live"
    assert resolver.properties(alias)["FunctionName"] == "<AuthorizerFunction>"
    for api in APIS:
        assert f"/functions/<{alias}>/invocations" in authorizer(resolver, api)["authorizerUri"]
    invocations = [resolver.properties(name) for name in resolver.created("AWS::Lambda::Permission")]
    granted = {p["SourceArn"] for p in invocations if p["FunctionName"] == f"<{alias}>"}
    assert granted == {  # API Gateway may invoke the alias for these APIs' authorizers, and nothing else
        "arn:aws:execute-api:eu-west-1:123456789012:<ExampleRestApi>/authorizers/*",
        "arn:aws:execute-api:eu-west-1:123456789012:<ExampleHttpApi>/authorizers/*",
        "arn:aws:execute-api:eu-west-1:123456789012:<ExampleWebSocketApi>/authorizers/<WebSocketAuthorizer>",
    }


def created(resolver: Resolver) -> set[str]:
    return {
        name
        for kind in {spec["Type"] for spec in resolver.template["Resources"].values()}
        for name in resolver.created(kind)
    }


@pytest.mark.parametrize(
    ("api", "parameter", "prefix"),
    [("rest", "RestApi", "Rest"), ("websocket", "WebSocketApi", "WebSocket"), ("http", "HttpApi", "Http")],
)
def test_each_example_api_can_be_left_out_alone(api: str, parameter: str, prefix: str) -> None:
    """Every resource of an API, its backend included, goes with its parameter; the others stay."""
    without = deployed(**{parameter: "false"})
    dropped, added = created(deployed()) - created(without), created(without) - created(deployed())
    assert dropped and all(name.startswith((prefix, f"Example{prefix}")) for name in dropped) and not added
    for other in set(APIS) - {api}:
        assert authorizer(without, other)["authorizerUri"]


def test_the_handler_named_in_the_template_exists() -> None:
    module, _, name = deployed().properties("AuthorizerFunction")["Handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))


def test_sam_builds_the_function_with_the_makefile() -> None:
    """`sam build` runs `make build-<LogicalId>` in CodeUri: the repository, whose Makefile packages."""
    function = source()["Resources"]["AuthorizerFunction"]
    assert function["Metadata"]["BuildMethod"] == "makefile"
    code = (TEMPLATE_PATH.parent / function["Properties"]["CodeUri"]).resolve()
    assert code == REPO and (code / "Makefile").is_file()
    plan = subprocess.run(
        ["make", "-n", "build-AuthorizerFunction", "ARTIFACTS_DIR=/tmp/artifacts", "STAGE=prod"],
        cwd=code,
        capture_output=True,
        text=True,
    )
    assert plan.returncode == 0, plan.stderr
    assert "deploy/package.py --stage prod" in plan.stdout and '--output-dir "/tmp/artifacts"' in plan.stdout


@pytest.mark.skipif(SAM is None, reason="SAM CLI is not installed (pip install aws-sam-cli; it is in the dev extra)")
def test_sam_validate_lint_passes() -> None:
    assert SAM is not None
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [SAM, "validate", "--lint", "-t", str(TEMPLATE_PATH)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout
