"""JSON Schemas: the files in schemas/ are exactly `authorizer schema` output, and an ordinary JSON
Schema validator accepts the shipped policies and suites and rejects what the loader rejects."""

import json

import pytest
import yaml
from jsonschema import Draft202012Validator

from authorizer.cli.main import main
from tests.conftest import POLICIES, REPO

SCHEMAS = REPO / "schemas"
POLICY_FILES = sorted(POLICIES.glob("*.yaml"))
SUITE_FILES = sorted((POLICIES / "tests").glob("*.yaml"))


def schema_output(capsys, *args):
    assert main(["schema", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("which,file", [((), "policy.schema.json"), (("test-suite",), "test-suite.schema.json")])
def test_checked_in_schema_is_the_command_output(capsys, which, file):
    assert (SCHEMAS / file).read_text() == schema_output(capsys, *which), f"regenerate: authorizer schema {which}"


def validator(name):
    schema = json.loads((SCHEMAS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.name)
def test_shipped_policies_validate_against_the_schema(path):
    errors = list(validator("policy.schema.json").iter_errors(yaml.safe_load(path.read_text())))
    assert errors == []


@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: p.name)
def test_shipped_suites_validate_against_their_schema(path):
    assert list(validator("test-suite.schema.json").iter_errors(yaml.safe_load(path.read_text()))) == []


def test_every_shipped_policy_and_suite_names_its_schema_for_editors():
    for path in POLICY_FILES:
        assert path.read_text().startswith("# yaml-language-server: $schema=../schemas/policy.schema.json\n")
    for path in SUITE_FILES:
        assert path.read_text().startswith("# yaml-language-server: $schema=../../schemas/test-suite.schema.json\n")


@pytest.mark.parametrize(
    "text,complaint",
    [
        ("version: 1\nrules: [{name: a, efect: allow}]", "'efect' was unexpected"),
        ("version: 1\nrules: [{name: a, effect: permit}]", "'permit' is not one of"),
        ("version: 1\nrules: [{name: a, effect: allow, when: {headers.x: a}}]", "'headers.x' does not match"),
        ("version: 1\nrules: [{name: a, effect: allow, when: {header.x: {equls: a}}}]", "is not valid under any"),
        ("version: 1\nrules: [{name: 'a b', effect: allow}]", "does not match"),
        ("version: 1\nrules: [{name: a, effect: allow, principal: ''}]", "is not valid under any"),
        ("version: 1\nrules: [{name: a, effect: allow, context: {k: [1]}}]", "is not valid under any"),
        ("version: 1\ncache: {ttl: 4000}\nrules: []", "is greater than the maximum"),
        ("version: 2\nrules: []", "1 was expected"),
        ("rules: []", "'version' is a required property"),
    ],
)
def test_the_schema_rejects_mistakes_the_loader_rejects(text, complaint):
    messages = [e.message for e in validator("policy.schema.json").iter_errors(yaml.safe_load(text))]
    assert any(complaint in m for m in messages), messages


def test_when_keys_come_from_the_identity_source_table():
    pattern = json.loads((SCHEMAS / "policy.schema.json").read_text())["$defs"]["When"]["propertyNames"]["pattern"]
    for key in ("header.X-Api-Key", "context.identity.sourceIp", "token", "route.key", "any", "jmespath"):
        assert Draft202012Validator({"type": "string", "pattern": pattern}).is_valid(key), key
    for key in ("headers.x", "header", "tokens", "route.verb"):
        assert not Draft202012Validator({"type": "string", "pattern": pattern}).is_valid(key), key
