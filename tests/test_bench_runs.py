"""`make bench` must keep running: a smoke run of its quicker sections (no figure is judged here;
performance is measured by `make bench` alone)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_quick_sections_run_and_write_their_figures(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"
    command = [sys.executable, "-m", "benchmarks", "--quick", "--json", str(figures)]
    for section in ("default", "memory", "validate", "test"):
        command += ["--only", section]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    written = json.loads(figures.read_text())
    assert {"default", "memory", "validate", "test"} <= set(written)
    assert written["default"]["lines_per_decision"] == {"authorizer": 1.0, "powertools": 2.0}
