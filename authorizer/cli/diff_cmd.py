"""`authorizer diff OLD NEW` / `authorizer diff --base REV [PATH...]`: every decision a policy change
changes, grouped (widened, narrowed, 401 ↔ 403, outputs changed, attribution only), each with a
count, a minimal example request (secrets redacted), the deciding rules before and after and the
condition that differs. Exit 0 when nothing `--fail-on` asks about changed (outside `--expect`),
1 when something did (or, with --strict, a condition could not be proven), 2 on a usage error or
an invalid policy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from authorizer.cli.io import EXIT_USAGE, say


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "diff",
        help="show every decision a policy change changes (widened, narrowed, ...), for review and CI",
        description="Decide the same requests with two versions of a policy and show every decision that changes. "
        "OLD and NEW are files or REV:path; with --base REV, every policy under PATHs (default policies/) that "
        "differs from REV is compared. Exit 0: nothing asked about changed; 1: it did; "
        "2: usage error or invalid policy.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="OLD NEW, or with --base the files or folders")
    p.add_argument("--base", metavar="REV", help="compare every changed policy under PATHs with its version at REV")
    p.add_argument("--format", choices=["text", "json", "junit", "markdown"], default="text", help="default text")
    p.add_argument(
        "--fail-on",
        choices=["any", "widening", "narrowing"],
        default="any",
        help="which changes exit 1 (default any; widening also counts added policies, narrowing removed ones)",
    )
    p.add_argument("--strict", action="store_true", help="also exit 1 when a condition could not be proven")
    p.add_argument("--expect", metavar="FILE", help="YAML list of intended changes: those do not fail, any other does")
    p.add_argument(
        "--corpus",
        action="append",
        default=[],
        metavar="PATH",
        help="more recorded requests: test suites, event JSON files, or folders of them (repeatable)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from authorizer.diff.compare import PolicyDiff, compare
    from authorizer.diff.corpus import CorpusError, collect
    from authorizer.diff.expect import ExpectError, read_expect
    from authorizer.diff.formats import FORMATS
    from authorizer.diff.verdict import Verdict
    from authorizer.diff.versions import InvalidPolicy, Pair, VersionError, changed, load_version, read

    try:
        expected = read_expect(args.expect) if args.expect else []
        if args.base is not None:
            pairs = changed(args.base, args.paths or ["policies"])
        elif len(args.paths) == 2:
            (old_name, old_raw), (new_name, new_raw) = read(args.paths[0]), read(args.paths[1])
            pairs = [Pair("changed", old_name, new_name, old_raw, new_raw)]
        else:
            raise VersionError("give OLD and NEW policies, or --base REV [PATH...]")
        diffs = []
        invalid = False
        for pair in pairs:
            if pair.old is None or pair.new is None:
                diffs.append(PolicyDiff(pair.old_name, pair.new_name, pair.status))
                continue
            try:
                old, new = load_version(pair.old_name, pair.old), load_version(pair.new_name, pair.new)
            except InvalidPolicy as exc:
                print(exc, file=sys.stderr)
                invalid = True
                continue
            corpus = collect(Path(pair.new_name), args.corpus) if Path(pair.new_name).is_file() else []
            diffs.append(compare(old, new, corpus))
    except (VersionError, CorpusError, ExpectError) as exc:
        say("diff", exc)
        return EXIT_USAGE
    if invalid:
        say("diff", "a policy does not load (problems above)")
        return EXIT_USAGE
    verdict = Verdict(diffs, args.fail_on, args.strict, expected)
    print(FORMATS[args.format](verdict))
    return verdict.exit_code
