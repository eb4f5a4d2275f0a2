"""One run finds everything: a duplicate key, a refused YAML tag or merge key does not hide a file's
other problems (structure and meaning are checked on the data as read, the duplicate's first value
kept), a syntax error is the one problem a text that cannot be parsed has, and `authorizer test`
reports a policy that does not load once, however many cases use it."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from authorizer.cli.main import main
from authorizer.policy.errors import MAX_PROBLEMS

DUPLICATE_AND_SCHEMA = """\
version: 1
rules:
  - name: a
    effect: allow
    when:
      header.x-role: admin
      header.x-role: root
  - name: b
    efect: deny
  - name: c
    effect: alow
    merged:
      <<: {x: 1}
"""
DUPLICATE_AND_MEANING = """\
version: 1
rules:
  - name: a
    effect: allow
    when:
      header.x-role: admin
      header.x-role: root
      query.q: {regex: "("}
      source_ip: {cidr: 300.1.1.1/8}
  - name: a
    effect: deny
"""
TAGGED = """\
version: 1
rules:
  - name: a
    effect: !!python/name:os.system
    when: {header.x: !!binary aGk=}
  - name: b
    effect: deny
    routes: GET /x
"""


def validate(capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> tuple[int, list[str]]:
    code = main(["validate", str(path), *options])
    out = capsys.readouterr().out
    return code, [line.split(": ", 1)[0].rsplit(":", 2)[-2] + ":" + line.split(": ", 1)[1] for line in out.splitlines()]


@pytest.mark.parametrize("form", ["text", "json"])
def test_a_duplicate_key_does_not_hide_structure_problems(
    form: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(DUPLICATE_AND_SCHEMA)
    assert main(["validate", str(path), "--format", form]) == 1
    out = capsys.readouterr().out
    if form == "json":
        problems = [f"{p['line']}:{p['col']}: {p['message']}" for p in json.loads(out)["files"][0]["problems"]]
    else:
        problems = [line.removeprefix(f"{path}:") for line in out.splitlines()]
    assert problems == [
        "7:7: duplicate key 'header.x-role' (first defined at line 6, column 7)",
        "8:5: missing required key 'effect'",
        "9:5: unknown key 'efect'; did you mean 'effect'?",
        "11:13: 'alow' is not allowed here; expected 'allow' or 'deny' (did you mean 'allow'?)",
        "12:5: unknown key 'merged'; allowed: name, description, effect, routes, when, principal, context, "
        "usage_identifier_key, resource",
        "13:7: YAML merge keys (<<) are not allowed in a policy",
    ]


def test_and_when_the_data_validates_the_compilers_problems_come_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(DUPLICATE_AND_MEANING)
    assert main(["validate", str(path)]) == 1
    problems = [line.removeprefix(f"{path}:") for line in capsys.readouterr().out.splitlines()]
    assert problems == [
        "7:7: duplicate key 'header.x-role' (first defined at line 6, column 7)",
        "8:24: invalid regular expression '(': missing ): (",
        "9:25: invalid CIDR '300.1.1.1/8'",
        "10:11: duplicate rule name 'a'",
    ]


def test_a_refused_tag_is_reported_once_and_the_rest_still_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(TAGGED)
    assert main(["validate", str(path)]) == 1
    problems = [line.removeprefix(f"{path}:") for line in capsys.readouterr().out.splitlines()]
    assert problems == [
        "4:13: YAML tag 'tag:yaml.org,2002:python/name:os.system' is not allowed in a policy",
        "5:22: YAML tag 'tag:yaml.org,2002:binary' is not allowed in a policy",
        "8:13: routes: input should be a valid list",
    ]


def test_a_syntax_error_is_the_one_problem_there_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(DUPLICATE_AND_SCHEMA + "  - {name: d, effect: [allow\n")
    assert main(["validate", str(path)]) == 1
    (only,) = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf"{re.escape(str(path))}:\d+:\d+: YAML syntax error: .*", only), only


def test_a_suites_duplicate_key_does_not_hide_its_other_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text("version: 1\nrules:\n  - {name: r, effect: allow}\n")
    suite = tmp_path / "s.yaml"
    suite.write_text("policy: p.yaml\npolicy: p.yaml\ncases:\n  - name: one\n    expect: {effect: allow, rul: r}\n")
    assert main(["validate", str(suite)]) == 1
    problems = [line.removeprefix(f"{suite}:") for line in capsys.readouterr().out.splitlines()]
    assert problems == [
        "2:1: duplicate key 'policy' (first defined at line 1, column 1)",
        "5:29: unknown key 'rul'; did you mean 'rule'?",
    ]


def test_a_file_stops_being_reported_after_so_many_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nrules:\n" + "".join(f"  - {{name: r{i}, efect: allow}}\n" for i in range(200)))
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1].endswith(f"stopped after {MAX_PROBLEMS} problems ({400 - MAX_PROBLEMS} more)")


def test_authorizer_test_reports_a_policy_that_does_not_load_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(DUPLICATE_AND_SCHEMA)
    (tmp_path / "ok.yaml").write_text("version: 1\nrules:\n  - {name: r, effect: allow}\n")
    cases = "".join(f"  - name: case {i}\n    expect: {{effect: allow, rule: a}}\n" for i in range(5))
    (tmp_path / "one.yaml").write_text(f"policy: p.yaml\ncases:\n{cases}")
    (tmp_path / "two.yaml").write_text(
        f"policy: p.yaml\nsecrets: {{k: v}}\ncases:\n{cases}"
        "  - {name: elsewhere, policy: ok.yaml, expect: {effect: allow, rule: r}}\n"
    )
    junit = tmp_path / "junit.xml"
    code = main(["test", str(tmp_path / "one.yaml"), str(tmp_path / "two.yaml"), "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[-1] == "1 passed, 1 failed"
    errors = [line for line in out.splitlines() if line.startswith("ERROR ")]
    assert len(errors) == 6 and all(":" in e and "p.yaml:" in e for e in errors), out  # its 6 problems, once
    assert "FAIL" not in out
    root = ET.parse(junit).getroot()
    error_cases = [case for case in root.iter("testcase") if case.find("error") is not None]
    assert len(error_cases) == 1 and error_cases[0].get("name") == "policy does not load"
    element = error_cases[0].find("error")
    assert element is not None and (element.text or "").count("\n") == 5
