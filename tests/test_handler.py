"""The Lambda entrypoint: responses per API type, refusal paths, logs and metrics."""

import json

import pytest

from authorizer import handler
from authorizer.decide import evaluate as evaluate_module
from authorizer.event.builder import RequestSpec
from tests.conftest import POLICIES, load_fixture

UNAUTHORIZED = "Unauthorized"


def refused(event) -> bool:
    with pytest.raises(Exception) as info:
        handler.lambda_handler(event, None)
    assert type(info.value) is Exception and str(info.value) == UNAUTHORIZED
    return True


OPEN = "version: 1\nrules:\n  - {name: open, effect: allow, when: {header.x-ok: 'yes'}, context: {k: v}}\n"


@pytest.mark.parametrize("kind", ["token", "rest", "websocket", "http-v1", "http-v2"])
def test_iam_allow_for_every_kind(use_policy, kind):
    use_policy("version: 1\nrules:\n  - {name: open, effect: allow, context: {k: v}}\n")
    event = RequestSpec().to_event(kind)
    response = handler.lambda_handler(event, None)
    statement = response["policyDocument"]["Statement"][0]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": event.get("methodArn") or event["routeArn"],
    }
    assert response["principalId"] == "open" and response["context"] == {"k": "v"}


def test_deny_rule_gives_deny_policy(use_policy):
    use_policy("version: 1\nrules:\n  - {name: nope, effect: deny, principal: blocked}\n")
    response = handler.lambda_handler(RequestSpec().to_event("rest"), None)
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert response["principalId"] == "blocked"


def test_simple_responses_for_http_v2(use_policy):
    use_policy(OPEN.replace("version: 1", "version: 1\nresponse: simple"))
    allowed = RequestSpec(headers={"x-ok": "yes"}).to_event("http-v2")
    assert handler.lambda_handler(allowed, None) == {"isAuthorized": True, "context": {"k": "v"}}
    assert handler.lambda_handler(RequestSpec().to_event("http-v2"), None) == {"isAuthorized": False}
    broken = RequestSpec().to_event("http-v2")
    broken["routeArn"] = "nonsense"
    assert refused(broken), "an event we cannot read is not known to be HTTP API 2.0: 401"
    assert refused(RequestSpec().to_event("rest")), "simple responses apply to HTTP API 2.0 only"


def test_setting_overrides_the_policy_response_format(use_policy):
    use_policy(OPEN, AUTHORIZER_RESPONSE="simple")
    assert handler.lambda_handler(RequestSpec().to_event("http-v2"), None) == {"isAuthorized": False}


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "Unauthorized",
        {},
        {"type": "TOKEN", "methodArn": None},
        load_fixture("powertools/apiGatewayProxyEvent.json"),
        load_fixture("powertools/apiGatewayProxyV2Event.json"),
    ],
)
def test_bad_events_are_refused(use_policy, event):
    use_policy("version: 1\nrules:\n  - {name: open, effect: allow}\n")
    assert refused(event)


def test_broken_policy_refuses_everything(use_policy, log_output):
    use_policy("version: 1\nrules:\n  - {name: open, effect: alow}\n")
    assert refused(RequestSpec().to_event("rest"))
    logged = log_output.getvalue()
    assert "no policy loaded" in logged


def test_missing_policy_file_refuses_everything(monkeypatch):
    monkeypatch.setenv("AUTHORIZER_POLICY", "/nonexistent/policy.yaml")
    monkeypatch.setenv("AUTHORIZER_METRICS", "false")
    handler.reset()
    try:
        assert refused(RequestSpec().to_event("rest"))
    finally:
        handler.reset()


def test_invalid_settings_refuse_everything(use_policy):
    use_policy(OPEN, AUTHORIZER_RESPONSE="fancy")
    assert refused(RequestSpec(headers={"x-ok": "yes"}).to_event("rest"))


def test_unknown_setting_is_reported_with_a_suggestion(use_policy, log_output):
    use_policy(OPEN, AUTHORIZER_POLICI="x")
    assert refused(RequestSpec(headers={"x-ok": "yes"}).to_event("rest"))
    assert "did you mean AUTHORIZER_POLICY" in log_output.getvalue()


def test_unexpected_exception_is_a_refusal(use_policy, monkeypatch, log_output):
    """The generated function raising hands the request to the engine; the engine raising refuses."""
    use_policy(OPEN)
    item = RequestSpec(headers={"x-ok": "yes"}).to_event("rest")
    policy = handler.boot().store.current()

    def boom(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(evaluate_module, "decide", boom)
    assert handler.lambda_handler(item, None)["principalId"] == "open", "the generated function answers alone"
    monkeypatch.setitem(policy.fast.__globals__, "IAM", boom)  # the generated code raises
    assert refused(item)
    line = json.loads(log_output.getvalue().splitlines()[-1])
    assert line["reason"] == "internal error: RuntimeError" and "secret detail" not in log_output.getvalue()


def test_context_must_be_scalar_for_rest_but_not_for_http_api(use_policy):
    use_policy("version: 1\nrules:\n  - {name: r, effect: allow, context: {id: {from: context.identity}}}\n")
    assert refused(RequestSpec().to_event("rest"))
    response = handler.lambda_handler(RequestSpec().to_event("http-v1"), None)
    assert response["context"]["id"]["sourceIp"] == "198.51.100.1"


def test_resource_over_512_characters_is_refused(use_policy):
    use_policy("version: 1\nrules:\n  - {name: r, effect: allow}\n")
    assert refused(RequestSpec(path="/" + "a" * 600).to_event("rest"))
    stage_wide = "version: 1\nresource: stage\nrules:\n  - {name: r, effect: allow}\n"
    use_policy(stage_wide)
    assert handler.lambda_handler(RequestSpec(path="/" + "a" * 600).to_event("rest"), None)


def test_one_decision_line_without_secret_values(use_policy, log_output):
    use_policy(
        "version: 1\nrules:\n  - {name: k, effect: allow, when: {header.x-api-key: the-key}, "
        "principal: {from: header.x-api-key}}\n"
    )
    handler.lambda_handler(RequestSpec(headers={"x-api-key": "the-key"}).to_event("rest"), None)
    assert refused(RequestSpec(headers={"x-api-key": "wrong-key"}).to_event("rest"))
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    decisions = [line for line in lines if line.get("message") == "decision"]
    assert [d["effect"] for d in decisions] == ["allow", "unauthorized"]
    assert decisions[0]["rule"] == "k" and decisions[0]["principal"] == "<redacted>"
    assert {"route", "kind", "policy", "reason", "duration_us"} <= decisions[0].keys()
    assert "the-key" not in str(lines) and "wrong-key" not in str(lines)


def test_metrics_count_each_effect(use_policy, monkeypatch, capsys):
    use_policy(OPEN, AUTHORIZER_METRICS="true", POWERTOOLS_LOG_LEVEL="WARNING")
    handler.lambda_handler(RequestSpec(headers={"x-ok": "yes"}).to_event("rest"), None)
    assert refused(RequestSpec().to_event("rest"))
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [next(k for k in ("Allow", "Deny", "Unauthorized") if k in m) for m in emf] == ["Allow", "Unauthorized"]


def test_shipped_example_policy_loads(monkeypatch):
    monkeypatch.setenv("AUTHORIZER_POLICY", str(POLICIES / "example.yaml"))
    monkeypatch.setenv("AUTHORIZER_METRICS", "false")
    handler.reset()
    try:
        event = load_fixture("aws-lambda-go/apigw-custom-auth-request-type-request.json")
        assert handler.lambda_handler(event, None)["principalId"] == "me"
    finally:
        handler.reset()


@pytest.mark.parametrize("collecting", [True, False])
def test_a_lambda_cold_start_pauses_the_collector_only_while_it_boots(tmp_path, collecting):
    """On Lambda the imports and the boot run with the garbage collector paused (what they allocate
    lives on), and what they made is then frozen out of later collections' way; afterwards the
    collector is as it was, and the policy is loaded."""
    import subprocess
    import sys

    (tmp_path / "policy.yaml").write_text(OPEN)
    code = (
        "import gc\n"
        + ("" if collecting else "gc.disable()\n")
        + "import authorizer.handler as h\n"
        + "print(gc.isenabled(), gc.get_freeze_count() > 0, h._runtime.store.current() is not None)\n"
    )
    env = {"PATH": "", "AWS_LAMBDA_FUNCTION_NAME": "f", "AUTHORIZER_POLICY": str(tmp_path / "policy.yaml")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(collecting), str(collecting), "True"]


def test_a_cold_start_answered_by_the_generated_function_never_imports_the_engine(tmp_path):
    """The engine (and its decisions, traces) is imported by the first request the generated function
    cannot answer: not by a cold start, boot and decision line included."""
    import subprocess
    import sys

    (tmp_path / "policy.yaml").write_text(OPEN)
    event = json.dumps(RequestSpec(headers={"x-ok": "yes"}).to_event("rest"))
    code = (
        "import json, sys\nimport authorizer.handler as h\n"
        f"assert h.lambda_handler(json.loads({event!r}), None)['principalId'] == 'open'\n"
        "engine = ('authorizer.decide.engine', 'authorizer.decide.evaluate', 'authorizer.decide.decision')\n"
        "print(sorted(m for m in engine if m in sys.modules), file=sys.stderr)\n"
        "try:\n    h.lambda_handler({'type': 'REQUEST'}, None)\n"
        "except Exception as e:\n    assert str(e) == 'Unauthorized'\n"
        "print(sorted(m for m in engine if m in sys.modules), file=sys.stderr)\n"
    )
    env = {"PATH": "", "AWS_LAMBDA_FUNCTION_NAME": "f", "AUTHORIZER_POLICY": str(tmp_path / "policy.yaml")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    before, after = out.stderr.splitlines()
    assert before == "[]"
    assert after == "['authorizer.decide.decision', 'authorizer.decide.engine', 'authorizer.decide.evaluate']"
