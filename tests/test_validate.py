"""`authorizer validate`: every deliberately broken policy is rejected with file:line:col (exit 1,
no traceback), every shipped policy passes, and the exit codes follow the contract."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from authorizer.cli.main import COMMANDS, main
from tests.conftest import POLICIES, REPO

BROKEN = REPO / "tests" / "data" / "broken"

# file → (line, text the message must contain)
EXPECTED = {
    "alias-bomb.yaml": (2, "alias expansion bomb"),
    "bad-cidr.yaml": (6, "invalid CIDR '192.168.1.300/24'"),
    "bad-indentation.yaml": (4, "YAML syntax error"),
    "bad-jmespath.yaml": (6, "invalid JMESPath expression"),
    "bad-regex.yaml": (6, "invalid regular expression '[a-z+'"),
    "bad-regex-backreference.yaml": (6, "invalid regular expression"),
    "bad-route.yaml": (5, "must be `METHOD /path`"),
    "context-empty-key.yaml": (6, "context keys must not be empty"),
    "context-list.yaml": (6, "roles: expected a string"),
    "context-nan.yaml": (6, "score: input should be a finite number"),
    "context-null.yaml": (6, "team: expected a string"),
    "context-object.yaml": (6, "user: expected a string, an integer, a number, true or false, {from: SOURCE}"),
    "duplicate-keys.yaml": (7, "duplicate key 'header.x-role' (first defined at line 6"),
    "duplicate-rule-names.yaml": (7, "duplicate rule name 'admins'"),
    "empty.yaml": (1, "file is empty"),
    "empty-principal.yaml": (5, "principal: string should have at least 1 character"),
    "identity-source-no-name.yaml": (6, "needs a name after 'header.'"),
    "merge-key.yaml": (5, "merge keys (<<) are not allowed"),
    "missing-rules.yaml": (1, "missing required key 'rules'"),
    "non-utf8.yaml": (3, "not UTF-8 text"),
    "object-tag.yaml": (5, "python/object/apply:os.system' is not allowed"),
    "tokens-claim-without-tokens.yaml": (6, "jwt.sub reads a verified token: declare where the token travels"),
    "tokens-hmac.yaml": (7, "algorithms: 'HS256': HMAC and 'none' are never accepted"),
    "tokens-leeway.yaml": (3, "leeway: seconds, from 0 to 300"),
    "tokens-unknown-issuer.yaml": (10, "'cognitoo' names none; did you mean 'cognito'?"),
    "top-level-list.yaml": (1, "a policy is a mapping"),
    "typo-effect.yaml": (4, "did you mean 'allow'?"),
    "typo-key.yaml": (4, "unknown key 'efect'; did you mean 'effect'?"),
    "typo-operator.yaml": (6, "unknown key 'equls'; did you mean 'equals'?"),
    "typo-source.yaml": (6, "unknown identity source 'headers.x-role'; did you mean 'header.x-role'?"),
    "unknown-secret.yaml": (8, "unknown secret 'apikey'"),
    "unquoted-date.yaml": (6, "(quote dates and times)"),
    "whitespace-only.yaml": (1, "file is empty"),
    "wrong-type-routes.yaml": (5, "routes: input should be a valid list"),
    "wrong-type-rules.yaml": (3, "rules: input should be a valid list"),
    "wrong-type-version.yaml": (1, "'1' is not allowed here; expected 1"),
    "yaml-syntax.yaml": (5, "YAML syntax error"),
    "yes-no-boolean.yaml": (2, "is not allowed here; expected 'unauthorized' or 'deny'"),
}


def run(capsys, *args):
    code = main(["validate", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_broken_file_has_an_expectation():
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_policy_is_rejected_with_its_line(capsys, name):
    line, text = EXPECTED[name]
    path = str(BROKEN / name)
    code, out, err = run(capsys, path)
    assert code == 1, out + err
    located = [o for o in out.splitlines() if o.startswith(f"{path}:{line}:") and text in o]
    assert located, out
    assert all(o.startswith(f"{path}:") for o in out.splitlines())
    assert "Traceback" not in out + err


def test_the_broken_folder_in_a_fresh_process_names_every_file_and_never_tracebacks():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "authorizer"), "validate", str(BROKEN)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    reported = {Path(line.split(":", 1)[0]).name for line in result.stdout.splitlines()}
    assert reported == set(EXPECTED)
    assert f"{len(EXPECTED)} files checked" in result.stderr


def test_shipped_policies_and_suites_pass_even_with_strict(capsys):
    code, out, err = run(capsys, "--strict", str(POLICIES))
    assert code == 0, out + err
    assert out == ""
    assert "0 errors, 0 warnings" in err


def test_json_format_lists_files_and_problems(capsys, tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - name: a\n    efect: allow\n")
    code, out, _ = run(capsys, "--format", "json", str(policy), str(POLICIES / "example.yaml"))
    assert code == 1
    report = json.loads(out)
    assert report["errors"] == 2 and report["warnings"] == 0
    bad, good = report["files"]
    assert good == {
        "path": str(POLICIES / "example.yaml"),
        "kind": "policy",
        "errors": 0,
        "warnings": 0,
        "problems": [],
    }
    assert {"file": str(policy), "line": 4, "col": 5, "severity": "error"}.items() <= bad["problems"][1].items()
    assert "did you mean 'effect'?" in bad["problems"][1]["message"]


SHADOWED = """\
version: 1
resource: stage
rules:
  - name: staff
    effect: allow
    when:
      header.x-role: [staff, admin]
  - name: admins
    effect: allow
    when:
      header.x-role: admin
"""


def test_warnings_do_not_fail_unless_strict(capsys, tmp_path):
    policy = tmp_path / "shadowed.yaml"
    policy.write_text(SHADOWED)
    code, out, err = run(capsys, str(policy))
    assert code == 0
    assert out.startswith(f"{policy}:8:11: warning: rule 'admins' is shadowed by rule 'staff'")
    assert "0 errors, 1 warning" in err
    assert run(capsys, "--strict", str(policy))[0] == 1


def test_usage_and_io_errors_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, str(tmp_path / "missing.yaml"))
    assert code == 2 and "no such file or folder" in err
    code, _, err = run(capsys, str(tmp_path))
    assert code == 2 and "no *.yaml" in err
    assert main(["validate"]) == 2
    # a missing path still reports the others, and wins the exit code
    code, out, _ = run(capsys, str(BROKEN / "typo-key.yaml"), str(tmp_path / "missing.yaml"))
    assert code == 2 and "did you mean 'effect'?" in out


def test_folders_skip_the_loader_cache_and_check_suites_as_suites(capsys, tmp_path):
    (tmp_path / "__authorizer_cache__").mkdir()
    (tmp_path / "__authorizer_cache__" / "junk.yaml").write_text("not: [a policy")
    (tmp_path / "p.yaml").write_text((POLICIES / "example.yaml").read_text())
    (tmp_path / "tests").mkdir()
    suite = tmp_path / "tests" / "p.yaml"
    suite.write_text(
        "policy: ../p.yaml\ncases:\n  - name: c\n    expect: {efect: allow}\n  - name: d\n    polcy: x\n"
        "    expect: {effect: deny}\n"
    )
    code, out, err = run(capsys, str(tmp_path))
    assert code == 1
    assert f"{suite}:4:14: unknown key 'efect'; did you mean 'effect'?" in out
    assert f"{suite}:6:5: unknown key 'polcy'; did you mean 'policy'?" in out
    assert "junk" not in out
    assert "2 files checked" in err


def test_a_suite_that_expects_allow_without_naming_the_rule_is_a_warning(capsys, tmp_path):
    (tmp_path / "p.yaml").write_text((POLICIES / "example.yaml").read_text())
    suite = tmp_path / "suite.yaml"
    suite.write_text("policy: p.yaml\ncases:\n  - name: vacuous\n    expect: {effect: allow}\n")
    code, out, _ = run(capsys, str(suite))
    assert code == 0
    assert f"{suite}:4:13: warning: case 'vacuous' expects allow but names no rule" in out
    assert run(capsys, "--strict", str(suite))[0] == 1


def test_pre_commit_hooks_run_the_real_commands_on_the_files_they_select(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"authorizer-validate", "authorizer-test", "authorizer-diff"}
    tracked = [str(p.relative_to(REPO)) for p in POLICIES.rglob("*") if p.is_file()]
    for hook in hooks.values():
        program, command, *args = shlex.split(hook["entry"])
        assert program == "authorizer" and command in COMMANDS and hook["language"] == "python"
        selected = [f for f in tracked if re.search(hook["files"], f) and not re.search(hook.get("exclude", "^$"), f)]
        assert "policies/example.yaml" in selected and "policies/tests/example.yaml" in selected
        assert not any("__authorizer_cache__" in f for f in selected if hook.get("pass_filenames", True))
        files = selected if hook.get("pass_filenames", True) else []
        assert main([command, *args, *files]) == 0, capsys.readouterr()
    assert not any(f.endswith(".json") for f in tracked if re.search(hooks["authorizer-validate"]["files"], f))


def test_a_mapping_meant_as_from_source_gets_did_you_mean_and_others_a_type_error(capsys, tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - name: a\n    effect: allow\n    principal: {frm: header.x}\n"
        "    context: {a: {}, b: {from: header.y, x: 1}}\n"
    )
    code, out, _ = run(capsys, str(policy))
    assert code == 1
    assert out.splitlines() == [
        f"{policy}:5:16: missing required key 'from'",
        f"{policy}:5:17: unknown key 'frm'; did you mean 'from'?",
        f"{policy}:6:18: a: expected a string, an integer, a number, true or false, {{from: SOURCE}}",
        f"{policy}:6:42: unknown key 'x'; allowed: from, join",
    ]
