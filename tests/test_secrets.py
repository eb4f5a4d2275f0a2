"""Secrets: values from an environment variable, SSM Parameter Store or Secrets Manager (Powertools
parameters, cached; the AWS side is moto), compared in constant time, and absent from everything
the authorizer writes: logs, metrics, explain traces, CLI output and load errors.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from authorizer import handler
from authorizer.cli.main import main as cli
from authorizer.decide import evaluate as evaluate_module
from authorizer.decide import generated as generated_module
from authorizer.decide.decision import Trace
from authorizer.decide.engine import decide
from authorizer.decide.evaluate import evaluate
from authorizer.event.builder import RequestSpec
from authorizer.event.request import Request
from authorizer.policy import operators as operators_module
from authorizer.policy.errors import PolicyError
from authorizer.policy.load import load
from authorizer.policy.secrets import SecretUnavailable, secret_lookup

ENV_SECRET = "S3CR3T-env-4f1d0a"
SSM_SECRET = "S3CR3T-ssm-9b2e77"
SM_SECRET = "S3CR3T-sm-c0ffee"
TOKEN = "T0KEN-eyJhbGciOi.payload.sig"
BEARER = "Bearer L1TERAL-in-policy-5e5e"
SESSION = "SESS10N-0a0b0c"
COOKIE = "C00KIE-77aa"
GUESSES = ["GUESS-S3CR3T-1", "GUESS-S3CR3T-2", "S3CR3T-env-4f1d0b"]  # wrong, and one a character off
NEVER_WRITTEN = [ENV_SECRET, SSM_SECRET, SM_SECRET, TOKEN, BEARER, SESSION, COOKIE, *GUESSES]

POLICY = f"""\
version: 1
on_no_match: deny
secrets:
  env_key: {{env: LEAK_TEST_KEY}}
  ssm_key: {{ssm: /authorizer/api-key}}
  sm_key: {{secretsmanager: authorizer/api-key}}
  gone: {{ssm: /authorizer/does-not-exist}}
redact: [header.x-session]
rules:
  - name: blocked-session
    effect: deny
    when:
      header.x-session: {{exists: true}}
      header.x-api-key: {{secret: env_key}}
  - name: env
    effect: allow
    when: {{header.x-api-key: {{secret: env_key}}}}
    principal: {{from: header.x-user}}
  - name: ssm
    effect: allow
    when: {{header.x-api-key: {{secret: ssm_key}}, query.k: {{not: {{secret: gone}}}}}}
    principal: {{from: header.x-user}}
  - name: secrets-manager
    effect: allow
    when: {{header.x-api-key: {{values: any, secret: sm_key}}}}
    principal: {{from: header.x-user}}
  - name: literal-bearer
    effect: allow
    when: {{header.authorization: "{BEARER}", cookie.sid: {{not_one_of: [x]}}}}
    principal: {{from: header.x-user}}
  - name: token
    effect: allow
    when: {{token: {{secret: env_key}}}}
  - name: token-shape
    effect: allow
    when: {{token: {{regex: "T0KEN-.*"}}, jmespath: "token != 'x'"}}
"""


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's SSM and Secrets Manager holding the two stored secrets; Powertools' cache emptied."""
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "LEAK_TEST_KEY": ENV_SECRET,
    }.items():
        monkeypatch.setenv(key, value)
    parameters.clear_caches()
    with mock_aws():
        boto3.client("ssm").put_parameter(Name="/authorizer/api-key", Value=SSM_SECRET, Type="SecureString")
        boto3.client("secretsmanager").create_secret(Name="authorizer/api-key", SecretString=SM_SECRET)
        yield
    parameters.clear_caches()


def decide_with(policy_text: str, **request: Any) -> str:
    policy = load("secrets.yaml", policy_text.encode()).policy
    kind = request.pop("kind", "rest")
    return decide(policy, Request(RequestSpec(**request).to_event(kind)), Trace()).effect


def one_secret(ref: str) -> str:
    rule = "{name: r, effect: allow, when: {header.x-key: {secret: k}}}"
    return f"version: 1\nsecrets: {{k: {ref}}}\nrules:\n  - {rule}\n"


# -- where secrets come from -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ref", "value"),
    [
        ("{env: LEAK_TEST_KEY}", ENV_SECRET),
        ("{ssm: /authorizer/api-key}", SSM_SECRET),
        ("{secretsmanager: authorizer/api-key}", SM_SECRET),
    ],
)
def test_each_store_lets_the_right_value_in_and_nothing_else(aws: None, ref: str, value: str) -> None:
    text = one_secret(ref)
    assert decide_with(text, headers={"x-key": value}) == "allow"
    for wrong in [*GUESSES, value + " ", value.upper(), value[:-1], ""]:
        assert decide_with(text, headers={"x-key": wrong}) == "unauthorized", wrong
    assert decide_with(text) == "unauthorized"


@pytest.mark.parametrize(
    "ref", ["{env: UNSET_VARIABLE}", "{ssm: /authorizer/missing}", "{secretsmanager: authorizer/missing}"]
)
def test_a_secret_that_cannot_be_fetched_matches_nothing(aws: None, ref: str, caplog: Any) -> None:
    text = one_secret(ref)
    for sent in ["", "None", "null", ENV_SECRET]:
        assert decide_with(text, headers={"x-key": sent}) == "unauthorized"
    assert ENV_SECRET not in caplog.text


def test_an_empty_secret_matches_nothing(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAK_TEST_KEY", "")
    assert decide_with(one_secret("{env: LEAK_TEST_KEY}"), headers={"x-key": ""}) == "unauthorized"
    assert decide_with(one_secret("{env: LEAK_TEST_KEY}"), headers={"x-key": "x"}) == "unauthorized"


def test_a_rotated_secret_takes_effect_on_the_next_request(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison keeps the secret's digest while the secret stays the same: a new value is a new digest."""
    policy = load("secrets.yaml", one_secret("{env: LEAK_TEST_KEY}").encode()).policy

    def effect(sent: str) -> str:
        return decide(policy, Request(RequestSpec(headers={"x-key": sent}).to_event("rest")), Trace()).effect

    assert effect(ENV_SECRET) == "allow"
    monkeypatch.setenv("LEAK_TEST_KEY", "the-next-key")
    assert (effect(ENV_SECRET), effect("the-next-key")) == ("unauthorized", "allow")
    monkeypatch.setenv("LEAK_TEST_KEY", ENV_SECRET)  # and back
    assert (effect(ENV_SECRET), effect("the-next-key")) == ("allow", "unauthorized")
    monkeypatch.delenv("LEAK_TEST_KEY")
    assert effect(ENV_SECRET) == "unauthorized"


def test_stored_secrets_are_cached_for_max_age(aws: None) -> None:
    """Powertools keeps a fetched value for max_age: a deleted parameter still answers until then."""
    lookup = secret_lookup({"k": {"ssm": "/authorizer/api-key"}}, max_age=1)
    assert lookup("k") == SSM_SECRET
    boto3.client("ssm").delete_parameter(Name="/authorizer/api-key")
    assert lookup("k") == SSM_SECRET, "served from the cache"
    time.sleep(1.1)  # past max_age
    with pytest.raises(SecretUnavailable, match=r"^secret 'k': SSM parameter /authorizer/api-key "):
        lookup("k")


def test_binary_secrets_match_nothing(aws: None) -> None:
    boto3.client("secretsmanager").create_secret(Name="bin", SecretBinary=SM_SECRET.encode())
    with pytest.raises(SecretUnavailable, match=r"^secret 'k': Secrets Manager secret bin holds no text$"):
        secret_lookup({"k": {"secretsmanager": "bin"}})("k")


# -- constant time ---------------------------------------------------------------------------------
@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """Every pair hmac.compare_digest sees from the compiled policy."""
    seen: list[tuple[Any, Any]] = []
    real = hmac.compare_digest  # the spy replaces it on the one hmac module everybody shares

    def spy(a: Any, b: Any) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(operators_module.hmac, "compare_digest", spy)
    return seen


@pytest.mark.parametrize(
    ("condition", "sent"),
    [
        ("{header.x-key: {secret: k}}", ENV_SECRET),
        ("{header.x-key: {secret: k}}", GUESSES[2]),
        ("{header.x-api-key: literal-key}", "literal-kez"),
        ("{header.x-api-key: {not_equals: literal-key}}", "literal-key"),
        ("{token: literal-token}", "literal-token"),
    ],
)
def test_secret_comparisons_go_through_compare_digest_on_sha256_digests(
    aws: None, compared: list[tuple[Any, Any]], condition: str, sent: str
) -> None:
    rule = f"{{name: r, effect: allow, when: {condition}}}"
    text = f"version: 1\nsecrets: {{k: {{env: LEAK_TEST_KEY}}}}\nrules:\n  - {rule}\n"
    kind = "token" if condition.startswith("{token") else "rest"
    decide_with(text, headers={"x-key": sent, "x-api-key": sent}, token=sent, kind=kind)
    assert compared, "a secret-bearing value was compared without hmac.compare_digest"
    digest = hashlib.sha256(sent.encode()).digest()
    assert any(digest in pair for pair in compared)
    assert all(isinstance(a, bytes) and len(a) == len(b) == 32 for a, b in compared), "equal-length digests only"


# -- nothing secret in anything written ---------------------------------------------------------------
def _events() -> Iterator[dict[str, Any]]:
    """Allowed, denied, refused and broken requests, each carrying secrets or guesses of them."""
    user = {"x-user": "alice"}
    for key in [ENV_SECRET, SSM_SECRET, SM_SECRET, *GUESSES]:
        for kind in ("rest", "websocket", "http-v1", "http-v2"):
            yield RequestSpec(headers={**user, "x-api-key": key}, query={"k": COOKIE}).to_event(kind)
    yield RequestSpec(headers={**user, "x-api-key": [SM_SECRET, GUESSES[0]]}).to_event("rest")
    yield RequestSpec(headers={**user, "x-api-key": ENV_SECRET, "x-session": SESSION}).to_event("rest")
    yield RequestSpec(headers={**user, "authorization": BEARER, "cookie": f"sid={COOKIE}"}).to_event("http-v2")
    yield RequestSpec(headers={**user, "authorization": BEARER, "cookie": f"sid={COOKIE}"}).to_event("rest")
    yield RequestSpec(headers={"x-api-key": ENV_SECRET}).to_event("rest")  # principal missing: refused
    for token in [ENV_SECRET, TOKEN, *GUESSES]:
        yield RequestSpec(token=token).to_event("token")
    broken = RequestSpec(headers={"x-api-key": ENV_SECRET}, token=TOKEN).to_event("rest")
    broken["methodArn"] = f"arn:{ENV_SECRET}:{TOKEN}"
    yield broken
    yield {"type": "TOKEN", "authorizationToken": TOKEN, "methodArn": SESSION}
    yield {"type": TOKEN, "secret": SM_SECRET}


EVENTS = list(_events())


@pytest.fixture
def everything_written(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> Iterator[io.StringIO]:
    """One buffer for the handler's Powertools logger and every stdlib log record (our loggers at
    DEBUG, the rest at INFO as on Lambda); stdout/stderr are read at file-descriptor level."""
    buffer = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", buffer)
    records = logging.StreamHandler(buffer)
    root = logging.getLogger()
    root.addHandler(records)
    monkeypatch.setattr(root, "level", logging.INFO)
    monkeypatch.setattr(logging.getLogger("authorizer"), "level", logging.DEBUG)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    for key, value in {
        "AUTHORIZER_POLICY": str(policy),
        "AUTHORIZER_METRICS": "true",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "POWERTOOLS_METRICS_NAMESPACE": "LeakTest",
    }.items():
        monkeypatch.setenv(key, value)
    handler.reset()
    try:
        yield buffer
    finally:
        handler.reset()
        root.removeHandler(records)


def _decide_everything(buffer: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    effects: dict[str, int] = {}
    for item in EVENTS:  # through the Lambda entry point: logs and EMF metrics
        try:
            response = handler.lambda_handler(json.loads(json.dumps(item)), None)
            effect = response["policyDocument"]["Statement"][0]["Effect"]
        except Exception as exc:
            assert str(exc) == "Unauthorized"
            effect = "Unauthorized"
        effects[effect] = effects.get(effect, 0) + 1
    policy = load("p.yaml", POLICY.encode()).policy
    for item in EVENTS:  # explained: the whole trace, as JSON
        decision, _, response = evaluate(item, policy, explained=True)
        print(json.dumps({**decision.as_dict(), "principal": None, "response": None}, default=str))
    event_file = tmp_path / "event.json"
    for item in EVENTS[:12]:  # the CLI, both formats (its JSON answer minus the response, which carries outputs)
        event_file.write_text(json.dumps(item))
        for form in ("json", "text"):
            cli(["eval", str(tmp_path / "policy.yaml"), str(event_file), "--explain", "--format", form])
    for broken in [  # failing loads: the error text of each
        POLICY.replace("effect: deny", "effect: dney"),
        POLICY.replace('regex: "T0KEN-.*"', 'regex: "T0KEN-("'),
        POLICY.replace("env_key: {env: LEAK_TEST_KEY}", "env_key: {env: LEAK_TEST_KEY, ssm: /x}"),
        POLICY + "  - {name: bad, effect: allow, when: {header.x-api-key: {secret: nope}}}\n",
    ]:
        with pytest.raises(PolicyError) as info:
            load("broken.yaml", broken.encode())
        print(info.value)
    (tmp_path / "policy.yaml").write_text(POLICY.replace("rules:", "rulez:"))  # the Lambda failing to load
    handler.reset()
    for item in EVENTS[:5]:
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            handler.lambda_handler(item, None)

    def leaky(*args: Any) -> Any:
        raise RuntimeError(f"internal failure holding {ENV_SECRET} and {TOKEN}")

    monkeypatch.setattr(evaluate_module, "decide", leaky)  # an internal error whose message holds secrets
    monkeypatch.setattr(generated_module, "classify", leaky)  # in the generated path too
    (tmp_path / "policy.yaml").write_text(POLICY)
    handler.reset()
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.lambda_handler(EVENTS[0], None)
    return effects


def test_no_secret_or_token_in_anything_written(
    everything_written: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    effects = _decide_everything(everything_written, tmp_path, monkeypatch)
    captured = capfd.readouterr()
    written = everything_written.getvalue() + captured.out + captured.err
    assert set(effects) == {"Allow", "Deny", "Unauthorized"}, effects  # every kind of decision was made
    for expected in ['"message":"decision"', '"_aws"', "<redacted>", "secret:env_key", "broken.yaml:", "internal"]:
        assert expected in written, f"the capture missed {expected!r}: it would prove nothing"
    leaked = [value for value in NEVER_WRITTEN if value in written]
    assert not leaked, f"written somewhere: {leaked}"
