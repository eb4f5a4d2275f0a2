"""The identity-source values of one request: what API Gateway checks before calling the authorizer
and keys its cache on (the sources themselves: authorizer.policy.identity)."""

from __future__ import annotations

from authorizer.event.request import Request
from authorizer.policy.sources import Getter, getter


class IdentitySources:
    """Compiled lookups for a list of identity sources."""

    def __init__(self, sources: tuple[str, ...]) -> None:
        self.sources = sources
        self._getters: tuple[Getter, ...] = tuple(getter(s) for s in sources)

    def values(self, request: Request) -> tuple[str, ...] | str:
        """Each source's value (repeated values comma-joined), or the name of the first one missing."""
        out = []
        for source, get in zip(self.sources, self._getters, strict=True):
            found = get(request)
            if found is None:
                return source
            out.append(",".join(str(v) for v in found))
        return tuple(out)
