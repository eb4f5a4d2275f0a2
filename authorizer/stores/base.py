"""A policy store: hands out the current compiled policy, keeping the last good one.

`current()` is the policy to decide with, or None when no good policy was ever loaded (then every
request is refused). A policy that fails to load never replaces a good one. A store attaches the
policy's generated decision function when it accepts the policy.
"""

from __future__ import annotations

import logging
from pathlib import Path

from authorizer.decide.generated import with_generated
from authorizer.policy.ir import CompiledPolicy

log = logging.getLogger("authorizer.policy")


class PolicyStore:
    """Base: a store that loads once and keeps what it got."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.last_error: str | None = None
        self._policy: CompiledPolicy | None = None

    def current(self) -> CompiledPolicy | None:
        return self._policy

    def _accept(self, policy: CompiledPolicy, packaged: Path | None = None) -> None:
        """Take `policy`, with its generated function (compiled by `make package` when `packaged`
        holds its source)."""
        self._policy, self.last_error = with_generated(policy, self.location, packaged), None

    def _reject(self, error: str) -> None:
        self.last_error = error
        kept = f"keeping policy {self._policy.digest}" if self._policy else "no policy: refusing every request"
        log.error("policy %s failed to load (%s): %s", self.location, kept, error)


class StaticPolicyStore(PolicyStore):
    """A policy already compiled (the CLI, tests)."""

    def __init__(self, policy: CompiledPolicy, location: str = "<static>") -> None:
        super().__init__(location)
        self._accept(policy)
