"""The test-suite file: its pydantic models (the source of `schemas/test-suite.schema.json`), and
loading one file into runnable cases, every problem reported as file:line:col like a policy's.

A case is a request and the decision expected. The request is either a fixture file (a full event)
or a compact description (headers, query, stage variables, context, route, ...) that
`authorizer.event.builder.RequestSpec` expands into the exact event API Gateway sends for each `kind`.
A described request may carry a bearer token (`token:` claims): the runner mints it with per-run
test keys that replace the policy's issuers' key sets (testing/tokens.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from authorizer.event.builder import RequestSpec
from authorizer.files import read_bytes, read_json
from authorizer.policy.collector import collector_paused
from authorizer.policy.errors import Loc, Problem, capped, together
from authorizer.policy.load import MAX_POLICY_BYTES
from authorizer.policy.suggest import describe_validation_error
from authorizer.policy.yamlsource import SourceMap, YamlProblems, read_yaml

Kind = Literal["token", "rest", "websocket", "http-v1", "http-v2"]
MultiValues = dict[str, StrictStr | list[StrictStr] | None]
MAP_FIELDS = ("headers", "query", "stage_variables", "path_parameters", "context")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CompactRequest(_Strict):
    """A request as a person describes it; the names are `authorizer.event.builder.RequestSpec`'s.

    In a case, map fields (headers, query, ...) are merged key by key over the suite's defaults;
    a key set to null is removed."""

    method: StrictStr | None = Field(None, description="HTTP method (default GET).")
    path: StrictStr | None = Field(None, description="Concrete request path, e.g. /pets/42 (default /).")
    headers: MultiValues | None = Field(None, description="Header name → value, or a list for a repeated header.")
    query: MultiValues | None = Field(None, description="Query-string parameter → value, or a list.")
    stage_variables: dict[str, StrictStr | None] | None = None
    path_parameters: dict[str, StrictStr | None] | None = None
    context: dict[str, Any] | None = Field(None, description="Merged into requestContext (accountId, identity...).")
    token: StrictStr | None = Field(None, description="TOKEN authorizers: the token (default: Authorization header).")
    route_key: StrictStr | None = Field(None, description="Route as configured: `GET /pets/{id}`, `$default`.")
    identity_source: list[StrictStr] | None = Field(None, description="HTTP API: the identity-source values.")
    source_ip: StrictStr | None = None
    user_agent: StrictStr | None = None
    account_id: StrictStr | None = None
    api_id: StrictStr | None = None
    region: StrictStr | None = None
    partition: StrictStr | None = None
    stage: StrictStr | None = Field(None, description="Stage name (default dev).")


class Token(_Strict):
    """A bearer token the runner mints for the case, signed with a per-run test key of the issuer (the
    policy's key sets are replaced by those keys for the run: nothing is fetched)."""

    issuer: StrictStr | None = Field(
        None, description="The issuer's name under the policy's tokens.issuers (default: its only one)."
    )
    claims: dict[str, Any] = Field(
        default_factory=dict,
        description="Claims over the issuer's own (iss, aud or a Cognito access token's client_id, token_use, "
        "iat, exp); null removes one.",
    )
    expires_in: StrictInt | Annotated[float, Field(strict=True), AllowInfNan(False)] = Field(
        3600, description="Seconds from now until exp (negative: already expired)."
    )
    in_: StrictStr | None = Field(
        None,
        alias="in",
        description="Where it travels: one of the policy's tokens.from (default: the first but `token`; a TOKEN "
        "event carries it as its token). A header gets `Bearer ` under `scheme: bearer`.",
    )
    forged: StrictBool = Field(False, description="Signed by another key under the issuer's kid (must be refused).")


class Expect(_Strict):
    """The decision expected. Only the keys written are compared (`rule: null` asserts that no rule
    decided; `response: null` that the handler raises Unauthorized)."""

    effect: Literal["allow", "deny", "unauthorized"]
    rule: StrictStr | None = Field(None, description="The rule that decided. Name it for every allow.")
    principal: StrictStr | None = None
    context: dict[str, Any] | None = Field(None, description="The whole context, compared type-strictly.")
    resources: list[StrictStr] | None = Field(None, description="The resource ARNs of the IAM policy statement.")
    usage_identifier_key: StrictStr | None = None
    reason: StrictStr | None = Field(None, description="Text the decision's reason contains.")
    response: Any = Field(None, description="The handler's exact return value; null when it raises Unauthorized.")


class Defaults(_Strict):
    kind: Kind | list[Kind] | None = None
    request: CompactRequest | None = None
    token: Token | None = None
    response_format: Literal["iam", "simple"] | None = None


class Case(_Strict):
    name: StrictStr = Field(min_length=1)
    description: StrictStr | None = None
    policy: StrictStr | None = Field(None, description="Policy file, relative to this file (default: the suite's).")
    kind: Kind | list[Kind] | None = Field(
        None, description="Event kind(s) to build from `request`; a list runs the case once per kind (default rest)."
    )
    request: CompactRequest | None = None
    event: StrictStr | None = Field(
        None, description="An event JSON file (relative to this file) instead of `request`."
    )
    token: Token | None = Field(
        None, description="A bearer token minted for the request (null: none, whatever the defaults say)."
    )
    response_format: Literal["iam", "simple"] | None = Field(
        None, description="HTTP API 2.0 response format, as AUTHORIZER_RESPONSE would set it."
    )
    expect: Expect


class Suite(_Strict):
    """A policy test suite: cases, each a request and the decision expected."""

    schema_: StrictStr | None = Field(None, alias="$schema")
    suite: StrictStr | None = Field(None, description="A name for reports (default: the file name).")
    description: StrictStr | None = None
    policy: StrictStr | None = Field(None, description="The policy file the cases test, relative to this file.")
    secrets: dict[str, StrictStr] = Field(
        default_factory=dict,
        description="Values of the policy's named secrets for these tests (nothing is read from the environment).",
    )
    defaults: Defaults | None = None
    cases: list[Case] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class RunnableCase:
    """One case for one event kind, with everything resolved."""

    suite: str
    name: str
    line: int
    policy: Path
    event: Any
    expect: dict[str, Any]  # only the keys written
    secrets: dict[str, str] = field(default_factory=dict)
    response_format: Literal["iam", "simple"] | None = None
    spec: RequestSpec | None = None  # the request described (None for an event file): other kinds can be built from it
    kind: str | None = None  # the kind `event` was built as, from `spec`
    token: dict[str, Any] | None = None  # `Token`'s fields: the runner mints it and builds the event again


@dataclass(slots=True)
class LoadedSuite:
    path: Path
    name: str
    cases: list[RunnableCase]
    problems: list[Problem]
    warnings: list[Problem]


def is_suite(data: Any) -> bool:
    """Test-suite files and policies live side by side; a suite has `cases` and no `rules`."""
    return isinstance(data, dict) and "cases" in data and "rules" not in data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **over}
    for key in MAP_FIELDS:
        if key in base or key in over:
            both = {**base.get(key, {}), **over.get(key, {})}
            merged[key] = {k: v for k, v in both.items() if v is not None}
    return merged


def _kinds(value: Kind | list[Kind] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(dict.fromkeys(value))


CASE_PATHS = 2  # ("cases", i): each case's position, which every case carries (its line)


class Positions:
    """Where a suite's parts are written. The first parse records the top levels only (each case's
    line); anything deeper, which only a problem needs, comes from parsing the same text again in
    full, the first time it is asked for: a suite whose cases load without problems never is."""

    __slots__ = ("_map", "_raw")

    def __init__(self, smap: SourceMap, raw: bytes | None = None) -> None:
        self._map = smap
        self._raw = raw  # the text, while only CASE_PATHS levels are located

    def locate(self, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
        if len(loc) > CASE_PATHS and self._raw is not None:
            self._map, self._raw = read_yaml(self._raw)[1], None  # read before: it cannot fail now
        return self._map.locate(loc, at_key=at_key)


def parse_suite(path: Path) -> tuple[Suite | None, Positions, list[Problem]]:
    """The validated suite model, or the problems (YAML and structure, together) with their positions."""
    name = str(path)
    try:
        raw = read_bytes(path, MAX_POLICY_BYTES)
        data, smap, found = read_yaml(raw, located=CASE_PATHS)
    except OSError as exc:
        return None, Positions(SourceMap()), [Problem(name, 1, 1, f"cannot read test suite: {exc.strerror or exc}")]
    except YamlProblems as exc:
        return None, Positions(SourceMap()), [Problem(name, p.line, p.col, p.message) for p in exc.problems]
    positions = Positions(smap, raw)
    problems = [Problem(name, p.line, p.col, p.message) for p in found]
    if not isinstance(data, dict):
        return None, positions, [*problems, Problem(name, 1, 1, "a test suite is a mapping with `cases`")]
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        described = describe_validation_error(exc, root=Suite)
        located = [(positions.locate(loc, at_key=at_key), message) for loc, message, at_key in described]
        invalid = [Problem(name, line, col, message) for (line, col), message in located]
        return None, positions, capped(together(problems, invalid))
    return (None if problems else suite), positions, problems


@collector_paused()
def load_suite(path: Path) -> LoadedSuite:
    """Read, validate and expand one suite file into runnable cases (or problems)."""
    suite, positions, problems = parse_suite(path)
    loaded = LoadedSuite(path, path.stem, [], problems, [])
    if suite is None:
        return loaded
    loaded.name = suite.suite or path.stem
    base = path.parent
    defaults = suite.defaults or Defaults()
    default_request = defaults.request.model_dump(exclude_unset=True) if defaults.request else {}
    seen: dict[str, int] = {}
    files: dict[str, Path | None] = {}  # each policy named, found once (not once per case)

    def problem(loc: tuple[str | int, ...], message: str, *, warning: bool = False) -> None:
        line, col = positions.locate(loc)
        found = Problem(str(path), line, col, message, "warning" if warning else "error")
        (loaded.warnings if warning else loaded.problems).append(found)

    def policy_file(text: str) -> Path | None:
        if text not in files:
            named = Path(os.path.normpath(base / text))
            files[text] = named if named.is_file() else None
        return files[text]

    for i, case in enumerate(suite.cases):
        loc: tuple[str | int, ...] = ("cases", i)
        line = positions.locate(loc)[0]
        if case.name in seen:
            problem((*loc, "name"), f"duplicate case name {case.name!r} (first at line {seen[case.name]})")
        seen.setdefault(case.name, line)
        policy_text = case.policy or suite.policy
        if policy_text is None:
            problem(loc, "no policy: set `policy` on the suite or on the case")
            continue
        policy = policy_file(policy_text)
        if policy is None:
            problem((*loc, "policy") if case.policy else ("policy",), f"policy file {policy_text!r} not found")
            continue
        expect = case.expect.model_dump(exclude_unset=True)
        if case.expect.effect == "allow" and "rule" not in expect:
            problem((*loc, "expect"), f"case {case.name!r} expects allow but names no rule", warning=True)
        events: list[tuple[str, str | None, Any]] = []
        spec: RequestSpec | None = None
        token = case.token if "token" in case.model_fields_set else defaults.token
        if case.event is not None:
            if case.request is not None or case.kind is not None:
                problem((*loc, "event"), "give either `event` (a file) or `request` and `kind`, not both")
                continue
            if case.token is not None:
                problem((*loc, "token"), "a token is minted into a described `request`; an event file carries its own")
                continue
            try:
                events.append(("", None, read_json(base / case.event)))
            except (OSError, ValueError) as exc:
                problem((*loc, "event"), f"cannot read event {case.event!r}: {getattr(exc, 'strerror', None) or exc}")
                continue
        else:
            own = case.request.model_dump(exclude_unset=True) if case.request else {}
            spec = RequestSpec(**{k: v for k, v in _merge(default_request, own).items() if v is not None})
            kinds = _kinds(case.kind) or _kinds(defaults.kind) or ["rest"]
            events += [(kind if len(kinds) > 1 else "", kind, spec.to_event(kind)) for kind in kinds]
        for label, kind, event in events:
            loaded.cases.append(
                RunnableCase(
                    suite=str(path),
                    name=f"{case.name} [{label}]" if label else case.name,
                    line=line,
                    policy=policy,
                    event=event,
                    expect=expect,
                    secrets=dict(suite.secrets),
                    response_format=case.response_format or defaults.response_format,
                    spec=spec,
                    kind=kind,
                    token=token.model_dump(by_alias=True) if token is not None and spec is not None else None,
                )
            )
    return loaded
