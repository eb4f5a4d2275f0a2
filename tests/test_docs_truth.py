"""Docs that state facts the code decides must say what the code does: which comparisons take
constant time on secret-bearing sources (docs/policy-language.md) follows the operators table."""

from __future__ import annotations

import re
from pathlib import Path

from authorizer.policy.operators import OPERATORS

DOC = Path(__file__).resolve().parent.parent / "docs" / "policy-language.md"
SAYS = {  # what a row says, for each constant_time value of the table
    "on secret-bearing sources": "constant time",
    "yes": "always: constant time",
    "digest lookup on secret-bearing sources": "looked up in a set",
    "no": "not constant time",
}


def test_the_constant_time_table_follows_the_operators() -> None:
    text = DOC.read_text()
    table = text[text.index("| operator | on a secret-bearing source |") :].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    for name, operator in OPERATORS.items():
        row = next((r for r in rows if re.search(rf"`{name}`", r.split("|")[1])), None)
        assert row is not None, f"the table has no row for {name}"
        said = row.split("|")[2]
        assert SAYS[operator.constant_time] in said, (name, operator.constant_time, said)
        if operator.constant_time != "no":
            assert "not constant time" not in said, (name, said)
