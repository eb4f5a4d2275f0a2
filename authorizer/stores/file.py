"""A policy file, typically bundled with the function, re-read when it changes."""

from __future__ import annotations

from pathlib import Path

from authorizer.policy.compiler import TokenOptions
from authorizer.policy.errors import PolicyError
from authorizer.policy.load import load_file, packaged_source
from authorizer.policy.secrets import SecretLookup
from authorizer.stores.base import PolicyStore


class FilePolicyStore(PolicyStore):
    """A policy file; `reload()` re-reads it if it changed. `tokens`: how its issuers are compiled
    (`authorizer serve --dev-keys` replaces their key sets with development keys)."""

    def __init__(self, location: str, secrets: SecretLookup | None = None, tokens: TokenOptions | None = None) -> None:
        super().__init__(location)
        self.secrets = secrets
        self.tokens = tokens
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
            policy = load_file(path, secrets=self.secrets, tokens=self.tokens).policy
        except PolicyError as exc:
            self._reject(str(exc))
            return False
        except Exception as exc:  # a loader bug must refuse requests, not fail the cold start with a 500
            self._reject(f"internal error while loading: {type(exc).__name__}")
            return False
        self._accept(policy, packaged_source(path))
        return True
