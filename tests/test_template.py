"""deploy/template.yaml means what its docs say: policy location, least privilege, identity sources, TTLs.

cfn-lint checks the template's form (`make lint`); these tests check its meaning, by resolving the
parameters, conditions and intrinsic functions that matter here for a given set of parameter values.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from authorizer.policy.ir import AllOf, AnyOf, Check, CompiledPolicy, JmesCheck, Not
from authorizer.policy.load import load_file
from authorizer.stores.remote import parse_location
from tests.conftest import REPO

TEMPLATE_PATH = REPO / "deploy" / "template.yaml"
STAGE_POLICIES = sorted((REPO / "deploy" / "stages").glob("*.yaml"))
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012", "AWS::URLSuffix": ""}
NO_VALUE = object()


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    decoded, problems = decode(str(TEMPLATE_PATH))
    assert not problems and decoded is not None
    return decoded


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
        resolved: dict[str, Any] = self(self.template["Resources"][resource]["Properties"])
        return resolved


LOCATIONS = {
    "s3": ("policies-bucket/prod/policy.yaml", ("policies-bucket", "prod/policy.yaml")),
    "ssm": ("/authorizer/prod/policy", ("/authorizer/prod/policy",)),
    "appconfig": ("app1234/env5678/prof9012", ("app1234", "env5678", "prof9012")),
}


@pytest.mark.parametrize("source", sorted(LOCATIONS))
def test_remote_policy_location_is_what_the_store_parses(template: dict[str, Any], source: str) -> None:
    path, parts = LOCATIONS[source]
    env = Resolver(template, PolicySource=source, PolicyPath=path).properties("AuthorizerFunction")["Environment"]
    where = parse_location(env["Variables"]["AUTHORIZER_POLICY"])
    assert (where.kind, where.parts) == (source, parts)


def test_bundled_policy_is_the_packaged_file(template: dict[str, Any]) -> None:
    env = Resolver(template).properties("AuthorizerFunction")["Environment"]["Variables"]
    assert env["AUTHORIZER_POLICY"] == "policy.yaml"  # where deploy/package.py puts the stage policy


def read_statements(template: dict[str, Any], **params: str) -> list[dict[str, Any]]:
    policies = Resolver(template, **params).properties("AuthorizerRole").get("Policies", [])
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


def test_a_bundled_policy_gets_no_read_permission(template: dict[str, Any]) -> None:
    assert read_statements(template) == []
    managed = Resolver(template).properties("AuthorizerRole")["ManagedPolicyArns"]
    assert managed == ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]  # logs only


@pytest.mark.parametrize(
    ("source", "actions", "resource"),
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
def test_a_remote_policy_gets_read_access_to_that_one_location(
    template: dict[str, Any], source: str, actions: Any, resource: str
) -> None:
    statements = read_statements(template, PolicySource=source, PolicyPath=LOCATIONS[source][0])
    assert statements == [{"Effect": "Allow", "Action": actions, "Resource": resource}]


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


def identity_sources(properties: dict[str, Any]) -> set[tuple[str, str]]:
    raw = properties["IdentitySource"]
    found = set()
    for entry in raw.split(",") if isinstance(raw, str) else raw:
        for prefix, kind in IDENTITY_PREFIXES.items():
            if entry.strip().startswith(prefix):
                name = entry.strip().removeprefix(prefix)
                found.add((kind, name.lower() if kind == "header" else name))
    return found


@pytest.mark.parametrize("policy_path", STAGE_POLICIES, ids=lambda p: Path(p).stem)
@pytest.mark.parametrize("authorizer", ["RestAuthorizer", "WebSocketAuthorizer", "HttpAuthorizer"])
def test_identity_sources_are_what_the_stage_policies_read(
    template: dict[str, Any], policy_path: Path, authorizer: str
) -> None:
    """Fewer would cache answers under too coarse a key; more would 401 callers the policy admits."""
    policy = load_file(policy_path, use_cache=False).policy
    assert identity_sources(Resolver(template).properties(authorizer)) == sources_read(policy)


def test_stage_variables_the_policies_read_are_set_on_every_stage(template: dict[str, Any]) -> None:
    resolver = Resolver(template)
    stage_vars = {
        "RestStage": resolver.properties("RestStage")["Variables"],
        "WebSocketStage": resolver.properties("WebSocketStage")["StageVariables"],
        "HttpStage": resolver.properties("HttpStage")["StageVariables"],
    }
    for path in STAGE_POLICIES:
        read = {name for kind, name in sources_read(load_file(path, use_cache=False).policy) if kind == "stage"}
        for stage, variables in stage_vars.items():
            assert read <= set(variables), f"{stage} lacks stage variables {read - set(variables)} read by {path.name}"


def test_cache_ttl_is_off_by_default_and_only_where_api_gateway_caches(template: dict[str, Any]) -> None:
    resolver = Resolver(template)
    assert resolver.params["AuthorizerCacheTtl"] == "0"
    assert (
        Resolver(template, AuthorizerCacheTtl="300").properties("RestAuthorizer")["AuthorizerResultTtlInSeconds"]
        == "300"
    )
    http = Resolver(template, AuthorizerCacheTtl="300").properties("HttpAuthorizer")
    assert http["AuthorizerResultTtlInSeconds"] == "300"
    assert "$context.routeKey" in http["IdentitySource"]  # simple responses have no resource scope: key per route
    assert "AuthorizerResultTtlInSeconds" not in resolver.properties("WebSocketAuthorizer")  # not supported


def test_http_api_uses_payload_2_with_simple_responses_and_the_function_answers_so(template: dict[str, Any]) -> None:
    resolver = Resolver(template)
    http = resolver.properties("HttpAuthorizer")
    assert (http["AuthorizerPayloadFormatVersion"], http["EnableSimpleResponses"]) == ("2.0", True)
    assert resolver.properties("AuthorizerFunction")["Environment"]["Variables"]["AUTHORIZER_RESPONSE"] == "simple"


def test_every_authorizer_calls_the_live_alias(template: dict[str, Any]) -> None:
    for name in ("RestAuthorizer", "WebSocketAuthorizer", "HttpAuthorizer"):
        uri = template["Resources"][name]["Properties"]["AuthorizerUri"]
        assert uri["Fn::Sub"][1] == {"Alias": {"Ref": "AuthorizerFunction.Alias"}}
    for name in ("RestAuthorizerPermission", "WebSocketAuthorizerPermission", "HttpAuthorizerPermission"):
        assert template["Resources"][name]["Properties"]["FunctionName"] == {"Ref": "AuthorizerFunction.Alias"}


def test_the_handler_named_in_the_template_exists(template: dict[str, Any]) -> None:
    module, _, name = template["Resources"]["AuthorizerFunction"]["Properties"]["Handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
