"""Expected vs actual decision, as short readable lines: one per differing leaf, type-strict
(`123` is not `"123"`, `true` is not `1`), paths written the way the suite file names them."""

from __future__ import annotations

import json
from typing import Any


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def same(a: Any, b: Any) -> bool:
    """JSON equality without Python's 1 == True == 1.0 == "1"-style surprises (1 == 1.0 is kept)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def differences(expected: Any, actual: Any, path: str) -> list[str]:
    """Lines describing how `actual` differs from `expected` at `path` (empty when equal)."""
    if same(expected, actual):
        return []
    if isinstance(expected, dict) and isinstance(actual, dict):
        lines = []
        for key in expected:
            if key not in actual:
                lines.append(f"{path}.{key}: expected {_show(expected[key])}, missing")
            else:
                lines += differences(expected[key], actual[key], f"{path}.{key}")
        lines += [f"{path}.{key}: not expected, got {_show(actual[key])}" for key in actual if key not in expected]
        return lines
    if isinstance(expected, list) and isinstance(actual, list):
        lines = [f"{path}: expected {_show(expected)}, got {_show(actual)}"]
        lines += [f"  missing: {_show(x)}" for x in expected if not any(same(x, y) for y in actual)]
        lines += [f"  not expected: {_show(y)}" for y in actual if not any(same(x, y) for x in expected)]
        return lines
    return [f"{path}: expected {_show(expected)}, got {_show(actual)}"]


def compare(expect: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Every key the case wrote under `expect`; `reason` is matched as a substring."""
    lines: list[str] = []
    for key, want in expect.items():
        got = actual.get(key)
        if key == "reason":
            if not isinstance(got, str) or want not in got:
                lines.append(f"reason: expected to contain {_show(want)}, got {_show(got)}")
            continue
        lines += differences(want, got, key)
    return lines
