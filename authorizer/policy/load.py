"""Policy text → LoadedPolicy (the compiled policy and where it came from), every problem as file:line:col.

Three stages, each a plain hand-off: YAML (with positions) → pydantic validation (structure and
types) → compile (meaning). Validation is the only stage that needs pydantic, the heaviest import
of a cold start; its output, the validated data, is cached beside the policy the way Python caches
bytecode (`__authorizer_cache__/`, keyed by the text's SHA-256 and this package's version), so a
Lambda cold start with a packaged cache never imports pydantic, nor parses YAML: the source map
(positions, for messages) is parsed only when something must be located.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authorizer import __version__
from authorizer.files import read_bytes
from authorizer.policy.collector import collector_paused
from authorizer.policy.compiler import CompileErrors, TokenOptions, compile_policy
from authorizer.policy.errors import Loc, PolicyError, Problem, Severity, capped, together
from authorizer.policy.ir import CompiledPolicy
from authorizer.policy.secrets import SecretLookup
from authorizer.policy.sensitivity import condition_source, sensitive_sources, under_secret

if TYPE_CHECKING:  # PyYAML (~20 ms of a cold start) is imported only when text is parsed, not for cached data
    from authorizer.policy.yamlsource import Located, SourceMap

Parsed = tuple[Any, "SourceMap", list[Problem]]  # the data, its positions, the text's problems read past
CACHE_DIR = "__authorizer_cache__"
MAX_POLICY_BYTES = 5 * 1024 * 1024


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _problems_from_validation(name: str, exc: Any, smap: SourceMap, data: Any) -> list[Problem]:
    from authorizer.policy.suggest import describe_validation_error

    problems = []
    for loc, message, at_key in describe_validation_error(exc, sensitive=sensitive_sources(data)):
        line, col = smap.locate(loc, at_key=at_key)
        problems.append(Problem(name, line, col, message))
    return problems


def validate_data(name: str, data: Any, smap: SourceMap) -> dict[str, Any]:
    """Check structure and types with the pydantic models; return the normalised plain data."""
    from pydantic import ValidationError

    from authorizer.policy.model import Policy

    if not isinstance(data, dict):
        raise PolicyError([Problem(name, 1, 1, "a policy is a mapping with `version` and `rules`")])
    try:
        model = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_problems_from_validation(name, exc, smap, data)) from None
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    dumped.pop("$schema", None)
    return dumped


def _cache_path(path: Path, digest: str) -> Path:
    return path.parent / CACHE_DIR / f"{path.name}.{digest[:16]}.v{__version__}.json"


def packaged_source(path: Path) -> Path:
    """Where `make package` writes the generated decision function's source for the policy at `path`
    (its bytecode compiled with the package's: decide/generated.py checks it is this policy's)."""
    return path.parent / CACHE_DIR / f"{path.name}.decide.py"


def _read_cache(path: Path, digest: str) -> dict[str, Any] | None:
    try:
        cached = json.loads(_cache_path(path, digest).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(cached, dict) or cached.get("digest") != digest or not isinstance(cached.get("data"), dict):
        return None
    data: dict[str, Any] = cached["data"]
    return data


def write_cache(path: Path, digest: str, data: dict[str, Any]) -> None:
    """Best effort, like __pycache__: a read-only file system just means no cache."""
    target = _cache_path(path, digest)
    try:
        target.parent.mkdir(exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"digest": digest, "data": data}, separators=(",", ":")))
        tmp.replace(target)
    except OSError:
        pass


class LoadedPolicy:
    """A compiled policy, its name and text, the validated data it was compiled from, and its source
    map (positions of every key and value), parsed from the text on first use."""

    __slots__ = ("_source_map", "data", "name", "policy", "raw")

    def __init__(
        self, name: str, raw: bytes, policy: CompiledPolicy, data: dict[str, Any], source_map: SourceMap | None
    ) -> None:
        self.name = name
        self.raw = raw
        self.policy = policy
        self.data = data
        self._source_map = source_map

    @property
    def source_map(self) -> SourceMap:
        if self._source_map is None:
            self._source_map = parse(self.name, self.raw)[1]
        return self._source_map

    def where(self, loc: Loc) -> str:
        """`file:line:col` of a place in the policy."""
        line, col = self.source_map.locate(loc)
        return f"{self.name}:{line}:{col}"

    def problem(self, loc: Loc, message: str, severity: Severity = "error") -> Problem:
        line, col = self.source_map.locate(loc)
        return Problem(self.name, line, col, message, severity)


def _check_size(name: str, raw: bytes) -> None:
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError([Problem(name, 1, 1, f"policy is larger than {MAX_POLICY_BYTES} bytes")])


def parse(name: str, raw: bytes) -> Parsed:
    """The YAML stage: data, positions, and the problems found while the text was still read (a
    duplicate key, a refused tag); PolicyError when it cannot be read on (syntax, encoding, size)."""
    from authorizer.policy.yamlsource import YamlProblems, read_yaml

    _check_size(name, raw)
    try:
        data, smap, found = read_yaml(raw)
    except YamlProblems as exc:  # no data to tell secret-bearing sources: quote nothing under any condition
        raise PolicyError([_yaml_problem(name, p, None) for p in exc.problems]) from None
    sensitive = sensitive_sources(data)
    return data, smap, [_yaml_problem(name, p, sensitive) for p in found]


def _yaml_problem(name: str, found: Located, sensitive: frozenset[str] | None) -> Problem:
    hidden = condition_source(found.loc) is not None if sensitive is None else under_secret(found.loc, sensitive)
    return Problem(name, found.line, found.col, found.unquoted if hidden and found.unquoted else found.message)


@collector_paused()
def load(
    name: str,
    raw: bytes,
    *,
    secrets: SecretLookup | None = None,
    validated: dict[str, Any] | None = None,
    parsed: Parsed | None = None,
    tokens: TokenOptions | None = None,
) -> LoadedPolicy:
    """Parse (unless `parsed`), validate (unless `validated` data is given) and compile; raise PolicyError
    with every problem the stages found, together: the text's (read on past a duplicate key), then
    validation's on the data as read, then, when that data validates, the compiler's. `tokens` says
    how a `tokens:` section's issuers are compiled (their keys replaced, the clock)."""
    _check_size(name, raw)
    smap: SourceMap | None = None
    problems: list[Problem] = []
    if validated is None:
        data, smap, problems = parsed if parsed is not None else parse(name, raw)
        try:
            validated = validate_data(name, data, smap)
        except PolicyError as exc:
            raise PolicyError(capped(together(problems, exc.problems))) from None
    try:
        written = smap.written if smap is not None else None
        digest = digest_of(raw)[:12]
        compiled = compile_policy(validated, name=name, digest=digest, secrets=secrets, written=written, tokens=tokens)
    except CompileErrors as exc:
        if smap is None:  # cached data failed to compile: positions from the text
            smap = parse(name, raw)[1]
        problems = together(problems, [_located(name, *error, smap) for error in exc.errors])
    if problems:
        raise PolicyError(capped(problems))
    return LoadedPolicy(name, raw, compiled, validated, smap)


def _located(name: str, loc: Loc, message: str, at_key: bool, smap: SourceMap) -> Problem:
    line, col = smap.locate(loc, at_key=at_key)
    return Problem(name, line, col, message)


def load_file(
    path: str | Path, *, secrets: SecretLookup | None = None, use_cache: bool = True, tokens: TokenOptions | None = None
) -> LoadedPolicy:
    """Load a policy file; reuse (and refresh) the validated-data cache beside it."""
    path = Path(path)
    try:
        raw = read_bytes(path, MAX_POLICY_BYTES)
    except OSError as exc:
        raise PolicyError([Problem(str(path), 1, 1, f"cannot read policy: {exc.strerror or exc}")]) from None
    digest = digest_of(raw)
    cached = _read_cache(path, digest) if use_cache else None
    loaded = load(str(path), raw, secrets=secrets, validated=cached, tokens=tokens)
    if use_cache and cached is None:
        write_cache(path, digest, loaded.data)
    return loaded
