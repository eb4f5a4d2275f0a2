"""Cold start: the packaged function against the same job written by hand, from the same folder.

`make package`'s build (deploy/package.py, for this interpreter's Python) is made in a temporary
folder with `policies/example.yaml` as its policy, and `hand_written_powertools.py` (the example by
hand with a Powertools Logger and Metrics) is copied beside it. Each variant is a fresh interpreter
(`python -S`, the folder alone on `sys.path`, as Lambda's task root; every module from the bytecode
the build compiled ahead; AWS_LAMBDA_FUNCTION_NAME set, so the authorizer boots at import as on
Lambda) that imports its handler and answers one event, decision line and metric included (the
default configuration). Figures are the whole process's CPU time (user + system, interpreter
start-up included: what an INIT phase pays) and its peak RSS, medians of interleaved rounds.

- authorizer: `authorizer.handler`, the policy with its validated-data cache (as packaged);
- hand-written Powertools: `hand_written_powertools`;
- bare interpreter: `import json`, for scale;
- authorizer + pydantic-settings: the authorizer, after importing pydantic-settings (what reading
  settings with it would add: the README's reason for not doing so);
- authorizer, no policy cache: a copy of the policy without its cache (YAML + pydantic + compile).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import hand_written_powertools
from benchmarks.events import POLICIES, SECRETS

REPO = Path(__file__).resolve().parent.parent
TARGET_RATIO, TARGET_RSS_MIB = 1.1, 20.0
EVENT = POLICIES / "events" / "example" / "rest-allowed.json"
_ANSWER = (
    "import json\nfrom {module} import lambda_handler\n"
    "try:\n    lambda_handler(json.loads({event!r}), None)\nexcept Exception:\n    pass\n"
)


def build(folder: Path) -> None:
    """`make package`'s build of the example policy into `folder`, and the hand-written function beside it."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    command = [sys.executable, str(REPO / "deploy" / "package.py"), "--stage", "dev", "--python-version", version]
    command += ["--policy", str(POLICIES / "example.yaml"), "--output-dir", str(folder)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    shutil.copy(hand_written_powertools.__file__, folder / "hand_written_powertools.py")


def _package_environment(folder: Path, policy: Path, extra_path: str = "") -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(folder) + (os.pathsep + extra_path if extra_path else ""),
        "AUTHORIZER_POLICY": str(policy),
        "AWS_LAMBDA_FUNCTION_NAME": "cold-start-benchmark",
        "POWERTOOLS_SERVICE_NAME": "authorizer",
        **SECRETS,
    }


_PEAK = (
    "\nimport sys\nwith open('/proc/self/status') as status:\n"
    "    sys.stderr.write(next(l for l in status if l.startswith('VmHWM:')))\n"
)  # the child's own high-water mark: the rusage of a forked child starts from its parent's


def _measure(code: str, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(CPU ms, peak RSS MiB) of one fresh interpreter running `code`."""
    child = subprocess.Popen(
        [sys.executable, "-S", "-c", code + _PEAK], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    errors = child.stderr.read().decode() if child.stderr is not None else ""
    if status != 0 or not errors.startswith("VmHWM:"):
        raise SystemExit(f"cold-start variant failed: {errors[-2000:]}")
    return (usage.ru_utime + usage.ru_stime) * 1000, int(errors.split()[1]) / 1024


def cold_starts(rounds: int) -> dict[str, Any]:
    event = EVENT.read_text()
    with tempfile.TemporaryDirectory(prefix="authorizer-cold-") as scratch:
        folder = Path(scratch) / "package"
        build(folder)
        packaged = folder / "policy.yaml"
        site_packages = sysconfig.get_paths()["purelib"]  # where pydantic-settings is (not in the package)
        variants: dict[str, tuple[str, dict[str, str] | None]] = {
            "authorizer": (
                _ANSWER.format(module="authorizer.handler", event=event),
                _package_environment(folder, packaged),
            ),
            "hand-written Powertools": (
                _ANSWER.format(module="hand_written_powertools", event=event),
                _package_environment(folder, packaged),
            ),
            "bare interpreter": ("import json\n", _package_environment(folder, packaged)),
            "authorizer + pydantic-settings": (
                "import pydantic_settings\n" + _ANSWER.format(module="authorizer.handler", event=event),
                _package_environment(folder, packaged, site_packages),
            ),
            "authorizer, no policy cache": (_ANSWER.format(module="authorizer.handler", event=event), None),
        }
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        order = list(variants)
        for round_number in range(rounds + 1):  # the first round warms the disk cache, and is dropped
            random.shuffle(order)
            for name in order:
                code, env = variants[name]
                if env is None:  # a fresh copy each time: no cache beside it
                    fresh = Path(scratch) / f"fresh-{round_number}"
                    fresh.mkdir()
                    env = _package_environment(
                        folder, Path(shutil.copy(POLICIES / "example.yaml", fresh / "policy.yaml"))
                    )
                sample = _measure(code, env, folder)
                if round_number:
                    samples[name].append(sample)
        imports = heaviest_imports(folder, _package_environment(folder, packaged), event)
    cpu = {name: statistics.median(s[0] for s in values) for name, values in samples.items()}
    rss = {name: statistics.median(s[1] for s in values) for name, values in samples.items()}
    ratios = [a[0] / b[0] for a, b in zip(samples["authorizer"], samples["hand-written Powertools"], strict=True)]
    return {
        "rounds": rounds,
        "cpu_ms": cpu,
        "peak_rss_mib": rss,
        "ratio_vs_hand_written": statistics.median(ratios),
        "pydantic_settings_adds": {
            "cpu_ms": cpu["authorizer + pydantic-settings"] - cpu["authorizer"],
            "rss_mib": rss["authorizer + pydantic-settings"] - rss["authorizer"],
        },
        "target_ratio": TARGET_RATIO,
        "target_rss_mib": TARGET_RSS_MIB,
        "heaviest_imports_ms": imports,
    }


def heaviest_imports(folder: Path, env: dict[str, str], event: str, top: int = 8) -> dict[str, float]:
    """`python -X importtime` of the authorizer's cold start: ms per top-level package (the self time
    of its modules), leaving out what the hand-written function imports too."""
    ours = _import_times(_ANSWER.format(module="authorizer.handler", event=event), env, folder)
    theirs = _import_times(_ANSWER.format(module="hand_written_powertools", event=event), env, folder)
    extra = {name: ms for name, ms in ours.items() if name not in theirs}
    return dict(sorted(extra.items(), key=lambda item: -item[1])[:top])


def _import_times(code: str, env: dict[str, str], folder: Path | None = None) -> dict[str, float]:
    """ms of `python -X importtime` per package (per module for ours); from `folder` alone when given."""
    isolated = ["-S"] if folder is not None else []
    out = subprocess.run(
        [sys.executable, *isolated, "-X", "importtime", "-c", code], env=env, cwd=folder, capture_output=True, text=True
    )
    totals: dict[str, float] = {}
    for line in out.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|(\s*)(\S+)", line)
        if match:
            name = match.group(3)
            key = name if name.startswith("authorizer") else name.split(".")[0]
            totals[key] = totals.get(key, 0.0) + int(match.group(1)) / 1000
    return totals


# -- in the virtualenv: the tokens and claims benchmarks compare variants of the authorizer itself ---
_CLOCK = "import json, time\nt0 = time.process_time()\n"
AUTHORIZER = (
    _CLOCK
    + "from authorizer.handler import lambda_handler\n"
    + "try:\n    lambda_handler(json.loads(EVENT), None)\nexcept Exception:\n    pass\n"
    + "print((time.process_time() - t0) * 1000)\n"
)
_PYCACHE = tempfile.mkdtemp(prefix="authorizer-bench-pycache-")


def _environment(policy: Path, **extra: str) -> dict[str, str]:
    """A clean environment in this virtualenv; every module loads from bytecode (a private pycache
    filled by a first run), as from a packaged function."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHORIZER_", "POWERTOOLS_", "AWS_LAMBDA"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(AUTHORIZER_POLICY=str(policy), POWERTOOLS_LOG_LEVEL="WARNING", PYTHONPYCACHEPREFIX=_PYCACHE, **extra)
    return env


def _run(code: str, env: dict[str, str]) -> float:
    """CPU ms from the child's first statement (the interpreter's start-up left out)."""
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])
