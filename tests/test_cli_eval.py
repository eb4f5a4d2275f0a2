"""`authorizer eval` against every AWS sample event, and its exit codes."""

import json

import pytest

from authorizer.cli.main import main
from tests.conftest import FIXTURES, POLICIES, all_fixture_paths

EXAMPLE = str(POLICIES / "example.yaml")
AUTHORIZER_KINDS = {"token", "rest", "websocket", "http-v1", "http-v2"}


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("path", all_fixture_paths(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_sample_event_is_decided_with_the_right_shape(capsys, path):
    code, out, err = run(capsys, "eval", EXAMPLE, str(path))
    assert code == 0, err
    decision = json.loads(out)
    assert set(decision) >= {"effect", "rule", "principal", "context", "response"}
    if decision["effect"] == "allow":
        response = decision["response"]
        assert response["principalId"] == "me"
        assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
        event = json.loads(path.read_text(encoding="utf-8-sig"))
        assert response["policyDocument"]["Statement"][0]["Resource"] == event.get("methodArn", event.get("routeArn"))
    else:
        assert decision["effect"] == "unauthorized" and decision["response"] is None


def test_explain_adds_the_trace(capsys):
    event = str(POLICIES / "events" / "example" / "rest-wrong-header.json")
    code, out, _ = run(capsys, "eval", EXAMPLE, event, "--explain")
    assert code == 0
    trace = json.loads(out)["trace"]
    assert trace[0]["source"] == "header.HeaderAuth1" and trace[0]["outcome"] == "false"


def test_simple_response_flag(capsys):
    event = str(POLICIES / "events" / "example" / "http-v2-other-account.json")
    code, out, _ = run(capsys, "eval", EXAMPLE, event, "--response", "simple")
    assert code == 0 and json.loads(out)["response"] == {"isAuthorized": False}


def test_exit_codes(capsys, tmp_path):
    event = str(POLICIES / "events" / "example" / "rest-allowed.json")
    assert run(capsys, "eval", EXAMPLE, str(tmp_path / "none.json"))[0] == 2
    assert run(capsys, "eval", str(tmp_path / "none.yaml"), event)[0] == 2
    (tmp_path / "bad.json").write_text("{")
    assert run(capsys, "eval", EXAMPLE, str(tmp_path / "bad.json"))[0] == 2
    (tmp_path / "bad.yaml").write_text("version: 1\nrules:\n  - {name: a, effect: permit}\n")
    code, _, err = run(capsys, "eval", str(tmp_path / "bad.yaml"), event)
    assert code == 1 and "bad.yaml:3:" in err and "Traceback" not in err
    assert run(capsys, "eval")[0] == 2
    assert run(capsys, "--help")[0] == 0
