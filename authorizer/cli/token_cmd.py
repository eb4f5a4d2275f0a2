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
from pathlib import Path
from typing import Any

from authorizer.cli.io import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, load_policy_or_report, say
from authorizer.files import kind_of
from authorizer.policy.compiler import TokenOptions

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
    from authorizer.tokens import DEV_KEYS
    from authorizer.tokens.mint import KeyFolder, mint_for

    folder = KeyFolder(args.keys or DEV_KEYS)
    try:
        lifetime, stated = seconds(args.expires_in), claims(args.claim)
        if kind_of(folder.folder) not in ("folder", "missing"):
            raise UsageError(f"--keys {folder.folder}: not a folder")
        loaded = load_policy_or_report(args.policy, tokens=TokenOptions(jwks=folder.jwks))
        if loaded is None:
            return EXIT_FINDINGS
        tokens = loaded.policy.tokens
        names = list(tokens.issuers) if tokens is not None else []
        name = args.issuer or (names[0] if len(names) == 1 else None)
        if tokens is None or name is None or name not in tokens.issuers:
            wanted = f"no issuer {args.issuer!r}" if args.issuer else "name an issuer (--issuer)"
            why = f"{wanted}; its issuers: {', '.join(names)}" if names else "it has no `tokens:` section"
            raise UsageError(f"{args.policy}: {why}")
        config = tokens.issuers[name]
        key = folder.key(name, config.algorithms[0])
    except UsageError as exc:
        say("token", exc)
        return EXIT_USAGE
    except OSError as exc:  # the key folder cannot be made, read or written
        say("token", f"--keys {folder.folder}: {exc.strerror or type(exc).__name__}")
        return EXIT_USAGE
    print(mint_for(config, key, stated, expires_in=lifetime))
    say("token", f"signed with the development key in {folder.folder}/ (kid {key.kid})")
    return EXIT_OK
