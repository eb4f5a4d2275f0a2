"""`authorizer event KIND ...`: the event a described request makes, from the builder suites use, accepted
by `authorizer eval` for every kind; invalid arguments are one line and exit 2."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest

from authorizer.cli.main import main
from authorizer.event.builder import RequestSpec
from authorizer.event.kinds import NAMES
from tests.conftest import POLICIES

EXAMPLE = str(POLICIES / "example.yaml")
EXAMPLE_REQUEST = ["--header", "HeaderAuth1=headerValue1", "--query", "QueryString1=queryValue1"]
EXAMPLE_REQUEST += ["--stage-var", "StageVar1=stageValue1"]
TOKEN_POLICY = """\
version: 1
rules:
  - name: bearer
    effect: allow
    when: {kind: token, token: {prefix: "Bearer "}}
"""


def event(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["event", *argv]) == 0, capsys.readouterr().err
    out: str = capsys.readouterr().out
    return out


def eval_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, policy: str, text: str) -> Any:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code = main(["eval", policy, "-"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("kind", [k for k in NAMES if k != "token"])
def test_the_example_policy_allows_the_event_built_with_its_header_query_and_stage_variable(
    kind: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    built = event(capsys, kind, "--path", "/pets/42", *EXAMPLE_REQUEST)
    decision = eval_stdin(capsys, monkeypatch, EXAMPLE, built)
    assert (decision["effect"], decision["rule"], decision["principal"]) == ("allow", "docs-example", "me")
    without_stage_variable = event(capsys, kind, *EXAMPLE_REQUEST[:4])
    assert eval_stdin(capsys, monkeypatch, EXAMPLE, without_stage_variable)["effect"] == "unauthorized"


def test_token_events_are_accepted_and_decided(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "token.yaml"
    policy.write_text(TOKEN_POLICY)
    allowed = eval_stdin(capsys, monkeypatch, str(policy), event(capsys, "token", "--token", "Bearer abc"))
    assert (allowed["effect"], allowed["rule"]) == ("allow", "bearer")
    refused = eval_stdin(capsys, monkeypatch, str(policy), event(capsys, "token", "--token", "Basic abc"))
    assert refused["effect"] == "unauthorized" and refused["reason"] == "no rule matched"
    assert eval_stdin(capsys, monkeypatch, EXAMPLE, event(capsys, "token"))["reason"] == "no rule matched"


@pytest.mark.parametrize("kind", NAMES)
def test_the_output_is_the_builders_event(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Exactly what a suite case describing the same request gets (the same request id and time)."""
    request = [] if kind == "token" else [*EXAMPLE_REQUEST, "--header", "x-two=a", "--header", "x-two=b"]
    request += ["--token", "t0k"] if kind == "token" else ["--query", "q=1", "--source-ip", "2001:db8::1"]
    request += [] if kind in ("token", "websocket") else ["--route", "POST /pets/{id}", "--path-param", "id=7"]
    request += ["--identity-source", "a", "--identity-source", "b"] if kind.startswith("http") else []
    request += [] if kind == "token" else ["--context", '{"accountId": "999999999999", "extra": {"n": 1}}']
    built = json.loads(event(capsys, kind, "--method", "post", "--path", "/pets/7", "--stage", "prod", "--time", "1e9",
                             "--request-id", "req-1", *request))  # fmt: skip
    spec = RequestSpec(method="post", path="/pets/7", stage="prod", now=1e9, request_id="req-1")
    if kind == "token":
        spec.token = "t0k"
    else:
        spec.headers = {"HeaderAuth1": "headerValue1", "x-two": ["a", "b"]}
        spec.query = {"QueryString1": "queryValue1", "q": "1"}
        spec.stage_variables = {"StageVar1": "stageValue1"}
        spec.source_ip = "2001:db8::1"
        spec.context = {"accountId": "999999999999", "extra": {"n": 1}}
    if kind not in ("token", "websocket"):
        spec.route_key, spec.path_parameters = "POST /pets/{id}", {"id": "7"}
    if kind.startswith("http"):
        spec.identity_source = ["a", "b"]
    assert built == spec.to_event(kind)


@pytest.mark.parametrize(
    "argv",
    [
        ["rest", "--header", "no-equals-sign"],
        ["rest", "--header", "=value"],
        ["rest", "--header", "bad name=x"],
        ["rest", "--header", "x=line\nbreak"],
        ["rest", "--header", "x=" + "y" * 20_000],
        ["rest", "--header", "x=\udcff"],  # invalid UTF-8 in argv
        ["rest", "--stage-var", "a=1", "--stage-var", "a=2"],
        ["rest", "--path-param", "id"],
        ["rest", "--path", "pets"],
        ["rest", "--method", "G ET"],
        ["rest", "--source-ip", "300.1.1.1"],
        ["rest", "--route", "get /pets"],
        ["rest", "--context", "[1, 2]"],
        ["rest", "--context", "{not json"],
        ["rest", "--context", "[" * 100_000 + "]" * 100_000],
        ["rest", "--stage", "a/b"],
        ["rest", "--account-id", "123"],
        ["rest", "--time", "nan"],
        ["rest", "--time", "soon"],
        ["rest", "--token", "abc"],
        ["token", "--header", "Authorization=abc"],
        ["token", "--source-ip", "10.0.0.1"],
        ["websocket", "--route", "GET /x"],
        ["rest", "--identity-source", "abc"],
        ["http-v3"],
        [],
    ],
    ids=lambda argv: " ".join(argv)[:60],
)
def test_every_invalid_argument_is_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["event", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("authorizer event: "), err
    assert "Traceback" not in err
