"""A `secret:` that cannot be read (an unset environment variable, an SSM parameter or Secrets Manager
secret that cannot be fetched, a suite that does not give it) makes its conditions unknown, never
unequal: `not:` cannot turn it into a match. The refusal says which secret and where it was looked up
(never a value): in `eval`, `test`, the decision the local gateway shows (reason and trace outcome),
and the Lambda's log line, a warning even when the fast path would answer."""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import SSMProvider
from moto import mock_aws

from authorizer import handler
from authorizer.cli.main import main
from authorizer.decide.evaluate import evaluate
from authorizer.event.builder import RequestSpec
from authorizer.policy import secrets
from tests.conftest import compile_yaml

SENT = "S3NT-by-the-caller-71c2"
UNSET = "secret unavailable: secret 'ops': environment variable OPS_KEY_NOT_SET is not set (no rule matched)"


def policy(condition: str, *, ref: str = "{env: OPS_KEY_NOT_SET}", more: str = "") -> str:
    return f"version: 1\nsecrets: {{ops: {ref}}}\nrules:\n  - {{name: r, effect: allow, when: {condition}}}\n{more}"


def decided(text: str, explained: bool = False, **headers: str) -> Any:
    event = RequestSpec(headers={"x-api-key": SENT, "x-other": "o", **headers}).to_event("rest")
    return evaluate(event, compile_yaml(text), explained=explained).decision


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPS_KEY_NOT_SET", raising=False)


@pytest.mark.parametrize(
    "condition",
    [
        "{header.x-api-key: {not: {secret: ops}}}",  # operator-level not
        "{not: {header.x-api-key: {secret: ops}}}",  # the combinator
        "{not: {any: [{header.x-api-key: {secret: ops}}, {header.x-other: nope}]}}",
        "{header.x-api-key: {not: {secret: ops, prefix: S3NT}}}",  # not (unknown and true)
        "{header.x-api-key: {values: all, not: {secret: ops}}}",
        "{header.x-api-key: {values: any, not: {secret: ops}}}",
    ],
)
def test_a_secret_that_cannot_be_read_never_satisfies_a_negation(condition: str) -> None:
    """Before: the secret "compared unequal", so every one of these matched (an Allow for anyone)."""
    decision = decided(policy(condition))
    assert decision.effect == "unauthorized" and decision.rule is None, decision
    explained = decided(policy(condition), explained=True)
    assert (explained.effect, explained.reason) == ("unauthorized", decision.reason)
    assert "unavailable" in {entry.outcome for entry in explained.trace or ()}


def test_it_is_unknown_not_false_where_that_decides() -> None:
    # not (unknown and false) is true: the prefix alone settles it, whatever the secret
    assert decided(policy("{header.x-api-key: {not: {secret: ops, prefix: nope}}}")).effect == "allow"
    # any (unknown, true) is true: another alternative holds
    assert decided(policy("{any: [{header.x-api-key: {secret: ops}}, {header.x-other: o}]}")).effect == "allow"


def test_the_refusal_names_the_secret_and_where_it_was_looked_up_with_and_without_a_trace() -> None:
    text = policy("{header.x-api-key: {secret: ops}}")
    for explained in (False, True):
        decision = decided(text, explained)
        assert decision.reason == UNSET and decision.anomaly == "secret unavailable"
    assert SENT not in json.dumps(decided(text, True).as_dict())


def test_the_reason_does_not_depend_on_which_rules_the_index_lets_a_request_try() -> None:
    """Keyed rules (the index) and a secret compared first in a rule the index skips: the same reason."""
    keyed = "".join(f"  - {{name: k{i}, effect: allow, when: {{header.x-tenant: t{i}}}}}\n" for i in range(10))
    first = "  - {name: ops, effect: allow, when: {header.x-api-key: {secret: ops}, header.x-tenant: t0}}\n"
    text = policy("{header.x-tenant: t99}", more=first + keyed)
    assert compile_yaml(text).index.keyed_on == "header.x-tenant"
    fast, explained = decided(text, **{"x-tenant": "t42"}), decided(text, True, **{"x-tenant": "t42"})
    assert "unavailable" in {entry.outcome for entry in explained.trace or ()}, "the trace tried the secret"
    assert fast.reason == explained.reason == UNSET


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """A region and made-up credentials: enough for botocore to try."""
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def aws(credentials: None) -> Iterator[None]:
    parameters.clear_caches()
    with mock_aws():
        boto3.client("secretsmanager").create_secret(Name="binary", SecretBinary=b"\x00\x01")
        yield
    parameters.clear_caches()


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("{ssm: /authorizer/nowhere}", "SSM parameter /authorizer/nowhere could not be read (ParameterNotFound)"),
        ("{secretsmanager: nowhere}", "Secrets Manager secret nowhere could not be read (ResourceNotFoundException)"),
        ("{secretsmanager: binary}", "Secrets Manager secret binary holds no text"),
    ],
)
def test_stores_that_cannot_answer_are_named(aws: None, ref: str, why: str) -> None:
    decision = decided(policy("{header.x-api-key: {secret: ops}}", ref=ref))
    assert decision.reason == f"secret unavailable: secret 'ops': {why} (no rule matched)"


def test_a_store_that_failed_is_not_asked_again_for_a_while(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """During an outage each refusal is immediate: one fetch per RETRY_SECONDS, not one per request."""
    fetches: list[str] = []
    original = SSMProvider._get

    def counted(self: Any, name: str, **options: Any) -> Any:
        fetches.append(name)
        return original(self, name, **options)

    monkeypatch.setattr(SSMProvider, "_get", counted)
    compiled = compile_yaml(policy("{header.x-api-key: {secret: ops}}", ref="{ssm: /authorizer/nowhere}"))
    event = RequestSpec(headers={"x-api-key": SENT}).to_event("rest")
    reasons = {evaluate(event, compiled, explained=explained).decision.reason for explained in (False, True) * 5}
    assert len(reasons) == 1 and "ParameterNotFound" in reasons.pop()
    assert fetches == ["/authorizer/nowhere"]
    clock = time.monotonic() + secrets.RETRY_SECONDS
    monkeypatch.setattr(secrets.time, "monotonic", lambda: clock)
    boto3.client("ssm").put_parameter(Name="/authorizer/nowhere", Value=SENT, Type="SecureString")
    assert evaluate(event, compiled).decision.effect == "allow"  # tried again, and now it can be read
    assert fetches == ["/authorizer/nowhere"] * 2


def test_an_unreachable_store_gives_up_within_api_gateways_budget(
    credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that accepts connections and never answers: refused well before the Lambda's 8 s timeout
    (botocore's defaults would wait 60 s per attempt, and API Gateway answer 500)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshakes; nothing ever reads or answers
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
        for ref in ("{ssm: /authorizer/key}", "{secretsmanager: authorizer/key}"):
            compiled = compile_yaml(policy("{header.x-api-key: {secret: ops}}", ref=ref))
            started = time.monotonic()
            decision = evaluate(RequestSpec(headers={"x-api-key": SENT}).to_event("rest"), compiled).decision
            assert time.monotonic() - started < 7.5, ref
            assert decision.effect == "unauthorized" and "could not be read" in decision.reason, decision.reason


def test_eval_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(policy("{header.x-api-key: {secret: ops}}"))
    event = tmp_path / "e.json"
    event.write_text(json.dumps(RequestSpec(headers={"x-api-key": SENT}).to_event("rest")))
    assert main(["eval", str(path), str(event)]) == 0
    assert json.loads(capsys.readouterr().out)["reason"] == UNSET
    assert main(["eval", str(path), str(event), "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"unauthorized ({UNSET})")
    assert 'header.x-api-key secret "secret:ops": got "<redacted>" (the secret cannot be read)' in out
    assert SENT not in out


def test_test_says_so_rather_than_a_value_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text(policy("{header.x-api-key: {secret: ops}}"))
    (tmp_path / "s.yaml").write_text(
        "policy: p.yaml\ncases:\n  - name: the operators' key\n"
        f"    request: {{headers: {{x-api-key: {SENT}}}}}\n    expect: {{effect: allow, rule: r}}\n"
    )
    assert main(["test", str(tmp_path / "s.yaml")]) == 1
    out = capsys.readouterr().out
    why = "secret 'ops': the suite's `secrets:` does not give it"
    assert f"decision: unauthorized (secret unavailable: {why} (no rule matched))" in out
    assert "(the secret cannot be read)" in out and SENT not in out


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
def test_the_lambda_logs_a_refusal_with_the_reason(
    use_policy: Any, log_output: io.StringIO, level: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At WARNING with metrics off the generated function answers; it hands this refusal to the engine, to be logged."""
    use_policy(policy("{header.x-api-key: {secret: ops}}"))
    before = handler._stdlib_logger.level
    handler.logger.setLevel(level)
    try:
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            handler.lambda_handler(RequestSpec(headers={"x-api-key": SENT}).to_event("rest"), None)
    finally:
        handler.logger.setLevel(before)
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    decision = next(line for line in lines if line.get("message") == "decision")
    assert (decision["level"], decision["effect"]) == ("WARNING", "unauthorized")
    assert decision["reason"] == UNSET
    assert SENT not in log_output.getvalue()
