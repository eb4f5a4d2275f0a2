"""A path parameter that bears secrets (a webhook's secret URL, a `{token}` segment): sensitivity
belongs to the source for the whole policy, and the concrete path holds its value. What we show of
such a request names the route API Gateway matched (`POST /hooks/{hookId}`), never the path: the
Lambda's decision line on both back ends, and everything the local gateway shows or logs. What is
beyond us (API Gateway's access logs, the ARN in the event and the IAM policy returned) `validate`
says, once, where the source is read."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from authorizer import handler
from authorizer.decide import generated as generated_module
from authorizer.event.builder import RequestSpec
from authorizer.policy.check import check_policy
from authorizer.serve.shown import shown_event
from tests import test_serve_support as support

serve = support.serve  # the fixture

HOOK = "h00k-s3cr3t-9f2c"
POLICY = """
version: 1
secrets: {hook: {env: SECRET_PATHS_HOOK}}
rules:
  - name: webhook
    effect: allow
    routes: ["POST /hooks/{hookId}"]
    when: {path.hookId: {secret: hook}}
    resource: method
"""
BY_NAME = """
version: 1
rules:
  - name: by-name
    effect: allow
    when: {path.token: {prefix: t}}
    resource: method
"""
KINDS = ("rest", "http-v1", "http-v2")


def hook_event(kind: str, secret: str = HOOK) -> dict[str, Any]:
    return RequestSpec(
        method="POST", path=f"/hooks/{secret}", route_key="POST /hooks/{hookId}", path_parameters={"hookId": secret}
    ).to_event(kind)


def decision_lines(log_output: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log_output.getvalue().splitlines() if '"decision"' in line]


@pytest.mark.parametrize("back_end", ["generated", "engine"])
@pytest.mark.parametrize("kind", KINDS)
def test_the_decision_line_names_the_route_never_the_path(
    use_policy: Any, log_output: Any, monkeypatch: pytest.MonkeyPatch, kind: str, back_end: str
) -> None:
    monkeypatch.setenv("SECRET_PATHS_HOOK", HOOK)
    use_policy(POLICY)
    if back_end == "engine":
        monkeypatch.setattr(generated_module, "classify", None)  # the generated path gives up
    answer = handler.lambda_handler(hook_event(kind), None)
    assert answer.get("isAuthorized", True) and answer.get("principalId", "webhook") == "webhook"
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.lambda_handler(hook_event(kind, "wrong-guess"), None)
    allowed, refused = decision_lines(log_output)
    assert allowed["effect"] == "allow" and refused["effect"] == "unauthorized"
    assert allowed["route"] == refused["route"] == "POST /hooks/{hookId}"
    assert HOOK not in log_output.getvalue() and "wrong-guess" not in log_output.getvalue()


def test_an_event_naming_no_route_shows_the_method_alone(use_policy: Any, log_output: Any) -> None:
    use_policy(BY_NAME)  # path.token: secret-looking by its name
    event = RequestSpec(path="/t0ken-value", path_parameters={"token": "t0ken-value"}).to_event("rest")
    event.pop("resource")
    handler.lambda_handler(event, None)
    (line,) = decision_lines(log_output)
    assert line["route"] == "GET <redacted>" and "t0ken-value" not in log_output.getvalue()


def test_a_policy_whose_paths_bear_no_secret_logs_the_path(use_policy: Any, log_output: Any) -> None:
    use_policy("version: 1\nrules:\n  - {name: r, effect: allow, when: {path.id: {prefix: p}}}\n")
    handler.lambda_handler(RequestSpec(path="/pets/p1", path_parameters={"id": "p1"}).to_event("rest"), None)
    (line,) = decision_lines(log_output)
    assert line["route"] == "GET /pets/p1"


def test_validate_says_what_is_beyond_us_once_where_it_is_read() -> None:
    text = POLICY + "  - {name: again, effect: allow, when: {path.hookId: {secret: hook}}}\n"
    _, problems = check_policy("p.yaml", text.encode())
    (warning,) = [p for p in problems if "bears secrets" in p.message]
    assert warning.severity == "warning" and warning.line == 8  # the first rule, not the second
    assert warning.message.startswith("path.hookId bears secrets, but a path cannot keep one")
    assert "access logs" in warning.message and "ARN" in warning.message
    _, problems = check_policy("p.yaml", BY_NAME.encode())  # secret-looking by its name
    assert [p.message.split(" bears")[0] for p in problems] == ["path.token"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_shown_event_keeps_the_templates_and_hides_every_path(kind: str) -> None:
    shown = json.dumps(shown_event(hook_event(kind), frozenset({"path.hookId"})))
    assert HOOK not in shown
    assert "/hooks/{hookId}" in shown  # resource or routeKey: which route, not which URL
    assert HOOK in json.dumps(shown_event(hook_event(kind), frozenset()))  # hookId alone looks innocent


@pytest.mark.parametrize("api", KINDS)
def test_the_local_gateway_shows_and_logs_the_route_never_the_path(serve: Any, api: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SECRET_PATHS_HOOK", HOOK)  # the server inherits it
        server = serve(POLICY, "--api", api, "--ttl", "0", "--route", "POST /hooks/{hookId}")
        _ = server.banner
    shown = []
    for secret, accept in ((HOOK, "application/json"), (HOOK, "text/html"), ("wrong-guess", "text/html")):
        response = httpx.post(server.url(f"/hooks/{secret}"), headers={"Accept": accept}, timeout=10)
        assert response.status_code == (200 if secret == HOOK else 401), response.text
        shown.append(response.text)
    log = server.wait_for_log("POST /hooks/{hookId} 401")
    for text in [*shown, log]:
        assert HOOK not in text and "wrong-guess" not in text
    assert "POST /hooks/{hookId}" in shown[0] and "/hooks/{hookId}" in log
