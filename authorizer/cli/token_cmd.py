"""`authorizer token mint POLICY [--issuer NAME] [--claim NAME=VALUE]... [--expires-in 1h]`: a development
token for curl and wscat, signed with a development key the policy's issuer accepts locally.

Development keys live in `.authorizer/dev-keys/` (git-ignored; `--keys DIR` for another folder),
one per issuer name, made on first use; `authorizer serve --dev-keys` verifies with the same
folder in place of the issuers' key sets. The token goes to stdout alone, so `$(...)` takes it;
the claims are the issuer's own (iss, aud or a Cognito access token's client_id, token_use, iat,
exp) with `--claim`s over them: `NAME=text`, or `NAME:=JSON` for lists, numbers and booleans
(`--claim 'cognito:groups:=["admins"]'`). Never a production signer.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from authorizer.cli.io import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError
from authorizer.policy.compiler import TokenOptions
from authorizer.policy.errors import PolicyError

_DURATION = re.compile(r"(-?\d+)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "token",
        help="development tokens for a policy's issuers (for curl, wscat and authorizer serve --dev-keys)",
        description="Mint development tokens signed with local development keys (never production keys).",
    )
    commands = p.add_subparsers(dest="token_command", metavar="COMMAND", required=True)
    mint = commands.add_parser("mint", help="print a development token for one of the policy's issuers")
    mint.add_argument("policy", help="policy YAML file with a `tokens:` section")
    mint.add_argument("--issuer", help="the issuer's name under tokens.issuers (default: the only one)")
    mint.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a claim: NAME=text, or NAME:=JSON (repeatable; over iss, aud/client_id, token_use, iat, exp)",
    )
    mint.add_argument(
        "--expires-in", default="1h", help="lifetime: 90, 90s, 15m, 1h, 1d (default 1h); --expires-in=-5m: expired"
    )
    mint.add_argument("--keys", type=Path, help="development key folder (default: .authorizer/dev-keys)")
    p.set_defaults(run=run)


def seconds(text: str) -> int:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"--expires-in {text!r}: a number of seconds, or 90s, 15m, 1h, 1d")
    return int(match[1]) * _UNITS[match[2]]


def claims(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name or name == ":":
            raise UsageError(f"--claim {pair!r}: write NAME=text or NAME:=JSON")
        if name.endswith(":"):
            try:
                out[name[:-1]] = json.loads(value)
            except ValueError:
                raise UsageError(f"--claim {name[:-1]}: {value!r} is not JSON (for text, write NAME=text)") from None
        else:
            out[name] = value
    return out


def run(args: argparse.Namespace) -> int:
    from authorizer.policy.load import load_file

    try:
        lifetime, stated = seconds(args.expires_in), claims(args.claim)
        if not Path(args.policy).is_file():
            raise UsageError(f"{args.policy}: no such policy file")
    except UsageError as exc:
        print(f"authorizer token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from authorizer.tokens import DEV_KEYS
    from authorizer.tokens.mint import KeyFolder, mint_for

    folder = KeyFolder(args.keys or DEV_KEYS)
    try:
        loaded = load_file(args.policy, tokens=TokenOptions(jwks=folder.jwks), use_cache=False)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_FINDINGS
    tokens = loaded.policy.tokens
    names = list(tokens.issuers) if tokens is not None else []
    name = args.issuer or (names[0] if len(names) == 1 else None)
    if tokens is None or name is None or name not in tokens.issuers:
        wanted = f"no issuer {args.issuer!r}" if args.issuer else "name an issuer (--issuer)"
        why = f"{wanted}; its issuers: {', '.join(names)}" if names else "it has no `tokens:` section"
        print(f"authorizer token: {args.policy}: {why}", file=sys.stderr)
        return EXIT_USAGE
    config = tokens.issuers[name]
    key = folder.key(name, config.algorithms[0])
    print(mint_for(config, key, stated, expires_in=lifetime))
    print(f"authorizer token: signed with the development key in {folder.folder}/ (kid {key.kid})", file=sys.stderr)
    return EXIT_OK
