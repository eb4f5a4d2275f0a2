"""The report of `authorizer diff` as text (terminals, CI logs), JSON (machines), JUnit XML (CI test
reports) and Markdown (a pull-request comment). All are rendered from the same `Verdict`, whose
examples are already redacted: no format sees a secret-bearing value."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

from authorizer.diff.changes import GROUPS, Group, Side
from authorizer.diff.compare import PolicyDiff
from authorizer.diff.verdict import Verdict


def _side(side: Side) -> str:
    if side.rule is None:
        return f"{side.status} ({side.reason})"
    return f"{side.status} by rule {side.rule!r} ({side.at})"


def _rules(group: Group) -> str:
    return f"{group.before_rule or 'no rule'} → {group.after_rule or 'no rule'}"


def _values(group: Group) -> str:
    shown = " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in group.example.values.items())
    return f"{group.example.kind} {group.example.route}" + (f" {shown}" if shown else "")


def _headline(diff: PolicyDiff) -> str:
    if diff.status in ("added", "removed"):
        return f"{diff.name}: policy {diff.status} (no other version to compare)"
    search = "every class combination" if diff.exhaustive else "searched, not exhaustive"
    changes = sum(g.count for g in diff.groups)
    what = "no change" if not diff.groups else f"{changes} request{'s' * (changes != 1)} changed"
    return f"{diff.name}: {what} ({diff.requests} requests decided, {search})"


def text(verdict: Verdict) -> str:
    lines: list[str] = []
    for diff in verdict.diffs:
        lines.append(_headline(diff))
        for group in diff.groups:
            mark = " (expected)" if group.expected else ""
            lines.append(
                f"  {group.title.upper()}{mark}: {group.count} request{'s' * (group.count != 1)}, {_rules(group)}"
            )
            lines.append(f"    example: {_values(group)} [{group.example.origin}]")
            lines.append(f"    before:  {_side(group.before)}")
            lines.append(f"    after:   {_side(group.after)}")
            lines += [f"    differs: {line}" for line in group.differs]
        lines += [f"  not proven: {u.condition} ({u.at}): {u.reason}" for u in diff.unproven]
    lines += [f"expected change did not happen: {e.describe()}" for e in verdict.unmet]
    failing = sum(len(verdict.failing(d)) for d in verdict.diffs) + len(verdict.unmet)
    lines.append(
        f"{len(verdict.diffs)} polic{'ies' if len(verdict.diffs) != 1 else 'y'} compared: "
        f"{failing} failing (--fail-on {verdict.fail_on}{', --strict' if verdict.strict else ''})"
    )
    return "\n".join(lines)


def as_json(verdict: Verdict) -> str:
    return json.dumps(verdict.as_dict(), indent=2, ensure_ascii=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(verdict: Verdict) -> str:
    out = ["## Authorizer policy diff", ""]
    header = ["policy", *GROUPS.values(), "requests", "verdict"]
    out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for diff in verdict.diffs:
        counts = [str(sum(g.count for g in diff.groups if g.group == name) or "") for name in GROUPS]
        status = "❌ fails" if verdict.failing(diff) else "✅"
        name = f"`{diff.name}`" + (f" ({diff.status})" if diff.status in ("added", "removed") else "")
        out.append("| " + " | ".join([name, *counts, str(diff.requests), status]) + " |")
    for diff in verdict.diffs:
        if not diff.groups and not diff.unproven:
            continue
        out += ["", f"### `{diff.name}`", ""]
        for group in diff.groups:
            flag = "expected" if group.expected else "❌" if verdict.counts(group.group) else "ℹ️"
            out.append(f"**{group.title}** ({flag}): {group.count} requests, `{_cell(_rules(group))}`")
            out.append(f"- before: {_cell(_side(group.before))}")
            out.append(f"- after: {_cell(_side(group.after))}")
            out += [f"- differs: `{_cell(line)}`" for line in group.differs]
            example = json.dumps(group.example.as_dict(), indent=2, ensure_ascii=False)
            out += ["", "<details><summary>example request</summary>", "", "```json", example, "```", "</details>", ""]
        if diff.unproven:
            out += ["", "Not proven (searched by sampling and the corpus only):", ""]
            out += [f"- `{_cell(u.condition)}` ({u.at}): {_cell(u.reason)}" for u in diff.unproven]
    if verdict.unmet:
        out += ["", "**Expected changes that did not happen:**", ""]
        out += [f"- {_cell(e.describe())}" for e in verdict.unmet]
    out += [
        "",
        f"Exit code {verdict.exit_code} (`--fail-on {verdict.fail_on}`{', --strict' if verdict.strict else ''}).",
    ]
    return "\n".join(out) + "\n"


def junit(verdict: Verdict) -> str:
    root = ET.Element("testsuites", name="authorizer diff")
    for diff in verdict.diffs:
        failing = verdict.failing(diff)
        suite = ET.SubElement(root, "testsuite", name=diff.name, failures=str(len(failing)))
        cases = 0
        for group in diff.groups:
            case = ET.SubElement(suite, "testcase", classname=diff.name, name=f"{group.title}: {_rules(group)}")
            cases += 1
            if not group.expected and verdict.counts(group.group):
                failure = ET.SubElement(case, "failure", message=f"{group.count} requests {group.title}")
                failure.text = "\n".join([f"example: {_values(group)}", *group.differs])
        for unproven in diff.unproven:
            case = ET.SubElement(suite, "testcase", classname=diff.name, name=f"proven: {unproven.condition}")
            cases += 1
            kind = "failure" if verdict.strict else "skipped"
            ET.SubElement(case, kind, message=f"{unproven.at}: {unproven.reason}")
        if diff.status in ("added", "removed"):
            case = ET.SubElement(suite, "testcase", classname=diff.name, name=f"policy {diff.status}")
            cases += 1
            if f"policy {diff.status}" in failing:
                ET.SubElement(case, "failure", message=f"policy {diff.status}")
        if not cases:
            ET.SubElement(suite, "testcase", classname=diff.name, name="no change")
            cases = 1
        suite.set("tests", str(cases))
    if verdict.unmet:
        suite = ET.SubElement(root, "testsuite", name="expected changes", tests=str(len(verdict.unmet)))
        suite.set("failures", str(len(verdict.unmet)))
        for expected in verdict.unmet:
            case = ET.SubElement(suite, "testcase", classname="expected changes", name=expected.describe())
            ET.SubElement(case, "failure", message="expected change did not happen")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


FORMATS: dict[str, Callable[[Verdict], str]] = {"text": text, "json": as_json, "junit": junit, "markdown": markdown}
