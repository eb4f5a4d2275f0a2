"""Sensitivity is a property of a source for the whole policy: a source compared with a secret
anywhere, named in `redact:` (header names in any case), secret-looking by name, or compared with
such a source, is redacted everywhere: every rule's trace (not only the rule comparing it with the
secret), outputs taken from it, the log line, `eval`, test reports and JUnit."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from authorizer import handler
from authorizer.cli.main import main
from authorizer.decide.evaluate import evaluate
from authorizer.event.builder import RequestSpec
from tests.conftest import compile_yaml

LEAK = "Sh0uld-N3ver-Appear"


def traced(policy_text: str, **request: Any) -> str:
    kind = request.pop("kind", "rest")
    decision = evaluate(RequestSpec(**request).to_event(kind), compile_yaml(policy_text), explained=True).decision
    return json.dumps(decision.as_dict())


@pytest.mark.parametrize(
    ("policy", "request_"),
    [
        # compared with a secret in the second rule: the first rule's trace hides it too
        (
            "secrets: {k: {env: SENSITIVITY_TEST}}\nrules:\n"
            "  - {name: a, effect: allow, when: {header.x-pass: other}}\n"
            "  - {name: b, effect: allow, when: {header.x-pass: {secret: k}}}\n",
            {"headers": {"x-pass": LEAK}},
        ),
        # redact: in another case than the rule writes it
        (
            "redact: [header.X-Session-Id]\nrules:\n  - {name: a, effect: allow, when: {header.x-session-id: other}}\n",
            {"headers": {"X-SESSION-ID": LEAK}},
        ),
        # compared with a secret-bearing source: it bears the secret too
        (
            "rules:\n  - {name: a, effect: allow, when: {query.tenant: {equals: {from: header.x-api-key}}}}\n"
            "  - {name: b, effect: allow, when: {query.tenant: zzz}}\n",
            {"headers": {"x-api-key": "k"}, "query": {"tenant": LEAK}},
        ),
        # a JMESPath condition reading a secret-bearing header: the expression is not shown either
        (
            f'rules:\n  - {{name: a, effect: allow, when: {{jmespath: "headers.\\"x-api-key\\" == \'{LEAK}\'"}}}}\n',
            {"headers": {"x-api-key": "k"}},
        ),
    ],
)
def test_the_source_is_redacted_in_every_rule(policy: str, request_: dict[str, Any], monkeypatch: Any) -> None:
    monkeypatch.setenv("SENSITIVITY_TEST", "the-secret")
    shown = traced("version: 1\n" + policy, **request_)
    assert LEAK not in shown and "<redacted>" in shown


OUTPUTS = (
    "version: 1\nrules:\n  - name: r\n    effect: allow\n    when: {header.x-api-key: {exists: true}}\n"
    "    principal: {from: header.x-api-key}\n    context: {key: {from: header.x-api-key}, plain: ok}\n"
    "    usage_identifier_key: {from: header.x-api-key}\n"
)


def test_outputs_from_a_secret_bearing_source_are_redacted_in_eval(tmp_path: Path, capsys: Any) -> None:
    policy, event = tmp_path / "p.yaml", tmp_path / "e.json"
    policy.write_text(OUTPUTS)
    event.write_text(json.dumps(RequestSpec(headers={"x-api-key": LEAK}).to_event("rest")))
    for extra in ([], ["--explain"], ["--format", "text"]):
        assert main(["eval", str(policy), str(event), *extra]) == 0
        out = capsys.readouterr().out
        assert LEAK not in out, extra
        if "text" not in extra:  # the JSON forms show the outputs, redacted
            assert '"principal": "<redacted>"' in out and '"plain": "ok"' in out, extra


def test_outputs_from_a_secret_bearing_source_are_redacted_in_test_reports(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "p.yaml").write_text(OUTPUTS)
    suite = {
        "policy": "p.yaml",
        "cases": [
            {
                "name": "wrong expectations",
                "request": {"headers": {"x-api-key": LEAK}},
                "expect": {
                    "effect": "allow",
                    "rule": "r",
                    "principal": "guess",
                    "context": {"key": "guess", "plain": "nope"},
                    "usage_identifier_key": LEAK,
                },
            }
        ],
    }
    (tmp_path / "suite.yaml").write_text(json.dumps(suite))
    junit = tmp_path / "junit.xml"
    assert main(["test", str(tmp_path / "suite.yaml"), "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "principal" in out and "another value" in out  # the difference is reported ...
    assert LEAK not in out and "guess" not in out  # ... without either side's value
    assert "nope" in out  # values from the policy text are not secret
    assert LEAK not in junit.read_text() and "guess" not in junit.read_text()


def test_the_log_line_hides_a_principal_from_a_secret_bearing_source(use_policy: Any) -> None:
    use_policy(OUTPUTS)
    stream = io.StringIO()
    handler.boot()
    previous = handler.logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    handler.logger.setLevel(logging.INFO)
    try:
        handler.lambda_handler(RequestSpec(headers={"x-api-key": LEAK}).to_event("rest"), None)
    finally:
        handler.logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    assert LEAK not in stream.getvalue() and '"principal":"<redacted>"' in stream.getvalue().replace(" ", "")
