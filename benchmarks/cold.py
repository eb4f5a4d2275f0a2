"""Cold start: fresh interpreters, CPU time from their first statement (the interpreter's own start-up
is the same for everyone and is left out). `json` is imported before the clock starts on both sides:
the Lambda runtime has already imported it to parse the event.

- authorizer: import `authorizer.handler`, load `policies/example.yaml` (a copy, so the validated-
  data cache beside it is under control: warm = the cache is there, as when it is packaged; none =
  fresh copy, so YAML + pydantic validation + compile run, and the cache is written), decide one event;
- stack: import pydantic-settings, jmespath, PyYAML and a Powertools Logger, `yaml.safe_load` the file.
Every module is loaded from bytecode, as from a package built by `make package`.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.events import POLICIES

TARGET, GOAL = 1.0, 0.6
_CLOCK = "import json, time\nt0 = time.process_time()\n"
_REPORT = "print((time.process_time() - t0) * 1000)\n"

AUTHORIZER = (
    _CLOCK
    + "from authorizer.handler import lambda_handler\n"
    + "try:\n    lambda_handler(json.loads(EVENT), None)\nexcept Exception:\n    pass\n"
    + _REPORT
)
STACK = (
    _CLOCK
    + "import pydantic_settings, jmespath, yaml\nfrom aws_lambda_powertools import Logger\n"
    + "Logger(service='authorizer')\nwith open(POLICY, 'rb') as f:\n    yaml.safe_load(f)\n"
    + _REPORT
)


def _run(code: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


_PYCACHE = tempfile.mkdtemp(prefix="authorizer-bench-pycache-")


def _environment(policy: Path, **extra: str) -> dict[str, str]:
    """A clean environment; every module, ours and the stack's, loads from bytecode (a private pycache
    filled by the first run), as from a packaged function (`make package` compiles ahead)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHORIZER_", "POWERTOOLS_", "AWS_LAMBDA"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(AUTHORIZER_POLICY=str(policy), POWERTOOLS_LOG_LEVEL="WARNING", PYTHONPYCACHEPREFIX=_PYCACHE, **extra)
    return env


def cold_starts(rounds: int) -> dict[str, Any]:
    event = (POLICIES / "events" / "example" / "rest-allowed.json").read_text()
    source = POLICIES / "example.yaml"
    with tempfile.TemporaryDirectory(prefix="authorizer-cold-") as folder:
        warm_dir = Path(folder) / "warm"
        warm_dir.mkdir()
        warm_policy = warm_dir / "example.yaml"
        shutil.copy(source, warm_policy)
        variants = {
            "authorizer, warm cache": (AUTHORIZER, _environment(warm_policy, AUTHORIZER_METRICS="false")),
            "authorizer, warm cache, metrics on": (AUTHORIZER, _environment(warm_policy, AUTHORIZER_METRICS="true")),
            "authorizer, no cache": (AUTHORIZER, None),
            "stack": (STACK, _environment(source)),
        }
        for code, env in variants.values():  # fill the policy cache and the bytecode cache
            prefix = f"EVENT = {event!r}\n" if code is AUTHORIZER else f"POLICY = {str(source)!r}\n"
            _run(prefix + code, env or _environment(warm_policy, AUTHORIZER_METRICS="true"))
        times: dict[str, list[float]] = {name: [] for name in variants}
        order = list(variants)
        for round_number in range(rounds):
            random.shuffle(order)
            for name in order:
                code, env = variants[name]
                if env is None:  # a fresh copy each time: no cache beside it
                    fresh = Path(folder) / f"fresh-{round_number}"
                    fresh.mkdir()
                    shutil.copy(source, fresh / "example.yaml")
                    env = _environment(fresh / "example.yaml", AUTHORIZER_METRICS="false")
                prefix = f"EVENT = {event!r}\n" if code is AUTHORIZER else f"POLICY = {str(source)!r}\n"
                times[name].append(_run(prefix + code, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    stack = medians["stack"]
    return {
        "rounds": rounds,
        "ms": medians,
        "ratio_vs_stack": {name: value / stack for name, value in medians.items() if name != "stack"},
        "target": TARGET,
        "goal": GOAL,
        "heaviest_imports_ms": heaviest_imports(),
    }


def heaviest_imports(top: int = 8) -> dict[str, float]:
    """`python -X importtime` of a cold start (warm cache): ms per top-level package (the self time of
    all its modules), leaving out what a bare interpreter imports anyway."""
    env = _environment(POLICIES / "example.yaml", AUTHORIZER_METRICS="false")
    event = (POLICIES / "events" / "example" / "rest-allowed.json").read_text()
    bare = _import_times("pass", env)
    ours = _import_times(f"EVENT = {event!r}\n" + AUTHORIZER, env)
    extra = {name: ms for name, ms in ours.items() if name not in bare}
    return dict(sorted(extra.items(), key=lambda item: -item[1])[:top])


def _import_times(code: str, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True)
    totals: dict[str, float] = {}
    for line in out.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            package = match.group(2).split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(match.group(1)) / 1000
    return totals
