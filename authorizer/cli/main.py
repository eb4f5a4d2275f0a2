"""`authorizer`: one console script, one module per subcommand.

Exit codes (contract): 0 ok, 1 findings or failures, 2 usage or I/O errors. Whatever the input, a
command ends with one of them and at most one line of its own on stderr: usage errors are one line
(not argparse's usage block), and an exception no command expected becomes one line naming the
command (a safety net: each command answers the inputs it knows of itself).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from authorizer import __version__
from authorizer.cli.io import EXIT_USAGE, say

# subcommand → module in authorizer.cli exposing register(subparsers) and run(args) -> int
COMMANDS = {
    "eval": "authorizer.cli.eval_cmd",
    "event": "authorizer.cli.event_cmd",
    "schema": "authorizer.cli.schema_cmd",
    "test": "authorizer.cli.test_cmd",
    "validate": "authorizer.cli.validate_cmd",
    "demo": "authorizer.cli.demo_cmd",
    "serve": "authorizer.cli.serve_cmd",
    "diff": "authorizer.cli.diff_cmd",
    "token": "authorizer.cli.token_cmd",
}


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (usage stays in --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    except Exception as exc:  # the safety net; the type only: a message may quote what it was given
        say(args.command, f"unexpected {type(exc).__name__} (please report this bug)")
        return EXIT_USAGE
    return code


def entry() -> None:
    sys.exit(main())
