"""A hurried policy author's mistakes must not silently disable a rule or let a missing value in:
YAML reading a literal as something other than text on a source that only holds text, routes that
can never match, and the JMESPath escape hatch answering `true` for missing fields (null == null)."""

from __future__ import annotations

from typing import Any

import pytest

from authorizer.decide.evaluate import evaluate
from authorizer.event.builder import RequestSpec
from authorizer.policy.check import check_policy
from authorizer.policy.errors import PolicyError
from authorizer.policy.load import load
from tests.adversarial.conftest import allowed, both_paths, served


def problems(text: str) -> list[str]:
    try:
        load("p.yaml", text.encode())
    except PolicyError as exc:
        return [str(p) for p in exc.problems]
    return []


def rule(when: str, extra: str = "") -> str:
    return f"version: 1\nrules:\n  - name: r\n    effect: allow\n    when: {when}\n{extra}"


@pytest.mark.parametrize(
    ("when", "read", "written"),
    [
        ("{header.x-debug: yes}", "the boolean true", "yes"),
        ("{header.x-debug: on}", "the boolean true", "on"),
        ("{query.page: 2}", "the number 2", "2"),
        ("{query.zip: 01234}", "the number 668", "01234"),  # YAML 1.1 octal
        ("{stage.version: 1.10}", "the number 1.1", "1.10"),
        ("{path.id: 1.0e+3}", "the number 1000.0", "1.0e+3"),
        ("{stage.flag: off}", "the boolean false", "off"),
        ("{header.x-a: [a, yes]}", "the boolean true", "yes"),  # in a list (one_of)
        ("{header.x-a: {one_of: [a, 7]}}", "the number 7", "7"),
        ("{header.x-a: {not: no}}", "the boolean false", "no"),  # inside not
        ("{header.x-a: {not_equals: 0}}", "the number 0", "0"),
    ],
)
def test_literals_yaml_did_not_read_as_text_are_errors_with_a_hint(when: str, read: str, written: str) -> None:
    found = problems(rule(when))
    assert len(found) == 1 and f"holds text, but YAML read {written} as {read}: quote it" in found[0], found
    assert found[0].startswith("p.yaml:5:"), found  # at the literal, not at the rule


def test_null_is_refused_with_a_hint() -> None:
    found = problems(rule("{header.x-a: ~}"))
    assert len(found) == 1 and "YAML read null here" in found[0], found


def test_context_fields_may_be_numbers_and_booleans() -> None:
    """requestContext fields are JSON: numbers and booleans are what they hold."""
    assert problems(rule("{context.requestTimeEpoch: {gt: 1}, context.flag: true, context.n: 7}")) == []


def test_a_trap_on_a_secret_bearing_source_is_reported_without_the_value() -> None:
    found = problems(rule("{header.x-api-key: 0123456}"))
    assert found and "quote it" in found[0] and "0123456" not in found[0] and "42798" not in found[0]


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ("$conect", "did you mean '$connect'?"),
        ("$disconnect", "run only on $connect"),
        ("$default", "run only on $connect"),
        ("get /pets", "did you mean 'GET /pets'?"),
        ("Post /pets", "did you mean 'POST /pets'?"),
        ("FETCH /pets", "is not an HTTP method"),
        ("GETT /pets", "did you mean 'GET'?"),
    ],
)
def test_routes_that_can_never_match_are_errors(route: str, message: str) -> None:
    found = problems(rule("{header.x: y}", f"    routes: [{route!r}]\n"))
    assert len(found) == 1 and "never matches" in found[0] and message in found[0], found


def test_express_style_parameters_are_a_warning_with_the_fix() -> None:
    _, found = check_policy("p.yaml", rule("{header.x: y}", '    routes: ["GET /pets/:id"]\n').encode())
    assert [p.severity for p in found] == ["warning"] and "did you mean 'GET /pets/{id}'?" in str(found[0])


# -- JMESPath: a missing value never satisfies the escape hatch ---------------------------------------
def decided(when: str, kind: str = "rest", **request: Any) -> tuple[Any, Any]:
    return both_paths(served(rule(when)), RequestSpec(**request).to_event(kind))


@pytest.mark.parametrize(
    ("expression", "request_"),
    [
        ('path.tenantId == headers.\\"x-tenant-id\\"', {}),  # null == null
        ("headers.x != 'y'", {}),  # null != 'y'
        ("!headers.x", {}),  # !null
        ("headers.x || `true`", {}),  # a default for a missing field
        ("not_null(headers.x, 'd') == 'd'", {}),
        ('path.tenantId == headers.\\"x-tenant-id\\"', {"path_parameters": {"tenantId": ""}}),  # empty is missing
        ("context.identity.missing != 'x'", {}),
    ],
)
def test_a_missing_field_never_satisfies_a_jmespath_condition(expression: str, request_: dict[str, Any]) -> None:
    assert not any(allowed(r) for r in decided(f'{{jmespath: "{expression}"}}', **request_))


def test_the_same_expressions_hold_when_the_fields_are_there() -> None:
    when = '{jmespath: "path.tenantId == headers.\\"x-tenant-id\\""}'
    assert all(allowed(r) for r in decided(when, path_parameters={"tenantId": "t1"}, headers={"x-tenant-id": "t1"}))
    assert all(allowed(r) for r in decided("{jmespath: \"headers.x != 'y'\"}", headers={"x": "z"}))


def test_upper_case_header_names_in_jmespath_are_an_error() -> None:
    """The view's header names are lower-case: headers."X-Tenant" would be a field never present."""
    found = problems(rule('{jmespath: "headers.\\"X-Tenant\\" == \'a\'"}'))
    assert found and "header names are lower-case" in found[0]


# -- comparing two sources: the operator people need, fail-closed ----------------------------------
TENANT = "{path.tenant: {equals: {from: header.x-tenant}}}"


@pytest.mark.parametrize(
    ("path", "header", "expected"),
    [
        ("acme", "acme", True),
        ("acme", "other", False),
        (None, None, False),  # both missing: unknown, not equal
        ("acme", None, False),
        (None, "acme", False),
        ("acme", ["acme", "evil"], False),  # a repeated header with another value: unknown
        ("", "", False),  # empty is missing
    ],
)
def test_a_path_parameter_bound_to_a_header(path: Any, header: Any, expected: bool) -> None:
    request: dict[str, Any] = {}
    if path is not None:
        request["path_parameters"] = {"tenant": path}
    if header is not None:
        request["headers"] = {"x-tenant": header}
    for kind in ("rest", "http-v1", "http-v2"):
        assert [allowed(r) for r in decided(TENANT, kind=kind, **request)] == [expected, expected], kind


def test_not_equals_between_sources_needs_both() -> None:
    when = "{path.tenant: {not_equals: {from: header.x-tenant}}}"
    assert all(allowed(r) for r in decided(when, path_parameters={"tenant": "a"}, headers={"x-tenant": "b"}))
    assert not any(allowed(r) for r in decided(when, path_parameters={"tenant": "a"}))


def test_comparing_sources_explains_itself() -> None:
    event = RequestSpec(path_parameters={"tenant": "acme"}).to_event("rest")
    decision = evaluate(event, served(rule(TENANT)), explained=True).decision
    assert decision.trace is not None
    assert [(e.op, e.expected, e.outcome) for e in decision.trace] == [
        ("equals", {"from": "header.x-tenant"}, "missing")
    ]
