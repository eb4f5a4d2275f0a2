"""`authorizer eval POLICY EVENT [--explain] [--format json|text]`: decide one event exactly as the Lambda would.

`--explain` answers "why was I denied?": for every rule tried, the first condition that did not
hold, with its source, expected and actual values (redacted where secret) and its policy line."""

from __future__ import annotations

import argparse
from typing import Any

from authorizer.cli.io import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    load_policy_or_report,
    print_json,
    read_json,
    say,
)
from authorizer.decide.evaluate import evaluate
from authorizer.testing.explanation import explain_rules, render_text


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "eval",
        help="decide one authorizer event with a policy",
        description="Print the decision as JSON: effect, rule, principal, context, and the exact handler "
        "response (null when the handler raises Unauthorized).",
    )
    p.add_argument("policy", help="policy YAML file")
    p.add_argument("event", help="authorizer event JSON file, or - for stdin")
    p.add_argument(
        "--explain",
        action="store_true",
        help="add the trace (every condition tried, with values and policy line) and, for every rule tried, "
        "the first condition that did not hold",
    )
    p.add_argument(
        "--format",
        choices=["json", "text"],
        default="json",
        help="json (default), or text: the decision and the explanation as readable lines",
    )
    p.add_argument("--response", choices=["iam", "simple"], help="HTTP API 2.0 response format (default: policy's)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        event = read_json(args.event)
        policy = load_policy_or_report(args.policy)
    except UsageError as exc:
        say("eval", exc)
        return EXIT_USAGE
    if policy is None:
        return EXIT_FINDINGS
    explained = args.explain or args.format == "text"
    decision, _, response = evaluate(event, policy.policy, args.response, explained=explained)
    out: dict[str, Any] = {  # outputs taken from secret-bearing sources show as <redacted>, here and in `response`
        "effect": decision.effect,
        "rule": decision.rule,
        "principal": decision.shown_principal(),
        "context": decision.shown_context(decision.context),
        "response": decision.shown_response(response),
        "reason": decision.reason,
    }
    if not explained:
        print_json(out)
        return EXIT_OK
    locate = policy.where
    explanation = explain_rules(decision, locate)
    if args.format == "text":
        print(f"{decision.effect} ({decision.reason})" + (f", rule {decision.rule!r}" if decision.rule else ""))
        print("\n".join(f"  {line}" for line in render_text(explanation, locate)))
        return EXIT_OK
    out["trace"] = [{**entry.as_dict(), "at": locate(entry.loc)} for entry in decision.trace or ()]
    out["explanation"] = [item.as_dict(locate) for item in explanation]
    print_json(out)
    return EXIT_OK
