"""`authorizer demo`: the shipped sample events as a table; reasons shortened between words, secret-bearing
principals redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authorizer.cli.demo_cmd import shortened
from authorizer.cli.main import main
from tests.conftest import POLICIES

POLICY = """\
version: 1
rules:
  - name: named-by-a-header-that-is-not-sent
    effect: allow
    when: {header.x-role: admin}
    principal: {from: header.x-user}
  - name: keyed
    effect: allow
    when: {header.x-role: partner}
    principal: {from: header.x-api-key}
"""


def test_the_shipped_events_are_decided(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", str(POLICIES)]) == 0
    out = capsys.readouterr().out
    assert "example/rest-allowed.json" in out and "200 OK" in out and "(no rule matched)" in out
    assert not [line for line in out.splitlines() if line != line.rstrip()], "no trailing blanks"


def test_long_reasons_are_cut_between_words_and_principals_from_secret_sources_redacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from authorizer.event.builder import RequestSpec

    (tmp_path / "p.yaml").write_text(POLICY)
    events = tmp_path / "events" / "p"
    events.mkdir(parents=True)
    missing_user = RequestSpec(headers={"x-role": "admin"}).to_event("rest")
    (events / "a.json").write_text(json.dumps(missing_user))
    keyed = RequestSpec(headers={"x-role": "partner", "x-api-key": "K3Y-not-for-tables"}).to_event("rest")
    (events / "b.json").write_text(json.dumps(keyed))
    assert main(["demo", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    reason = "rule 'named-by-a-header-that-is-not-sent' matched but output source header.x-user is missing or ambiguous"
    cell = out.split("(", 1)[1].split(")", 1)[0]
    assert cell.endswith("…") and len(cell) <= 40
    assert reason.startswith(cell[:-1]) and reason[len(cell) - 1] == " ", f"cut mid-word: {cell!r}"
    assert "K3Y-not-for-tables" not in out and "<redacted>" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no rule matched", "no rule matched"),
        ("a" * 40, "a" * 40),
        ("bad event: " + "x" * 60, "bad event…"),
        ("x" * 60, "x" * 39 + "…"),  # one word longer than the column: cut it, marked
        ("response rejected: context value too large for the kind", "response rejected: context value too…"),
    ],
)
def test_shortened(text: str, expected: str) -> None:
    assert shortened(text) == expected
