"""`authorizer eval POLICY EVENT [--explain]`: decide one event exactly as the Lambda would."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from authorizer.cli.io import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    load_policy_or_report,
    print_json,
    read_json,
)
from authorizer.handler import Runtime, evaluate
from authorizer.policy.store import StaticPolicyStore
from authorizer.settings import Settings


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "eval",
        help="decide one authorizer event with a policy",
        description="Print the decision as JSON: effect, rule, principal, context, and the exact handler "
        "response (null when the handler raises Unauthorized).",
    )
    p.add_argument("policy", help="policy YAML file")
    p.add_argument("event", help="authorizer event JSON file, or - for stdin")
    p.add_argument("--explain", action="store_true", help="add the trace: every condition tried, with values")
    p.add_argument("--response", choices=["iam", "simple"], help="HTTP API 2.0 response format (default: policy's)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        event = read_json(args.event)
        policy = load_policy_or_report(args.policy)
    except UsageError as exc:
        print(f"authorizer eval: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if policy is None:
        return EXIT_FINDINGS
    runtime = Runtime(Settings(policy=args.policy, response=args.response, metrics=False), StaticPolicyStore(policy))
    decision, _request, response = evaluate(event, runtime, explained=args.explain)
    out: dict[str, Any] = {
        "effect": decision.effect,
        "rule": decision.rule,
        "principal": decision.principal,
        "context": decision.context,
        "response": response,
        "reason": decision.reason,
    }
    if args.explain:
        out["trace"] = [entry.as_dict() for entry in decision.trace or ()]
    print_json(out)
    return EXIT_OK
