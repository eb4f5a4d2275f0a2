"""`python -m benchmarks`: the benchmark suite (`make bench`). Prints tables; `--json PATH` writes
every figure. `--long` adds the 1,000,000-decision memory run; `--quick` fewer rounds (a smoke run).

Settings are fixed here, before the authorizer is imported: decision logs off
(POWERTOOLS_LOG_LEVEL=WARNING), metrics off, the secrets the shipped sample events carry.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", AUTHORIZER_METRICS="false")
for _name in list(os.environ):
    if _name.startswith("AWS_LAMBDA"):  # never boot at import as on Lambda
        del os.environ[_name]

from benchmarks.events import SECRETS  # noqa: E402

os.environ.update(SECRETS)

from benchmarks import claims, cold, diff, memory, scaling, tokens, tools, warm  # noqa: E402
from benchmarks.report import machine, table  # noqa: E402

SECTIONS = ("warm", "default", "scaling", "compile", "cold", "memory", "diff", "tokens", "claims", "validate", "test")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every figure to PATH as JSON")
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run, not figures to quote")
    parser.add_argument("--long", action="store_true", help="also 1,000,000 decisions for memory growth (minutes)")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections")
    args = parser.parse_args(argv)
    rounds = 5 if args.quick else 15
    sections = args.only or list(SECTIONS)
    results: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"), "rounds": rounds}
    print(f"# Benchmarks ({'quick' if args.quick else f'{rounds} interleaved rounds, medians'})")
    print(f"machine: {results['machine']['summary']}\n")
    failures: list[str] = []

    if "warm" in sections:
        rows = warm.policies(rounds)
        results["warm"] = rows
        print("## Warm decisions through lambda_handler (CPU µs per decision; decision logs and metrics off)\n")
        table(
            [
                "policy",
                "events",
                "n (401s)",
                "authorizer",
                "hand-written",
                "× hand",
                "naive",
                "naive × hand",
                "same guarantees by hand",
                "× that",
            ],
            [
                [
                    r["policy"],
                    r["events"],
                    f"{r['count']} ({r['raising']})",
                    r["authorizer_us"],
                    r["hand_written_us"],
                    r["ratio_vs_hand_written"],
                    r["naive_us"],
                    r["ratio_naive_vs_hand_written"],
                    r["same_guarantees_us"] or "-",
                    r["ratio_vs_same_guarantees"] or "-",
                ]
                for r in rows
            ],
        )
        example = next(r for r in rows if r["policy"] == "example" and r["events"] == "realistic headers")
        verdict = example["ratio_vs_same_guarantees"] <= warm.EXAMPLE_TARGET
        print(
            f"example policy: {example['ratio_vs_same_guarantees']:.2f}× the example by hand with the same "
            f"guarantees (target ≤ {warm.EXAMPLE_TARGET:g}×): {'ok' if verdict else 'MISSED'}; "
            f"{example['ratio_vs_hand_written']:.2f}× the literal AWS-docs port, which gives none (for information)\n"
        )
        if not verdict:
            failures.append("warm: example policy ratio")
        stages = warm.breakdown(rounds)
        results["warm_breakdown"] = stages
        print("Where the example's time goes (each stage the library's own code, cumulative; CPU µs):\n")
        table(["stage", "µs", "× hand-written"], [[s["stage"], s["us"], s["ratio_vs_hand_written"]] for s in stages])

    if "default" in sections:
        result = warm.default_path(rounds)
        results["default"] = result
        print(
            "## The default configuration (a decision line at INFO, metrics on), example policy, "
            "against the example by hand with Powertools' Logger.info and Metrics (CPU µs per decision)\n"
        )
        table(
            [
                "authorizer",
                "hand-written Powertools",
                "× that",
                "lines per decision (ours / theirs)",
                "bytes per decision (ours / theirs)",
                "decision alone",
            ],
            [
                [
                    result["authorizer_us"],
                    result["powertools_us"],
                    result["ratio"],
                    "{authorizer:g} / {powertools:g}".format(**result["lines_per_decision"]),
                    "{authorizer:.0f} / {powertools:.0f}".format(**result["bytes_per_decision"]),
                    result["silent_us"],
                ]
            ],
        )
        verdict = result["ratio"] <= warm.DEFAULT_PATH_TARGET
        print(
            f"default path ÷ hand-written Powertools: {result['ratio']:.2f}× "
            f"(target ≤ {warm.DEFAULT_PATH_TARGET:g}×): {'ok' if verdict else 'MISSED'}\n"
        )
        if not verdict:
            failures.append("default path")

    if "scaling" in sections:
        rows = scaling.decisions(max(5, rounds // 2))
        verdicts = scaling.verdicts(rows)
        results["scaling"], results["scaling_verdicts"] = rows, verdicts
        print("## Scaling with rule count (µs per decision through lambda_handler)\n")
        table(
            ["shape", "rules", "event", "index", "authorizer", "hand-written", "naive", "× hand"],
            [
                [
                    r["shape"],
                    r["rules"],
                    r["event"],
                    r["index"],
                    r["authorizer_us"],
                    r["hand_written_us"],
                    r["naive_us"] if r["naive_us"] is not None else "-",
                    r["ratio_vs_hand_written"],
                ]
                for r in rows
            ],
        )
        table(
            ["shape", "event", "1,000 rules ÷ 1 rule", "µs per added rule", "target", "verdict"],
            [
                [
                    v["shape"],
                    v["event"],
                    v.get("growth_1000_vs_1", "-"),
                    v.get("per_rule_us", "-"),
                    f"≤ {v['target_growth']:g}×" if "target_growth" in v else f"≤ {v['target_per_rule_us']:g} µs/rule",
                    "ok" if v["ok"] else "MISSED",
                ]
                for v in verdicts
            ],
        )
        failures += [f"scaling: {v['shape']} / {v['event']}" for v in verdicts if not v["ok"]]

    if "compile" in sections:
        rows = scaling.compile_times(max(3, rounds // 3))
        results["compile"] = rows
        print("## Compiling a 1,000-rule policy (ms)\n")
        table(
            ["shape", "text → policy (no cache)", "validated data → policy (warm cache)", "target", "verdict"],
            [
                [
                    r["shape"],
                    r["from_text_ms"],
                    r["from_validated_data_ms"],
                    f"≤ {r['target_ms']:g}",
                    "ok" if r["ok"] else "MISSED",
                ]
                for r in rows
            ],
        )
        failures += [f"compile: {r['shape']}" for r in rows if not r["ok"]]

    if "cold" in sections:
        result = cold.cold_starts(5 if args.quick else 11)
        results["cold"] = result
        print(
            "## Cold start of the packaged function (fresh interpreter from the package folder, one event answered "
            "with its decision line and metric; CPU ms and peak RSS of the whole process, "
            f"median of {result['rounds']})\n"
        )
        table(
            ["variant", "CPU ms", "peak RSS MiB"],
            [[name, ms, result["peak_rss_mib"][name]] for name, ms in result["cpu_ms"].items()],
        )
        ratio_ok = result["ratio_vs_hand_written"] <= cold.TARGET_RATIO
        rss_ok = result["peak_rss_mib"]["authorizer"] <= cold.TARGET_RSS_MIB
        print(
            f"authorizer ÷ hand-written Powertools: {result['ratio_vs_hand_written']:.2f}× "
            f"(target ≤ {cold.TARGET_RATIO:g}×): {'ok' if ratio_ok else 'MISSED'}; "
            f"peak RSS {result['peak_rss_mib']['authorizer']:.1f} MiB (target ≤ {cold.TARGET_RSS_MIB:g}): "
            f"{'ok' if rss_ok else 'MISSED'}"
        )
        added = result["pydantic_settings_adds"]
        print(f"pydantic-settings would add {added['cpu_ms']:.0f} ms and {added['rss_mib']:.0f} MiB")
        imports = ", ".join(f"{k} {v:.1f}" for k, v in result["heaviest_imports_ms"].items())
        print(f"heaviest imports the hand-written function does not have (ms, python -X importtime): {imports}\n")
        if not ratio_ok:
            failures.append("cold start ratio")
        if not rss_ok:
            failures.append("cold start peak RSS")

    if "memory" in sections:
        runs = [memory.measure(10_000)] + ([memory.measure(1_000_000)] if args.long else [])
        results["memory"] = runs
        print("## Memory (RSS of a fresh interpreter, MiB)\n")
        table(
            ["decisions", "after cold start", "final", "growth after the first tenth", "target"],
            [
                [
                    r["decisions"],
                    r["cold_start_mib"],
                    r["final_mib"],
                    r["growth_after_first_sample_mib"],
                    f"≤ {r['target_mib']:g} MiB",
                ]
                for r in runs
            ],
        )
        if runs[0]["final_mib"] > memory.RSS_TARGET_MIB:
            failures.append("memory: RSS after 10,000 decisions")
        if not args.long:
            print("(run with --long for 1,000,000 decisions)\n")

    if "diff" in sections:
        rows = diff.per_policy(3 if args.quick else 5)
        results["diff"] = rows
        print("## authorizer diff: each shipped policy against a mutated copy (CPU s, median)\n")
        table(
            ["policy", "edit", "requests decided", "groups", "seconds", "first run", "target", "verdict"],
            [
                [
                    r["policy"],
                    r["edit"],
                    r["requests"],
                    r["groups"],
                    r["seconds"],
                    r["first_run_seconds"],
                    f"< {r['target_s']:g} s",
                    "ok" if r["ok"] else "MISSED",
                ]
                for r in rows
            ],
        )
        failures += [f"diff: {r['policy']}" for r in rows if not r["ok"]]

    if "tokens" in sections:
        results["tokens"], missed = tokens.report(rounds, table)
        failures += missed

    if "claims" in sections:
        results["claims"], missed = claims.report(rounds, table)
        failures += missed

    if "validate" in sections:
        result = tools.validate(3 if args.quick else 5)
        results["validate"] = result
        print(f"## authorizer validate on {result['rules']:,} regex rules (CPU s, in-process, median)\n")
        table(
            ["rules", "seconds", "target", "verdict"],
            [[result["rules"], result["seconds"], f"≤ {result['target_s']:g} s", "ok" if result["ok"] else "MISSED"]],
        )
        if not result["ok"]:
            failures.append("validate: 1,000 regex rules")

    if "test" in sections:
        result = tools.test_suite(3 if args.quick else 5)
        results["test"] = result
        print(f"## authorizer test, {result['cases']:,} cases against the example policy (CPU, in-process, median)\n")
        table(
            ["cases", "seconds", "cases/s", "target", "verdict"],
            [
                [
                    result["cases"],
                    result["seconds"],
                    f"{result['cases_per_s']:,.0f}",
                    f"≥ {result['target_per_s']:,.0f}/s",
                    "ok" if result["ok"] else "MISSED",
                ]
            ],
        )
        if not result["ok"]:
            failures.append("test: cases per second")

    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"figures written to {args.json}")
    print("targets missed: " + (", ".join(failures) if failures else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
