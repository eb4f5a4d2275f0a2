"""A policy that fails to load never has a condition's literal on a secret-bearing source quoted back:
not by `authorizer validate` (text or JSON), `authorizer test`, nor the Lambda's log. Secret-bearing:
a secret-looking name, `redact:`, compared with a `secret:`, or with such a source. Every literal
below starts with `L1T-`; the same mistakes on ordinary sources are still quoted, as help."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from authorizer import handler
from authorizer.cli.main import main
from authorizer.event.builder import RequestSpec

MEANING = f"""\
version: 1
secrets: {{t: {{env: TICKET}}}}
redact: [query.k]
rules:
  - name: a
    effect: allow
    when:
      header.authorization: {{regex: "Bearer L1T-REGEX-("}}
      header.x-api-key: {{cidr: L1T-CIDR}}
      query.k: {{glob: "L1T-GLOB-{"x" * 6000}"}}
      jmespath: "headers.authorization == 'L1T-JMES' && ("
  - name: b
    effect: allow
    when: {{header.x-ticket: {{secret: t}}}}
  - name: c
    effect: allow
    when:
      header.x-ticket: {{not: {{regex: "L1T-NOT-("}}}}
      any:
        - header.x-other: {{equals: {{from: header.x-ticket}}}}
      header.x-other: {{not: {{cidr: [10.0.0.0/8, L1T-OTHER-CIDR]}}}}
  - name: plain
    effect: allow
    when: {{header.x-role: {{regex: "plain-("}}, source_ip: {{cidr: 1.2.3}}}}
"""
STRUCTURE = """\
version: 1
rules:
  - name: a
    effect: allow
    when:
      header.x-session: {values: L1T-MODE}
      cookie.sid: {L1T-KEY: 1, equals: ok}
      header.x-api-key: {L1T-DUP: 1, L1T-DUP: 2, equals: !L1T-TAG x}
      not: {header.authorization: {values: L1T-IN-NOT}}
      header.x-role: {values: plain-mode, equals: !plain-tag x}
"""
EXPECTED = {  # line:col → message, for the secret-bearing ones; the plain ones quote
    "MEANING": [
        "8:37: invalid regular expression (not shown: its source bears secrets): missing )",
        "9:32: invalid CIDR (not shown: its source bears secrets)",
        "10:23: invalid glob (not shown: its source bears secrets): too large",
        "11:17: invalid JMESPath expression:",
        "18:38: invalid regular expression (not shown: its source bears secrets): missing )",
        "21:49: invalid CIDR (not shown: its source bears secrets)",
        "24:35: invalid regular expression 'plain-(': missing ): plain-(",
        "24:65: invalid CIDR '1.2.3'",
    ],
    "STRUCTURE": [
        "6:34: this value (not shown: its source bears secrets) is not allowed here",
        "7:20: unknown key (not shown: its source bears secrets)",
        "8:26: unknown key (not shown: its source bears secrets)",
        "8:38: duplicate key (not shown: its source bears secrets)",
        "8:58: a YAML tag (not shown: its source bears secrets) is not allowed in a policy",
        "9:44: this value (not shown: its source bears secrets) is not allowed here",
        "10:31: 'plain-mode' is not allowed here",
        "10:51: YAML tag '!plain-tag' is not allowed in a policy",
    ],
}
POLICIES = {"MEANING": MEANING, "STRUCTURE": STRUCTURE}


@pytest.fixture(params=sorted(POLICIES))
def broken(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICIES[request.param])
    return path, EXPECTED[request.param]


def shows_every_problem_and_no_literal(text: str, path: Path, expected: list[str]) -> None:
    for problem in expected:
        assert f"{path}:{problem}" in text, f"{problem!r} missing from:\n{text}"
    assert "L1T-" not in text


@pytest.mark.parametrize("form", ["text", "json"])
def test_validate(broken: tuple[Path, list[str]], form: str, capsys: pytest.CaptureFixture[str]) -> None:
    path, expected = broken
    assert main(["validate", str(path), "--format", form]) == 1
    out, err = capsys.readouterr()
    if form == "json":
        problems = json.loads(out)["files"][0]["problems"]
        out = "\n".join(f"{p['file']}:{p['line']}:{p['col']}: {p['message']}" for p in problems)
    shows_every_problem_and_no_literal(out + err, path, expected)


def test_authorizer_test(broken: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    path, expected = broken
    suite = path.parent / "suite.yaml"
    suite.write_text("policy: policy.yaml\ncases:\n  - {name: any, expect: {effect: allow, rule: a}}\n")
    assert main(["test", str(suite)]) == 1
    out, err = capsys.readouterr()
    shows_every_problem_and_no_literal((out + err).replace("ERROR ", ""), Path("policy.yaml"), expected)


def test_the_lambdas_log(broken: tuple[Path, list[str]], use_policy: Any, log_output: io.StringIO) -> None:
    use_policy(broken[0].read_text())
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.lambda_handler(RequestSpec().to_event("rest"), None)
    logged = log_output.getvalue()
    assert "failed to load" in logged and "not shown: its source bears secrets" in logged
    assert "L1T-" not in logged
