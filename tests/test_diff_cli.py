"""`authorizer diff` as CI runs it: the exit-code contract (--fail-on, --strict, --expect), every
format, redaction in every format, one-line errors, and --base against a temporary git repository."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from authorizer.cli.main import main
from tests.conftest import POLICIES
from tests.diff_mutations import MUTATIONS, mutate

API_KEYS = POLICIES / "api-keys.yaml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def mutated(tmp_path: Path, policy: str, name: str) -> str:
    mutation = next(m for m in MUTATIONS if m.policy == policy and m.name == name)
    path = tmp_path / f"{policy}-{name.replace(' ', '-')}.yaml"
    path.write_text(mutate((POLICIES / f"{policy}.yaml").read_text(), mutation))
    return str(path)


def test_identical_exits_0_and_a_change_exits_1(capsys, tmp_path):
    assert run(capsys, str(API_KEYS), str(API_KEYS))[0] == 0
    code, out, _ = run(capsys, str(API_KEYS), mutated(tmp_path, "api-keys", "narrowed CIDR"))
    assert code == 1 and "NARROWED" in out and "partner-acme" in out


def test_fail_on_selects_the_kinds_that_fail(capsys, tmp_path):
    narrower = mutated(tmp_path, "api-keys", "narrowed CIDR")
    wider = mutated(tmp_path, "websocket-chat", "a new origin")
    chat = str(POLICIES / "websocket-chat.yaml")
    assert run(capsys, str(API_KEYS), narrower, "--fail-on", "widening")[0] == 0
    assert run(capsys, str(API_KEYS), narrower, "--fail-on", "narrowing")[0] == 1
    assert run(capsys, chat, wider, "--fail-on", "widening")[0] == 1
    assert run(capsys, chat, wider, "--fail-on", "narrowing")[0] == 0
    outputs = mutated(tmp_path, "api-keys", "changed context value")
    assert run(capsys, str(API_KEYS), outputs, "--fail-on", "widening")[0] == 0
    assert run(capsys, str(API_KEYS), outputs)[0] == 1  # any


def test_strict_fails_on_what_is_not_proven(capsys, tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - name: r\n    effect: allow\n    when:\n"
        "      header.x-user: {regex: '(?i)admin'}\n      jmespath: \"length(keys(headers)) < `50`\"\n"
    )
    code, out, _ = run(capsys, str(policy), str(policy))
    assert code == 0 and out.count("not proven") == 2
    code, out, _ = run(capsys, str(policy), str(policy), "--strict")
    assert code == 1


def test_expect_declares_the_intended_change(capsys, tmp_path):
    wider = mutated(tmp_path, "websocket-chat", "a new origin")
    chat = str(POLICIES / "websocket-chat.yaml")
    expect = tmp_path / "expect.yaml"
    expect.write_text("changes:\n  - {group: widened, rule: chat-connect}\n")
    assert run(capsys, chat, wider, "--expect", str(expect))[0] == 0
    expect.write_text("changes:\n  - {group: narrowed, after: chat-connect}\n")  # not what changed
    code, out, _ = run(capsys, chat, wider, "--expect", str(expect))
    assert code == 1 and "expected change did not happen" in out
    expect.write_text("changes:\n  - {group: widened, before: null, after: chat-connect}\n")
    assert run(capsys, chat, chat, "--expect", str(expect))[0] == 1  # declared, but nothing changed


@pytest.mark.parametrize(
    ("content", "message"),
    [("changes:\n  - {group: widend}\n", "expect.yaml:2:"), ("changes: [\n", "expect.yaml:"), ("other: 1\n", "other")],
)
def test_a_bad_expect_file_is_one_line_and_exit_2(capsys, tmp_path, content, message):
    expect = tmp_path / "expect.yaml"
    expect.write_text(content)
    code, out, err = run(capsys, str(API_KEYS), str(API_KEYS), "--expect", str(expect))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and not out


def test_errors_are_one_line_exit_2_and_never_a_traceback(capsys, tmp_path):
    for args in ([str(API_KEYS)], [str(API_KEYS), str(tmp_path / "none.yaml")], []):
        code, _, err = run(capsys, *args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nrules:\n  - {name: a, effect: permit}\n")
    code, out, err = run(capsys, str(API_KEYS), str(broken))
    assert code == 2 and "broken.yaml:3:" in err and "Traceback" not in err and not out


def test_every_format(capsys, tmp_path):
    wider = mutated(tmp_path, "http-routes", "widened regex length")
    routes = str(POLICIES / "http-routes.yaml")
    code, out, _ = run(capsys, routes, wider, "--format", "json")
    report = json.loads(out)
    assert code == report["exit_code"] == 1
    groups = report["policies"][0]["groups"]
    assert {g["group"] for g in groups} == {"widened"} and all(g["example"]["values"] for g in groups)
    assert all(g["after"]["at"].startswith(wider) for g in groups)
    code, out, _ = run(capsys, routes, wider, "--format", "junit")
    root = ET.fromstring(out.split("\n", 1)[1])
    assert code == 1 and root.tag == "testsuites" and root.find("testsuite/testcase/failure") is not None
    code, out, _ = run(capsys, routes, wider, "--format", "markdown")
    assert code == 1 and out.startswith("## Authorizer policy diff") and "**widened**" in out and "❌" in out
    code, out, _ = run(capsys, routes, routes, "--format", "junit")
    assert code == 0 and ET.fromstring(out.split("\n", 1)[1]).find("testsuite/testcase[@name='no change']") is not None


SECRET_POLICY = """version: 1
secrets:
  ops: {env: OPS_KEY}
rules:
  - name: bearer
    effect: allow
    when:
      header.authorization: "Bearer topsecret-123"
      header.x-tenant: acme
    principal: {from: header.authorization}
    context: {session: {from: cookie.sid}}
  - name: ops
    effect: allow
    when:
      header.x-api-key: {secret: ops}
      header.x-tenant: acme
"""


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "markdown"])
def test_secret_bearing_values_never_appear(capsys, tmp_path, fmt):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(SECRET_POLICY)
    new.write_text(SECRET_POLICY.replace("header.x-tenant: acme", "header.x-tenant: [acme, globex]"))
    code, out, err = run(capsys, str(old), str(new), "--format", fmt)
    assert code == 1 and "bearer" in out and "ops" in out
    assert "topsecret" not in out + err and "secret-" not in out + err  # nor the secret's stand-in
    assert "<redacted>" in out or "&lt;redacted&gt;" in out  # JUnit escapes it


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True, capture_output=True
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_base_compares_every_changed_policy_with_its_revision(capsys, tmp_path, monkeypatch):
    shutil.copytree(POLICIES, tmp_path / "policies", ignore=shutil.ignore_patterns("__authorizer_cache__"))
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "policies")
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "--base", "HEAD", "policies")[0] == 0  # nothing differs
    Path("policies/api-keys.yaml").write_text(
        mutate((POLICIES / "api-keys.yaml").read_text(), next(m for m in MUTATIONS if m.name == "narrowed CIDR"))
    )
    Path("policies/example.yaml").unlink()
    shutil.copy(POLICIES / "example.yaml", "policies/example-copy.yaml")
    code, out, _ = run(capsys, "--base", "HEAD", "policies", "--format", "json")
    report = json.loads(out)
    statuses = {p["new"] if p["status"] != "removed" else p["old"]: p["status"] for p in report["policies"]}
    assert statuses == {
        "policies/api-keys.yaml": "changed",
        "HEAD:policies/example.yaml": "removed",
        "policies/example-copy.yaml": "added",
    }
    changed = next(p for p in report["policies"] if p["status"] == "changed")
    assert [g["group"] for g in changed["groups"]] == ["narrowed"] and code == 1
    assert changed["groups"][0]["before"]["at"].startswith("HEAD:policies/api-keys.yaml:")
    assert run(capsys, "--base", "HEAD", "policies", "--fail-on", "widening")[0] == 1  # an added policy widens
    code, _, err = run(capsys, "--base", "no-such-rev", "policies")
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, "HEAD:policies/api-keys.yaml", "policies/api-keys.yaml")
    assert code == 1 and "NARROWED" in out
