"""Where the policy comes from, and keeping the last good one.

A store hands the handler the current CompiledPolicy, or None when no good policy was ever
loaded (then every request is refused). A policy that fails to load never replaces a good one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from authorizer.policy.compiled import CompiledPolicy
from authorizer.policy.errors import PolicyError
from authorizer.policy.load import load_policy_file
from authorizer.secrets import SecretLookup

log = logging.getLogger("authorizer.policy")


class PolicyStore:
    """Base: a store that loads once and keeps what it got."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.last_error: str | None = None
        self._policy: CompiledPolicy | None = None

    def current(self) -> CompiledPolicy | None:
        return self._policy

    def _accept(self, policy: CompiledPolicy) -> None:
        self._policy, self.last_error = policy, None
        if policy.fast is None:
            log.warning("policy %s: no generated decision function; the engine decides every request", self.location)

    def _reject(self, error: str) -> None:
        self.last_error = error
        kept = f"keeping policy {self._policy.digest}" if self._policy else "no policy: refusing every request"
        log.error("policy %s failed to load (%s): %s", self.location, kept, error)


class StaticPolicyStore(PolicyStore):
    """A policy already compiled (the CLI, tests)."""

    def __init__(self, policy: CompiledPolicy, location: str = "<static>") -> None:
        super().__init__(location)
        self._accept(policy)


class FilePolicyStore(PolicyStore):
    """A policy file, typically bundled with the function; `reload()` re-reads it if it changed."""

    def __init__(self, location: str, secrets: SecretLookup | None = None) -> None:
        super().__init__(location)
        self.secrets = secrets
        self._mtime: float | None = None
        self.reload()

    def reload(self) -> bool:
        """Load the file if it changed on disk; True when a new policy was accepted."""
        path = Path(self.location)
        try:
            mtime = path.stat().st_mtime
        except OSError as exc:
            if self._mtime is None or self._policy is None:
                self._mtime = -1.0
                self._reject(f"cannot read {path}: {exc.strerror or exc}")
            return False
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        try:
            policy = load_policy_file(path, secrets=self.secrets)
        except PolicyError as exc:
            self._reject(str(exc))
            return False
        except Exception as exc:  # a loader bug must refuse requests, not fail the cold start with a 500
            self._reject(f"internal error while loading: {type(exc).__name__}")
            return False
        self._accept(policy)
        return True


REMOTE_PREFIXES = ("s3:", "ssm:", "appconfig:")  # "s3:" too, to explain that s3:// is meant


def open_store(
    location: str, secrets: SecretLookup | None = None, *, refresh_seconds: int | None = None
) -> PolicyStore:
    """The store for a location (AUTHORIZER_POLICY): a file path, or a remote source fetched again
    after `refresh_seconds` (default: AUTHORIZER_REFRESH_SECONDS' default). boto3 is imported only
    for a remote source."""
    if location.startswith(REMOTE_PREFIXES):
        from authorizer.policy.remote import RemotePolicyStore
        from authorizer.settings import Settings

        refresh = Settings().refresh_seconds if refresh_seconds is None else refresh_seconds
        return RemotePolicyStore(location, secrets, refresh_seconds=refresh)
    return FilePolicyStore(location, secrets)
