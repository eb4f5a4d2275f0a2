"""JUnit XML for CI systems (GitHub, GitLab, Jenkins read it): one <testsuite> per suite file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from authorizer.files import write_bytes
from authorizer.policy.errors import Problem
from authorizer.testing.runner import CaseResult, PolicyUnderTest


def junit_xml(
    results: list[CaseResult], broken: list[Problem], unloadable: list[PolicyUnderTest]
) -> ET.ElementTree[ET.Element]:
    """Results grouped by suite file; problems that stopped cases from running become errors: one per
    problem of a suite, one per policy that does not load (all its problems in it)."""
    root = ET.Element("testsuites", name="authorizer test")
    by_suite: dict[str, list[CaseResult]] = {}
    for result in results:
        by_suite.setdefault(result.case.suite, []).append(result)
    problems_by_file: dict[str, list[Problem]] = {}
    for problem in broken:
        problems_by_file.setdefault(problem.file, []).append(problem)
    for suite in dict.fromkeys([*by_suite, *problems_by_file]):
        cases = by_suite.get(suite, [])
        problems = problems_by_file.get(suite, [])
        element = ET.SubElement(
            root,
            "testsuite",
            name=suite,
            tests=str(len(cases) + len(problems)),
            failures=str(sum(1 for r in cases if not r.passed)),
            errors=str(len(problems)),
            time=f"{sum(r.seconds for r in cases):.6f}",
        )
        for result in cases:
            case = ET.SubElement(
                element,
                "testcase",
                classname=suite,
                name=result.case.name,
                file=suite,
                line=str(result.case.line),
                time=f"{result.seconds:.6f}",
            )
            if not result.passed:
                failure = ET.SubElement(case, "failure", message=result.differences[0])
                failure.text = "\n".join([*result.differences, *result.why])
        for problem in problems:
            case = ET.SubElement(element, "testcase", classname=suite, name=f"line {problem.line}", file=suite)
            ET.SubElement(case, "error", message=problem.message).text = str(problem)
    for policy in unloadable:
        element = ET.SubElement(root, "testsuite", name=policy.name, tests="1", failures="0", errors="1", time="0")
        case = ET.SubElement(element, "testcase", classname=policy.name, name="policy does not load", file=policy.name)
        message = (
            f"{len(policy.problems)} problem{'s' if len(policy.problems) != 1 else ''}, first: {policy.problems[0]}"
        )
        ET.SubElement(case, "error", message=message).text = "\n".join(map(str, policy.problems))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(
    path: Path, results: list[CaseResult], broken: list[Problem], unloadable: list[PolicyUnderTest]
) -> None:
    """OSError when the file cannot be written (never a wait on a FIFO nobody reads)."""
    root = junit_xml(results, broken, unloadable).getroot()
    write_bytes(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))
