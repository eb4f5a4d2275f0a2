"""Where the two versions of a policy come from: files, `REV:path` arguments, or every policy under some
paths that differs from a git revision (`git show`, `git diff --name-status` through subprocess).

Policies are loaded with a stand-in for each secret, derived from where the secret is read (its
`env`/`ssm`/`secretsmanager` reference), never from its value: a request carrying the stand-in
passes `secret:` conditions in both versions when the reference is unchanged, and in one only
when it moved. Nothing reads the environment, SSM or Secrets Manager. Token issuers get the
run's test keys in place of their key sets (as in test suites): a version at a git revision has no
key set file on disk, and the requests compared carry no token anyway.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from authorizer.files import kind_of, read_bytes
from authorizer.policy.errors import PolicyError, Problem
from authorizer.policy.load import MAX_POLICY_BYTES, LoadedPolicy, load, parse
from authorizer.testing.discover import yaml_files
from authorizer.testing.suite import is_suite
from authorizer.testing.tokens import SuiteKeys

Status = Literal["changed", "added", "removed"]
_KEYS = SuiteKeys()  # made on first use, only for policies with tokens


class VersionError(Exception):
    """A version that cannot be read (bad path, bad revision, not a git repository): exit 2."""


class InvalidPolicy(Exception):
    """A version that does not load: its problems, each with file:line:col."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


def stand_in(data: Mapping[str, Any], name: str) -> str:
    """The value a diff gives the secret `name`: the same wherever it is read from the same place."""
    ref = json.dumps(data.get("secrets", {}).get(name), sort_keys=True)
    return "secret-" + hashlib.sha256(ref.encode()).hexdigest()[:16]


def load_version(name: str, raw: bytes) -> LoadedPolicy:
    """Load one version with stand-in secrets; InvalidPolicy with every problem."""
    try:
        parsed = parse(name, raw)
        data = parsed[0] if isinstance(parsed[0], dict) else {}
        return load(name, raw, secrets=lambda secret: stand_in(data, secret), parsed=parsed, tokens=_KEYS.options())
    except PolicyError as exc:
        raise InvalidPolicy(exc.problems) from None


def _git(cwd: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise VersionError(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise VersionError(message[0] if message else f"git {args[0]} failed")
    return done.stdout


def _read(name: str) -> bytes:
    try:
        return read_bytes(name, MAX_POLICY_BYTES)
    except OSError as exc:
        raise VersionError(f"{name}: cannot read: {exc.strerror or exc}") from None


def read(argument: str) -> tuple[str, bytes]:
    """A policy named on the command line: a file, or `REV:path` (the file at a git revision)."""
    if kind_of(argument) == "file":
        return argument, _read(argument)
    rev, colon, name = argument.partition(":")
    if colon and rev and name:
        return argument, _git(Path.cwd(), "show", f"{rev}:./{name.removeprefix('./')}")
    raise VersionError(f"{argument}: no such policy file")


@dataclass(frozen=True, slots=True)
class Pair:
    """One policy to compare: its text before (at the revision) and after (the working tree)."""

    status: Status
    old_name: str
    new_name: str
    old: bytes | None
    new: bytes | None


def _is_policy(raw: bytes) -> bool:
    try:
        data = parse("policy", raw)[0]
    except PolicyError:
        return True  # a broken file under the paths: loading it reports its problems
    return isinstance(data, dict) and "rules" in data and not is_suite(data)


def changed(rev: str, paths: list[str]) -> list[Pair]:
    """Every policy under `paths` whose working-tree text differs from its text at `rev`."""
    cwd = Path.cwd()
    for text in paths:
        if kind_of(text) == "missing":
            raise VersionError(f"{text}: no such file or folder")
    _git(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    listed = _git(cwd, "diff", "--name-status", "--no-renames", "--relative", rev, "--", *paths).decode()
    untracked = _git(cwd, "ls-files", "--others", "--exclude-standard", "--", *paths).decode()
    entries = [line.split("\t", 1) for line in listed.splitlines() if "\t" in line]
    entries += [["A", name] for name in untracked.splitlines() if name]
    wanted = {str(p) for text in paths for p in (yaml_files(Path(text)) if kind_of(text) == "folder" else [Path(text)])}
    pairs = []
    for status, name in sorted(entries, key=lambda e: e[1]):
        if not name.endswith((".yaml", ".yml")) or "__authorizer_cache__" in name:
            continue
        old_name = f"{rev}:{name}"
        old = None if status == "A" else _git(cwd, "show", f"{rev}:./{name}")
        new = _read(name) if status != "D" else None
        if status != "D" and name not in wanted:
            continue
        if not _is_policy(new if new is not None else old or b""):
            continue
        kind: Status = "added" if old is None else "removed" if new is None else "changed"
        pairs.append(Pair(kind, old_name, name, old, new))
    return pairs
