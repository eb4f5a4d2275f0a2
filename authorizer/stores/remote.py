"""Policies kept outside the function: S3, SSM Parameter Store, AppConfig.

Changing who gets in should not need a code deploy: the policy is fetched through Powertools'
parameters utility (its providers and cache), used for `refresh_seconds`, then fetched again. A new
text that fails to load never replaces the last good policy, and neither does a failed fetch: both
are logged as errors and the last good policy keeps serving. With none, every request is refused.

This module imports boto3; `authorizer.stores.open_store` imports it only when such a location is configured.

| AUTHORIZER_POLICY | fetched with |
|---|---|
| `s3://bucket/key` | S3 GetObject (a Powertools provider of our own: Powertools has none for S3) |
| `ssm:/parameter/name` | SSM GetParameter (a String parameter: policies hold no secrets, `secret:` does) |
| `appconfig:application/environment/profile` | AppConfig Data sessions (names or IDs) |
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

import boto3
from aws_lambda_powertools.utilities.parameters import AppConfigProvider, SSMProvider
from aws_lambda_powertools.utilities.parameters.base import BaseProvider

from authorizer.policy.errors import PolicyError
from authorizer.policy.ir import CompiledPolicy
from authorizer.policy.load import MAX_POLICY_BYTES, digest_of, load
from authorizer.policy.secrets import SecretLookup, request_budget_config
from authorizer.stores.base import PolicyStore

log = logging.getLogger("authorizer.policy")

# A fetch happens inside a request: give up within API Gateway's budget, then keep the last good policy.
BOTO_CONFIG = request_budget_config()
# Without any good policy every request is refused, so retry sooner than the refresh period.
RETRY_WITHOUT_POLICY_SECONDS = 5

SourceKind = Literal["s3", "ssm", "appconfig"]


@dataclass(frozen=True, slots=True)
class RemoteLocation:
    """A parsed AUTHORIZER_POLICY: which service, and the parts that name the policy there."""

    kind: SourceKind
    parts: tuple[str, ...]


_FORMS: dict[SourceKind, tuple[str, int]] = {
    "s3": ("s3://bucket/key", 2),
    "ssm": ("ssm:/parameter/name", 1),
    "appconfig": ("appconfig:application/environment/profile", 3),
}


def parse_location(location: str) -> RemoteLocation:
    """`s3://b/k`, `ssm:/n`, `appconfig:a/e/p` → RemoteLocation; ValueError naming the expected form."""
    scheme, _, rest = location.partition(":")
    if scheme not in _FORMS:
        raise ValueError(f"{location!r} is not a remote policy location")
    kind: SourceKind = scheme
    form, count = _FORMS[kind]
    if kind == "s3":
        parts = tuple(rest[2:].split("/", 1)) if rest.startswith("//") else ()
    elif kind == "ssm":
        parts = (rest,)
    else:
        parts = tuple(rest.split("/"))
    if len(parts) != count or not all(parts):
        raise ValueError(f"policy location {location!r} is malformed: expected {form}")
    return RemoteLocation(kind, parts)


class S3Provider(BaseProvider):
    """Powertools' provider interface (and cache) over S3 GetObject; names are `bucket/key`."""

    def __init__(self, boto_config: Any = None) -> None:
        self.client = boto3.client("s3", config=boto_config)
        super().__init__(client=self.client)  # type: ignore[no-untyped-call]

    def _get(self, name: str, **sdk_options: Any) -> bytes:
        bucket, key = name.split("/", 1)
        body = self.client.get_object(Bucket=bucket, Key=key, **sdk_options)["Body"]
        with body:  # one byte past the limit is enough for `load` to refuse an oversized policy
            data: bytes = body.read(MAX_POLICY_BYTES + 1)
        return data

    def _get_multiple(self, path: str, **sdk_options: Any) -> dict[str, str]:
        raise NotImplementedError("a policy is one object")


def open_provider(where: RemoteLocation) -> tuple[BaseProvider, str]:
    """The Powertools provider for a location, and the name to ask it for."""
    if where.kind == "s3":
        return S3Provider(boto_config=BOTO_CONFIG), "/".join(where.parts)
    if where.kind == "ssm":
        return SSMProvider(boto_config=BOTO_CONFIG), where.parts[0]
    application, environment, profile = where.parts
    return AppConfigProvider(environment=environment, application=application, boto_config=BOTO_CONFIG), profile


class RemotePolicyStore(PolicyStore):
    """A policy fetched from S3, SSM or AppConfig, fetched again once `refresh_seconds` have passed.

    The refresh happens on the request that finds the policy stale (Lambda freezes background
    threads between invocations). Deadlines use the wall clock, as Powertools' cache does, so a
    SnapStart snapshot restored hours later fetches at once instead of serving its old policy.
    """

    def __init__(self, location: str, secrets: SecretLookup | None = None, *, refresh_seconds: int) -> None:
        super().__init__(location)
        self.secrets = secrets
        self.refresh_seconds = refresh_seconds
        self._next_fetch = 0.0
        self._rejected: tuple[str, str] | None = None  # (digest, error) of the last text that failed to load
        self._provider: BaseProvider | None = None
        self._name = ""
        try:
            self._where: RemoteLocation | None = parse_location(location)
        except ValueError as exc:  # a malformed location never gets better: refuse every request, say why
            self._where = None
            self._reject(str(exc))
            return
        self.refresh()

    def current(self) -> CompiledPolicy | None:
        if time.time() >= self._next_fetch:
            self.refresh()
        return self._policy

    def refresh(self) -> bool:
        """Fetch (Powertools' cache permitting) and load a changed text; True when a new policy was accepted."""
        if self._where is None:
            return False
        try:
            if self._provider is None:  # opened here, so that a client that cannot be made is retried later
                self._provider, self._name = open_provider(self._where)
            return self._fetch_and_load(self._provider)
        except Exception as exc:  # no region, no credentials, no boto3: every request refused until it works
            first_line = (str(exc).splitlines() or [""])[0][:200]
            self._reject(f"cannot open the policy store: {type(exc).__name__}: {first_line}")
            return False
        finally:  # scheduled after the fetch, so that Powertools' cache entry has expired by then
            wait = self.refresh_seconds if self._policy is not None else RETRY_WITHOUT_POLICY_SECONDS
            self._next_fetch = time.time() + min(self.refresh_seconds, wait)

    def _fetch_and_load(self, provider: BaseProvider) -> bool:
        try:
            value = provider.get(self._name, max_age=self.refresh_seconds)
        except Exception as exc:  # GetParameterError: unreachable, missing, access denied, ...
            self._reject(f"cannot fetch the policy: {exc}")
            return False
        raw = value.encode() if isinstance(value, str) else value
        if not isinstance(raw, bytes):
            self._reject(f"cannot fetch the policy: got {type(value).__name__}, not text")
            return False
        digest = digest_of(raw)
        if self._policy is not None and digest.startswith(self._policy.digest):
            self.last_error = None  # the same text again (after a failed fetch, perhaps): nothing to do
            return False
        if self._rejected is not None and self._rejected[0] == digest:
            self._reject(self._rejected[1])  # still the broken version: say so again, without recompiling
            return False
        try:
            policy = load(self.location, raw, secrets=self.secrets).policy
        except Exception as exc:  # a PolicyError; or a loader bug, which must refuse requests, not escape
            error = str(exc) if isinstance(exc, PolicyError) else f"internal error while loading: {type(exc).__name__}"
            self._rejected = (digest, error)
            self._reject(error)
            return False
        previous = self._policy.digest if self._policy is not None else "none"
        self._accept(policy)
        log.info("policy %s loaded: version %s replaces %s", self.location, policy.digest, previous)
        return True
