"""Resident memory of a fresh interpreter: after a cold start and 10,000 decisions, and (with
`--long`) sampled across 1,000,000 decisions to show that nothing grows.

The decisions cycle through the example's events with a different request path each time (100,000
distinct method ARNs) and one of 1,000 extra header names, so the bounded caches (parsed ARNs,
header-name folding plans) are filled past their bounds and keep evicting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from benchmarks.events import POLICIES, realistic_events

RSS_TARGET_MIB = 60.0
SAMPLES = 10

_CHILD = """
import json, sys
from authorizer.handler import lambda_handler

def rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

events = json.loads(sys.stdin.read())
total, every = int(sys.argv[1]), int(sys.argv[2])
samples = [("cold start", 0, rss_mib())]
for i in range(total):
    event = events[i % len(events)]
    arn = event["methodArn"]
    event["methodArn"] = arn[: arn.rindex("/") + 1] + str(i % 100_000)
    tag = "X-Tag-" + str(i % 1000)  # 1,000 different sets of header names
    event["headers"][tag] = str(i)
    try:
        lambda_handler(event, None)
    except Exception:
        pass
    event["methodArn"] = arn
    del event["headers"][tag]
    if (i + 1) % every == 0:
        samples.append(("decisions", i + 1, rss_mib()))
print(json.dumps(samples))
"""


def measure(decisions: int) -> dict[str, Any]:
    events = [  # a request path to vary: not WebSocket's `$connect`, whose ARN has none
        e
        for e in realistic_events("example")
        if "methodArn" in e and isinstance(e.get("headers"), dict) and not e["methodArn"].endswith("$connect")
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHORIZER_", "POWERTOOLS_", "AWS_LAMBDA"))}
    env.update(
        AUTHORIZER_POLICY=str(POLICIES / "example.yaml"), AUTHORIZER_METRICS="false", POWERTOOLS_LOG_LEVEL="WARNING"
    )
    every = max(1, decisions // SAMPLES)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(decisions), str(every)],
        input=json.dumps(events),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    samples = [(label, count, mib) for label, count, mib in json.loads(out.stdout.splitlines()[-1])]  # after any log
    after_first = samples[1][2]
    return {
        "decisions": decisions,
        "rss_mib": [{"after": count, "mib": round(mib, 2)} for _, count, mib in samples],
        "cold_start_mib": samples[0][2],
        "final_mib": samples[-1][2],
        "growth_after_first_sample_mib": samples[-1][2] - after_first,
        "target_mib": RSS_TARGET_MIB,
    }
