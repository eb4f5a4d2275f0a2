"""`authorizer eval --explain`: for every rule tried, the first condition that did not hold, with
source, expected, actual (redacted where secret) and the policy line it was written on."""

import json

from authorizer.cli.main import main
from tests.conftest import POLICIES

EVENTS = POLICIES / "events"


def explain(capsys, policy, event, *extra):
    code = main(["eval", str(POLICIES / policy), str(EVENTS / event), "--explain", *extra])
    out = capsys.readouterr().out
    assert code == 0
    return out


def test_every_rule_tried_names_its_first_failing_condition_and_line(capsys):
    out = json.loads(explain(capsys, "http-routes.yaml", "http-routes/staff-delete.json"))
    path = str(POLICIES / "http-routes.yaml")
    assert [(e["rule"], e["at"], e["matched"]) for e in out["explanation"]] == [
        ("retired-client", f"{path}:13:5", False),
        ("public-read", f"{path}:18:5", False),
        ("staff-write", f"{path}:24:5", False),
        ("admin-delete", f"{path}:35:5", False),
    ]
    missing, public, _staff, admin = (e["failed"] for e in out["explanation"])
    assert missing == [
        {
            "rule": "retired-client",
            "source": "header.user-agent",
            "op": "prefix",
            "expected": "petstore-client/0.",
            "actual": None,
            "outcome": "missing",
            "at": f"{path}:16:35",
        }
    ]
    assert public[0]["source"] == "route" and public[0]["actual"] == "DELETE /pets/7"
    assert (admin[0]["source"], admin[0]["expected"], admin[0]["actual"], admin[0]["at"]) == (
        "header.x-role",
        "admin",
        "staff",
        f"{path}:39:22",
    )
    assert all("at" in entry for entry in out["trace"])


def test_explanation_stops_at_the_rule_that_matched(capsys):
    out = json.loads(explain(capsys, "http-routes.yaml", "http-routes/staff-add.json"))
    assert [(e["rule"], e["matched"]) for e in out["explanation"]] == [
        ("retired-client", False),
        ("public-read", False),
        ("staff-write", True),
    ]
    assert out["effect"] == "allow" and out["rule"] == "staff-write"


def test_values_compared_with_secrets_are_redacted(capsys, monkeypatch):
    monkeypatch.setenv("CHAT_TICKET", "the-real-ticket")
    out = explain(capsys, "websocket-chat.yaml", "websocket-chat/connect-with-ticket.json")
    assert "demo-ticket" not in out  # the caller's ticket, compared with the secret
    failed = json.loads(out)["explanation"][0]["failed"][0]
    assert (failed["source"], failed["expected"], failed["actual"]) == (
        "query.ticket",
        "secret:chat_ticket",
        "<redacted>",
    )


def test_text_format_reads_as_sentences(capsys):
    out = explain(capsys, "example.yaml", "example/http-v2-other-account.json", "--format", "text")
    lines = out.splitlines()
    assert lines[0] == "unauthorized (no rule matched)"
    assert lines[1].startswith("  rule 'docs-example' (") and lines[1].endswith("example.yaml:13:5): did not match")
    assert 'context.accountId equals "123456789012": got ' in lines[2] and "example.yaml:19:26)" in lines[2]


def test_not_and_any_explain_what_held(capsys, tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - name: no-debug\n    effect: allow\n    when:\n      not: {query.debug: 'on'}\n"
        "  - name: either\n    effect: allow\n    when:\n      any:\n        - header.a: x\n        - header.b: y\n"
    )
    event = tmp_path / "e.json"
    event.write_text(
        json.dumps(
            {
                "type": "TOKEN",
                "authorizationToken": "t",
                "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/x",
            }
        )
    )
    assert main(["eval", str(policy), str(event), "--format", "text"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        f"  rule 'no-debug' ({policy}:3:5): did not match",
        "    not: the negated conditions held or were missing:",
        f'      query.debug equals "on": got nothing (missing) ({policy}:6:26)',
        f"  rule 'either' ({policy}:7:5): did not match",
        "    any: no alternative held:",
        f'      header.a equals "x": got nothing (missing) ({policy}:11:21)',
        f'      header.b equals "y": got nothing (missing) ({policy}:12:21)',
    ]
