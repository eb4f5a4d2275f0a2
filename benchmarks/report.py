"""Printing the figures: markdown tables (pasteable into BENCHMARKS.md) and the machine they came from."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    python = f"{platform.python_implementation()} {platform.python_version()}"
    cores = os.cpu_count()
    return {
        "cpu": cpu,
        "cores": cores,
        "python": python,
        "platform": platform.platform(),
        "load_average_at_start": load,
        "summary": f"{cpu}, {cores} cores, {python}, {platform.system()}, load {load[0]:.1f} at start",
        "executable": sys.executable,
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def table(header: list[str], rows: list[list[Any]]) -> None:
    cells = [header] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print(
            "| "
            + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
            + " |"
        )
        if n == 0:
            print("|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|")
    print()
