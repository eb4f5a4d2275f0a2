"""`authorizer test`: the shipped suites pass with full coverage, a changed policy fails them, and
suite files are expanded, compared, reported (diff, why, JUnit, coverage) as documented."""

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from authorizer.cli.main import main
from authorizer.testing.compare import compare, differences, same
from authorizer.testing.suite import load_suite
from tests.conftest import POLICIES

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")


def run(capsys, *args):
    code = main(["test", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def summary(out):
    match = SUMMARY.match(out.splitlines()[-1])
    assert match, out
    return int(match[1]), int(match[2])


def test_shipped_suites_pass_with_full_coverage_of_every_shipped_policy(capsys):
    code, out, _ = run(capsys, str(POLICIES), "--coverage", "--min-coverage", "100")
    assert code == 0, out
    passed, failed = summary(out)
    assert failed == 0 and passed >= 40
    for policy in POLICIES.glob("*.yaml"):
        assert re.search(rf"{re.escape(policy.name)}: 100\.0% \(rules decided (\d+)/\1,", out), policy.name
    assert "FAIL" not in out and "warning" not in out


def test_the_example_suite_has_at_least_ten_cases():
    suite = load_suite(POLICIES / "tests" / "example.yaml")
    assert suite.problems == [] and suite.warnings == []
    assert len(suite.cases) >= 10


@pytest.fixture
def policies_copy(tmp_path):
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target, ignore=shutil.ignore_patterns("__authorizer_cache__"))
    return target


def test_changing_an_expected_value_in_a_shipped_policy_fails_its_suite(capsys, policies_copy):
    policy = policies_copy / "example.yaml"
    policy.write_text(policy.read_text().replace("numberKey: 123", "numberKey: 124"))
    code, out, _ = run(capsys, str(policies_copy))
    assert code == 1
    passed, failed = summary(out)
    assert failed == 2 and passed > 0
    assert "FAIL " in out and "context.numberKey: expected 123, got 124" in out


def test_changing_a_condition_fails_with_the_reason_and_the_policy_line(capsys, policies_copy):
    policy = policies_copy / "http-routes.yaml"
    policy.write_text(policy.read_text().replace("header.x-role: admin", "header.x-role: root"))
    code, out, _ = run(capsys, str(policies_copy / "tests" / "http-routes.yaml"))
    assert code == 1
    assert 'effect: expected "allow", got "unauthorized"' in out
    assert re.search(r'header\.x-role equals "root": got "admin" \(.*policies/http-routes\.yaml:39:22\)', out), out


def test_a_policy_that_no_longer_loads_fails_its_cases_reported_once(capsys, policies_copy):
    """Its problems once, as a broken suite's are, counted as one failure, not once per case (11 here)."""
    policy = policies_copy / "websocket-chat.yaml"
    policy.write_text(policy.read_text().replace("effect: allow", "efect: allow"))
    code, out, _ = run(capsys, str(policies_copy / "tests" / "websocket-chat.yaml"))
    assert code == 1
    assert summary(out) == (0, 1)
    error = r"^ERROR .*websocket-chat\.yaml:\d+:\d+: unknown key 'efect'; did you mean 'effect'\?$"
    assert re.findall(error, out, re.MULTILINE)
    assert out.count("did you mean 'effect'?") == 1 and "FAIL" not in out


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


POLICY = """\
version: 1
resource: stage
rules:
  - name: admins
    effect: allow
    when:
      header.x-role: admin
      any:
        - query.debug: {exists: false}
        - source_ip: {cidr: 10.0.0.0/8}
    principal: {from: header.x-user}
    context: {level: 9}
  - name: guests
    effect: deny
    when:
      header.x-role: guest
"""


@pytest.fixture
def project(tmp_path):
    write(tmp_path / "policy.yaml", POLICY)
    return tmp_path


def test_compact_requests_expand_per_kind_and_merge_defaults(project):
    suite = write(
        project / "suite.yaml",
        """\
policy: policy.yaml
defaults:
  kind: [rest, http-v2]
  request:
    headers: {x-role: admin, x-user: ann}
    query: {debug: "1"}
cases:
  - name: admin
    request: {query: {debug: null}, path: /things/1}
    expect: {effect: allow, rule: admins}
  - name: token only
    kind: token
    request: {token: abc}
    expect: {effect: unauthorized}
""",
    )
    loaded = load_suite(suite)
    assert loaded.problems == []
    assert [c.name for c in loaded.cases] == ["admin [rest]", "admin [http-v2]", "token only"]
    rest, http, token = (c.event for c in loaded.cases)
    assert rest["multiValueHeaders"] == {"x-role": ["admin"], "x-user": ["ann"]}
    assert rest["queryStringParameters"] == {} and rest["path"] == "/things/1"
    assert http["version"] == "2.0" and http["headers"] == {"x-role": "admin", "x-user": "ann"}
    assert token == {"type": "TOKEN", "authorizationToken": "abc", "methodArn": token["methodArn"]}


def test_results_diff_and_why_and_junit(capsys, project):
    suite = write(
        project / "suite.yaml",
        """\
policy: policy.yaml
cases:
  - name: passes
    request: {headers: {x-role: admin, x-user: ann}}
    expect: {effect: allow, rule: admins, principal: ann, context: {level: 9}}
  - name: wrong context type
    request: {headers: {x-role: admin, x-user: ann}}
    expect: {effect: allow, rule: admins, context: {level: "9"}}
  - name: debug from outside
    request: {headers: {x-role: admin, x-user: ann}, query: {debug: "1"}}
    expect: {effect: allow, rule: admins}
""",
    )
    junit = project / "out.xml"
    code, out, _ = run(capsys, str(suite), "--junit", str(junit))
    assert code == 1
    assert summary(out) == (1, 2)
    assert 'context.level: expected "9", got 9' in out
    assert "any: no alternative held:" in out
    assert re.search(r'query\.debug exists false: got "1" \(.*policy\.yaml:9:33\)', out), out
    assert re.search(r'source_ip cidr "10\.0\.0\.0/8": got "198\.51\.100\.1" \(.*policy\.yaml:10:29\)', out), out
    root = ET.parse(junit).getroot()
    suite_element = root.find("testsuite")
    assert suite_element is not None
    assert (suite_element.get("tests"), suite_element.get("failures")) == ("3", "2")
    failures = [c for c in suite_element.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failures] == ["wrong context type", "debug from outside"]


def test_a_case_expecting_allow_without_a_rule_is_a_warning(capsys, project):
    suite = write(
        project / "suite.yaml",
        "policy: policy.yaml\ncases:\n  - name: vague\n    request: {headers: {x-role: admin, x-user: a}}\n"
        "    expect: {effect: allow}\n",
    )
    code, out, _ = run(capsys, str(suite))
    assert code == 0
    assert "warning: case 'vague' expects allow but names no rule" in out
    assert summary(out) == (1, 0)


def test_coverage_names_what_no_case_exercised_and_gates_on_the_minimum(capsys, project):
    write(project / "untested.yaml", "version: 1\nrules:\n  - name: x\n    effect: allow\n")
    tests = project / "tests"
    tests.mkdir()
    write(
        tests / "suite.yaml",
        "policy: ../policy.yaml\ncases:\n  - name: admin\n    request: {headers: {x-role: admin, x-user: a}}\n"
        "    expect: {effect: allow, rule: admins}\n",
    )
    code, out, _ = run(capsys, str(project), "--coverage")
    assert code == 0
    # rules: admins decided, guests not (1/2); conditions: x-role and debug-absent true, the cidr
    # alternative of `any` false (evaluated too), guests' x-role never reached (3/8)
    assert "policy.yaml: 40.0% (rules decided 1/2, condition sides 3/8, 1 cases)" in out
    assert re.search(r"policy\.yaml:13:5: rule 'guests' decided no case", out)
    assert re.search(r"policy\.yaml:10:29: rule 'admins': source_ip cidr never seen true\n", out)
    assert re.search(r"policy\.yaml:16:22: rule 'guests': header.x-role equals never seen true or false", out)
    assert "untested.yaml: 0.0% (no case tests this policy)" in out
    assert re.search(r"untested\.yaml:1:1: warning: no test case names this policy\n", out)
    code, out, _ = run(capsys, str(project), "--min-coverage", "25")
    assert code == 1
    assert "coverage of untested.yaml is 0.0%, below --min-coverage 25" in out.replace(str(project) + "/", "")
    assert summary(out) == (1, 0)


def test_suite_problems_are_located_failures(capsys, project):
    tests = project / "tests"
    tests.mkdir()
    write(
        tests / "bad.yaml",
        """\
policy: ../policy.yaml
cases:
  - name: both
    event: e.json
    request: {path: /}
    expect: {effect: deny}
  - name: typo
    kind: http-v3
    expect: {effect: deny}
  - name: elsewhere
    policy: ../nope.yaml
    expect: {effect: deny}
""",
    )
    write(tests / "broken.yaml", "cases: [")
    code, out, _ = run(capsys, str(project))
    assert code == 1
    assert "bad.yaml:8:11: 'http-v3' is not allowed here" in out and "did you mean 'http-v2'?" in out
    assert "broken.yaml:2:1: YAML syntax error" in out
    assert summary(out) == (0, 2)
    write(
        tests / "bad.yaml",
        "policy: ../policy.yaml\ncases:\n"
        + "\n".join(
            [
                "  - name: both\n    event: e.json\n    request: {path: /}\n    expect: {effect: deny}",
                "  - name: elsewhere\n    policy: ../nope.yaml\n    expect: {effect: deny}",
                "  - name: both\n    event: missing.json\n    expect: {effect: deny}",
            ]
        )
        + "\n",
    )
    (tests / "broken.yaml").unlink()
    code, out, _ = run(capsys, str(project))
    assert code == 1
    assert "bad.yaml:4:12: give either `event` (a file) or `request` and `kind`, not both" in out
    assert "bad.yaml:8:13: policy file '../nope.yaml' not found" in out
    assert "bad.yaml:10:11: duplicate case name 'both' (first at line 3)" in out
    assert "bad.yaml:11:12: cannot read event 'missing.json'" in out
    assert summary(out) == (0, 4)


def test_secrets_come_from_the_suite_not_the_environment(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("OPS_API_KEY", "from-the-environment")
    write(tmp_path / "p.yaml", (POLICIES / "api-keys.yaml").read_text())
    suite = write(
        tmp_path / "s.yaml",
        """\
policy: p.yaml
secrets: {ops_key: from-the-suite}
defaults:
  request: {source_ip: 10.0.0.1}
cases:
  - name: suite value
    request: {headers: {x-api-key: from-the-suite}}
    expect: {effect: allow, rule: operators}
  - name: environment value
    request: {headers: {x-api-key: from-the-environment}}
    expect: {effect: unauthorized}
""",
    )
    code, out, _ = run(capsys, str(suite))
    assert code == 0 and summary(out) == (2, 0)


def test_usage_errors_exit_2(capsys, tmp_path):
    assert run(capsys, str(tmp_path / "nope"))[0] == 2
    write(tmp_path / "policy.yaml", POLICY)
    code, _, err = run(capsys, str(tmp_path))
    assert code == 2 and "no test suites" in err


@pytest.mark.parametrize(
    "expected,actual,equal",
    [
        (123, "123", False),
        (True, 1, False),
        (1, 1.0, True),
        ({"a": [1, True]}, {"a": [1, True]}, True),
        ({"a": [1, True]}, {"a": [1, 1]}, False),
        (None, None, True),
        ([], {}, False),
    ],
)
def test_comparison_is_type_strict(expected, actual, equal):
    assert same(expected, actual) is equal


def test_differences_name_each_leaf():
    assert differences({"a": 1, "b": 2}, {"a": 1, "c": 3}, "context") == [
        "context.b: expected 2, missing",
        "context.c: not expected, got 3",
    ]
    assert differences(["x", "y"], ["y", "z"], "resources") == [
        'resources: expected ["x", "y"], got ["y", "z"]',
        '  missing: "x"',
        '  not expected: "z"',
    ]
    assert compare({"reason": "no rule"}, {"reason": "no rule matched"}) == []
    assert compare({"rule": None}, {"rule": "r"}) == ['rule: expected null, got "r"']
