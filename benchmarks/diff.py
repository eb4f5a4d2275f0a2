"""`authorizer diff` per shipped policy against a mutated copy: the whole comparison (analysis,
generated requests, the policy's suites and events as corpus, grouping, explained examples), in
CPU seconds, median of a few runs (and the first run, which pays the imports). Target: under 2 s each."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

TARGET_S = 2.0
POLICIES = Path(__file__).resolve().parent.parent / "policies"
# one edit per shipped policy, the kind a pull request makes
MUTATIONS = {
    "api-keys": ("narrowed CIDR", ("198.51.100.0/24", "198.51.100.0/25")),
    "example": ("changed context value", ("numberKey: 123", "numberKey: 124")),
    "http-routes": ("widened regex length", ("{1,31}", "{1,63}")),
    "websocket-chat": (
        "a new origin",
        ("https://www.example.com]", "https://www.example.com, https://beta.example.com]"),
    ),
}


def _once(path: Path, edit: tuple[str, str]) -> tuple[float, int, int]:
    from authorizer.diff.compare import compare
    from authorizer.diff.corpus import collect
    from authorizer.diff.versions import load_version

    started = time.thread_time()
    old = load_version(str(path), path.read_bytes())
    new = load_version("mutated.yaml", path.read_text().replace(*edit).encode())
    diff = compare(old, new, collect(path, []))
    return time.thread_time() - started, diff.requests, len(diff.groups)


def per_policy(rounds: int) -> list[dict[str, Any]]:
    rows = []
    for name, (label, edit) in MUTATIONS.items():
        path = POLICIES / f"{name}.yaml"
        runs = [_once(path, edit) for _ in range(rounds)]
        seconds = statistics.median(r[0] for r in runs)
        rows.append(
            {
                "policy": name,
                "edit": label,
                "first_run_seconds": round(runs[0][0], 3),  # includes the imports a CLI run pays once
                "requests": runs[0][1],
                "groups": runs[0][2],
                "seconds": round(seconds, 3),
                "target_s": TARGET_S,
                "ok": seconds < TARGET_S and runs[0][2] > 0,
            }
        )
    return rows
