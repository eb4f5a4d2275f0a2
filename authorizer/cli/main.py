"""`authorizer`: one console script, one module per subcommand.

Exit codes (contract): 0 ok, 1 findings or failures, 2 usage or I/O errors.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from authorizer import __version__

# subcommand → module in authorizer.cli exposing register(subparsers) and run(args) -> int
COMMANDS = {
    "eval": "authorizer.cli.eval_cmd",
    "schema": "authorizer.cli.schema_cmd",
    "test": "authorizer.cli.test_cmd",
    "validate": "authorizer.cli.validate_cmd",
    "demo": "authorizer.cli.demo_cmd",
    "serve": "authorizer.cli.serve_cmd",
    "diff": "authorizer.cli.diff_cmd",
    "token": "authorizer.cli.token_cmd",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="authorizer",
        description="Policy-driven Lambda authorizer for Amazon API Gateway.",
    )
    parser.add_argument("--version", action="version", version=f"authorizer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS.values():
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, usage errors are 2
        return int(exc.code or 0)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return code


def entry() -> None:
    sys.exit(main())
