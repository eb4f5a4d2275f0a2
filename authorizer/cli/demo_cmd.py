"""`authorizer demo`: every shipped sample event through its policy, as a table.

Sample events live in `policies/events/<policy name>/`; `--fixtures DIR` adds a folder of other
events (e.g. AWS's own samples) decided by `policies/example.yaml`. The last column is what API
Gateway would answer the caller.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from authorizer.cli.io import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, load_policy_or_report, read_json, say
from authorizer.decide.decision import Decision
from authorizer.decide.evaluate import evaluate
from authorizer.files import kind_of

# Demo-only secret values for the shipped policies that read secrets from the environment.
DEMO_SECRETS = {"CHAT_TICKET": "demo-ticket", "OPS_API_KEY": "demo-ops-key"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="decide the shipped sample events and print a table")
    p.add_argument("policies", nargs="?", default="policies", help="folder of policies (default: policies)")
    p.add_argument("--fixtures", help="another folder of events, decided by example.yaml")
    p.set_defaults(run=run)


def gateway_answer(decision: Decision, response: dict[str, Any] | None) -> str:
    """What the caller gets back (docs/api-gateway.md)."""
    if response is None:
        return "401 Unauthorized"
    if "isAuthorized" in response:
        return "200 OK" if response["isAuthorized"] is True else "403 Forbidden"
    effect = response["policyDocument"]["Statement"][0]["Effect"]
    return "200 OK" if effect == "Allow" else "403 Forbidden (explicit deny)"


def shortened(text: str, width: int = 40) -> str:
    """`text` in at most `width` characters, cut between words (and marked …), never mid-word."""
    if len(text) <= width:
        return text
    head = text[: width - 1]
    if text[width - 1] != " " and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,:;") + "…"


def _rows(policy_path: Path, events: list[Path], label_root: Path) -> list[list[str]]:
    policy = load_policy_or_report(str(policy_path))
    if policy is None:
        raise UsageError(f"{policy_path}: policy does not load")
    rows = []
    for event_path in events:
        try:
            event = read_json(str(event_path))
        except UsageError:
            continue
        decision, request, response = evaluate(event, policy.policy)
        rows.append(
            [
                policy_path.name,
                str(event_path.relative_to(label_root)),
                request.kind.name if request else "-",
                decision.effect,
                decision.rule or f"({shortened(decision.reason)})",
                decision.shown_principal() or "",
                gateway_answer(decision, response),
            ]
        )
    return rows


def _table(rows: list[list[str]]) -> str:
    header = ["policy", "event", "kind", "decision", "rule", "principal", "API Gateway answers"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def run(args: argparse.Namespace) -> int:
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    folder = Path(args.policies)
    try:
        for given in (args.policies, args.fixtures):
            if given is not None and kind_of(given) != "folder":
                raise UsageError(f"{given}: not a folder")
        rows: list[list[str]] = []
        for policy_path in sorted(folder.glob("*.yaml")):
            events_dir = folder / "events" / policy_path.stem
            rows += _rows(policy_path, sorted(events_dir.glob("*.json")), folder / "events")
        if args.fixtures:
            fixtures = Path(args.fixtures)
            events = sorted(fixtures.rglob("*.json"))
            if not events:
                raise UsageError(f"{fixtures}: no *.json events in this folder")
            rows += _rows(folder / "example.yaml", events, fixtures)
    except UsageError as exc:
        say("demo", exc)
        return EXIT_USAGE
    if not rows:
        say("demo", f"no policies with events under {folder}")
        return EXIT_FINDINGS
    print(_table(rows))
    return EXIT_OK
