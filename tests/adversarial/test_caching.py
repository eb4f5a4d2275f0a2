"""Caching advice must be sound (authorizer/policy/caching.py): `authorizer validate` and `make
package` use one analysis, and it never calls a policy cache-safe when a cached answer could differ
from the policy's own. The property at the end plays API Gateway's cache: whenever the analysis
finds nothing, an answer cached for one request and reused for another with the same key (its
policy evaluated against the other's ARN) lets it in exactly when the policy would."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from authorizer.decide.evaluate import evaluate
from authorizer.event.builder import RequestSpec
from authorizer.event.readers import classify
from authorizer.policy.caching import advice, cache_key, findings
from authorizer.policy.lint import lint
from authorizer.policy.load import load
from authorizer.serve.iam import IamAnswer, evaluate_policy
from tests.conftest import POLICIES


def loaded(text: str) -> Any:
    return load("p.yaml", text.encode())


def found(text: str) -> list[str]:
    policy = loaded(text)
    return [f.message for f in findings(policy.policy, cache_key(policy.policy, policy.data.get("cache")))]


HEAD = "version: 1\ncache: {ttl: 300, identity_sources: [header.Authorization]}\n"
KEYED = "header.authorization: k"  # the rules below are keyed on the identity source, and then some


def rule(body: str, when: str = "", name: str = "r") -> str:
    return f"  - {{name: {name}, {body}, when: {{{KEYED}{', ' + when if when else ''}}}}}\n"


@pytest.mark.parametrize(
    ("rules", "needle"),
    [
        # a condition on something outside the key: the cached Allow ignores it
        (rule("effect: allow, resource: stage", "header.x-role: admin"), "reads header.x-role, which is not in the"),
        (rule("effect: allow, resource: stage", "source_ip: {cidr: 10.0.0.0/8}"), "reads source_ip"),
        # an output taken from outside the key: another caller's principal
        (rule("effect: allow, resource: stage, principal: {from: header.x-user}"), "reads header.x-user"),
        # a JMESPath condition reads the whole request
        (rule("effect: allow, resource: stage", "jmespath: \"path.id == 'a'\""), "JMESPath condition over the whole"),
        # a route-limited Deny undone by a stage-wide Allow cached on another route
        (rule('effect: deny, routes: ["DELETE /pets/*"]', name="d") + rule("effect: allow, resource: stage"),
         "the Deny is never evaluated"),
        # `{id}` becomes `*` in IAM, which also matches `/`
        (rule('effect: allow, resource: routes, routes: ["GET /pets/{id}"]'), "also matches `/`"),
        # the concrete path: reused on other routes
        (rule('effect: allow, resource: routes, routes: ["GET /pets"]'), "the cache key holds no route"),
        # the method ARN only: 403 on the caller's other routes
        (rule("effect: allow"), "covers only the incoming method ARN"),
        # path parameters vary within one cache entry
        (rule("effect: allow, resource: stage", "path.id: '1'"), "reads path.id"),
    ],
)  # fmt: skip
def test_each_way_caching_goes_wrong_is_found(rules: str, needle: str) -> None:
    messages = found(HEAD + "rules:\n" + rules)
    assert any(needle in m for m in messages), messages


def test_per_route_keys_on_the_template_not_the_path() -> None:
    head = HEAD.replace("identity_sources", "per_route: true, identity_sources")
    rules = "  - {name: r, effect: allow, resource: stage, routes: [GET /pets], when: {header.authorization: k}}\n"
    assert any("per_route keys the cache on the route template" in m for m in found(head + "rules:\n" + rules))
    on_template = (
        "  - {name: r, effect: allow, resource: stage, when: {header.authorization: k, route.key: GET /pets}}\n"
    )
    assert found(head + "rules:\n" + on_template) == []  # the template itself is in the key
    on_path = "  - {name: r, effect: allow, resource: stage, when: {header.authorization: k, route.path: /pets}}\n"
    assert any("reads route.path" in m for m in found(head + "rules:\n" + on_path))


def test_a_policy_keyed_on_what_it_reads_is_safe() -> None:
    rules = rule("effect: allow, resource: stage", "stage.env: prod") + rule("effect: deny, resource: api", name="d")
    assert found(HEAD + "rules:\n" + rules) == []


def test_validate_and_package_say_the_same() -> None:
    """`make package`'s advice is the analysis `validate` warns from: safe exactly when no warning."""
    for path in [*sorted(POLICIES.glob("*.yaml")), *sorted((POLICIES.parent / "deploy" / "stages").glob("*.yaml"))]:
        policy = load(str(path), path.read_bytes())
        said = advice(policy.policy, policy.data.get("cache"))
        cached = {**(policy.data.get("cache") or {}), "ttl": 300}
        warned = [m for _, m in lint({**policy.data, "cache": cached}, policy.policy) if "cache" in m]
        assert said.startswith("caching (AuthorizerCacheTtl) is safe") == (not warned), (path.name, said, warned)


def test_undeclared_identity_sources_are_read_off_the_policy() -> None:
    """Without `identity_sources`, the key is what every rule requires (as `authorizer serve` derives it)."""
    rules = "  - {name: r, effect: allow, resource: stage, when: {header.x-key: k}}\n"
    assert found("version: 1\ncache: {ttl: 60}\nrules:\n" + rules) == []
    two = rules + "  - {name: s, effect: allow, resource: stage, when: {query.key: k}}\n"
    assert found("version: 1\ncache: {ttl: 60}\nrules:\n" + two)  # no source every rule requires


# -- the property: "safe" means a cached answer is the policy's own answer ------------------------------
IDENTITY = ["header.x-a", "query.q", "stage.s"]
OTHER = ["header.x-b", "source_ip", "path.p", "route.path", "context.n"]
VALUES = ["a", "b", "10.0.0.1", "/a"]


@st.composite
def cached_policies(draw: st.DrawFn) -> dict[str, Any]:
    """Policies with a declared cache, many of them safe: rules over identity sources (and sometimes more)."""
    identity = draw(st.lists(st.sampled_from(IDENTITY), min_size=1, max_size=3, unique=True))
    readable = identity + (draw(st.lists(st.sampled_from(OTHER), max_size=1)) if draw(st.booleans()) else [])
    rules = []
    for i in range(draw(st.integers(1, 3))):
        when = draw(st.dictionaries(st.sampled_from(readable), st.sampled_from(VALUES), max_size=2))
        rule: dict[str, Any] = {"name": f"r{i}", "effect": draw(st.sampled_from(["allow", "deny"])), "when": when}
        rule["resource"] = draw(st.sampled_from(["stage", "api", "method", "routes"]))
        if draw(st.integers(0, 3)) == 0:
            rule["routes"] = [draw(st.sampled_from(["GET /a", "GET /a/{id}", "ANY /a/*"]))]
        rules.append(rule)
    return {
        "version": 1,
        "on_no_match": draw(st.sampled_from(["unauthorized", "deny"])),
        "cache": {"ttl": 300, "identity_sources": identity, "per_route": draw(st.booleans())},
        "rules": rules,
    }


def _request(draw: st.DrawFn, kind: str) -> tuple[RequestSpec, str]:
    path = draw(st.sampled_from(["/a", "/a/1", "/a/1/admin", "/b"]))
    spec = RequestSpec(
        method=draw(st.sampled_from(["GET", "POST"])),
        path=path,
        headers={"x-a": draw(st.sampled_from(VALUES)), "x-b": draw(st.sampled_from(VALUES))},
        query={"q": draw(st.sampled_from(VALUES))},
        stage_variables={"s": draw(st.sampled_from(VALUES))},
        path_parameters={"p": draw(st.sampled_from(VALUES))},
        context={"n": draw(st.sampled_from(VALUES))},
        source_ip=draw(st.sampled_from(["10.0.0.1", "192.0.2.1"])),
        route_key="ANY /{proxy+}",  # one template for every path (what per_route keys on)
    )
    return spec, kind


def _allowed_at(answer: Any, item: dict[str, Any]) -> bool:
    """What API Gateway does with an answer for this request: allow, or not (401 and 403 alike)."""
    if answer is None:
        return False
    if "isAuthorized" in answer:
        return answer["isAuthorized"] is True
    arn = classify(item)[1]
    return evaluate_policy(IamAnswer.model_validate(answer), arn) == "allow"


@st.composite
def pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    policy = draw(cached_policies())
    kind = draw(st.sampled_from(["rest", "http-v1", "http-v2"]))
    first, _ = _request(draw, kind)
    second, _ = _request(draw, kind)
    for source in policy["cache"]["identity_sources"]:  # the same cache key: identity values equal
        family, name = source.split(".")
        if family == "header":
            second.headers = {**second.headers, name: first.headers[name]}  # type: ignore[index]
        elif family == "query":
            second.query = {**second.query, name: first.query[name]}  # type: ignore[index]
        else:
            second.stage_variables = {**second.stage_variables, name: first.stage_variables[name]}
    return policy, first.to_event(kind), second.to_event(kind)


def check_sound(case: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> None:
    data, first, second = case
    policy = load("cached.yaml", yaml.safe_dump(data).encode())
    safe = not findings(policy.policy, cache_key(policy.policy, policy.data["cache"]))
    event("safe" if safe else "findings")
    assume(safe)
    cached = evaluate(first, policy.policy).response
    own = evaluate(second, policy.policy).response
    assert _allowed_at(cached, second) == _allowed_at(own, second), (data, first, second, cached, own)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=pairs())
def test_a_cache_called_safe_answers_as_the_policy(case: Any) -> None:
    check_sound(copy.deepcopy(case))


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=pairs())
def test_a_cache_called_safe_answers_as_the_policy_long(case: Any) -> None:
    check_sound(copy.deepcopy(case))
