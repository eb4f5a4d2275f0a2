"""An issuer's keys: the packaged key set first, then the last fetched one, refreshed sparingly.

- **Never at import or cold start**: a key set is fetched only inside a request that needs it (a
  `kid` found nowhere, or fetched keys older than `refresh`), with a short timeout.
- **Penalty box**: at most one fetch per issuer per `interval`, whatever asks for it, so a flood of
  tokens with made-up `kid`s costs one fetch per interval, not one per token. An unknown issuer
  never gets here (the issuer is chosen first).
- **Last good keys**: a failed fetch, or a response holding no usable key, keeps the keys there
  are. A successful fetch replaces the fetched set whole: a key removed upstream stops verifying.
- **Ageing**: fetched keys stop verifying `max_age` after the fetch that brought them, even when
  every later fetch failed, so a revoked key cannot outlive an outage of the key endpoint forever.
- **Change**: when a fetch changes the keys, `on_change` runs (the verified-token cache is flushed).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import NamedTuple

from authorizer.tokens import fetch
from authorizer.tokens.jose import strict_json
from authorizer.tokens.keys import JwkError, PublicKey, from_jwk
from authorizer.tokens.reasons import Failure

log = logging.getLogger("authorizer.tokens")
Fetcher = Callable[[str, float, int], bytes]  # (url, timeout, max bytes) → body; raises on failure


class KeySet(NamedTuple):
    """The usable keys of one JWKS document by kid, and why the others were left out."""

    keys: dict[str, PublicKey]
    problems: tuple[str, ...]


def parse_jwks(raw: bytes) -> KeySet:
    """Keys from a JWKS document; ValueError when it is not one. A kid held by two keys is dropped."""
    try:
        document = strict_json(raw)
    except RecursionError:
        raise ValueError("not a JWKS document: nested too deep") from None
    listed = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        raise ValueError("not a JWKS document: no 'keys' list")
    keys: dict[str, PublicKey] = {}
    problems: list[str] = []
    repeated: set[str] = set()
    for position, jwk in enumerate(listed):
        try:
            key = from_jwk(jwk)
        except JwkError as exc:
            problems.append(f"key {position + 1}: {exc}")
            continue
        if key.kid in keys or key.kid in repeated:
            repeated.add(key.kid)
            problems.append(f"key {position + 1}: its kid is used by another key: neither is used")
            keys.pop(key.kid, None)
            continue
        keys[key.kid] = key
    return KeySet(keys, tuple(problems))


class FetchSettings(NamedTuple):
    """How an issuer's key set is fetched (seconds, bytes)."""

    timeout: float = 1.5  # one fetch, connection to last byte: it happens inside a request
    max_bytes: int = 131_072
    interval: float = 10.0  # penalty box: at least this long between two fetches
    refresh: float = 3_600.0  # fetched keys older than this are fetched again when next used
    max_age: float = 86_400.0  # ... and stop verifying at this age, fetched again or not


class _Fetched(NamedTuple):
    keys: dict[str, PublicKey]
    at: float


class IssuerKeys:
    """One issuer's keys: `key(kid, now)` → the key and until when it may verify, or a reason code."""

    def __init__(
        self,
        packaged: dict[str, PublicKey],
        url: str | None,
        settings: FetchSettings,
        on_change: Callable[[], None],
        fetcher: Fetcher = fetch.get,
    ) -> None:
        self._packaged = packaged
        self._url = url
        self._settings = settings
        self._on_change = on_change
        self._fetcher = fetcher
        self._fetched: _Fetched | None = None
        self._last_attempt = -math.inf
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        fetched = len(self._fetched.keys) if self._fetched else 0
        return f"IssuerKeys(packaged={len(self._packaged)}, fetched={fetched}, url={self._url!r})"

    def key(self, kid: str, now: float) -> tuple[PublicKey, float] | Failure:
        """The key named `kid` and the time it stops verifying, or why there is none."""
        packaged = self._packaged.get(kid)
        if packaged is not None:
            return packaged, math.inf
        fetched = self._fetched
        if self._url is not None and (
            fetched is None or kid not in fetched.keys or now - fetched.at >= self._settings.refresh
        ):
            self._refresh(now)
            fetched = self._fetched
        if fetched is not None and now - fetched.at < self._settings.max_age:
            key = fetched.keys.get(kid)
            if key is not None:
                return key, fetched.at + self._settings.max_age
            return Failure("token.unknown_kid")
        return Failure("token.unknown_kid" if self._packaged else "token.keys_unavailable")

    def _refresh(self, now: float) -> None:
        """Fetch the key set if the penalty box allows it and no other thread is fetching it."""
        if now - self._last_attempt < self._settings.interval or not self._lock.acquire(blocking=False):
            return
        try:
            if now - self._last_attempt < self._settings.interval:  # another thread fetched meanwhile
                return
            self._last_attempt = now
            self._fetch(now)
        finally:
            self._lock.release()

    def _fetch(self, now: float) -> None:
        assert self._url is not None
        settings = self._settings
        try:
            fetched = parse_jwks(self._fetcher(self._url, settings.timeout, settings.max_bytes))
        except (fetch.FetchError, ValueError) as exc:
            log.warning("key set fetch failed, keeping the last good keys: %s (%s)", exc, self._url)
            return
        for problem in fetched.problems:
            log.warning("fetched key set %s: %s", self._url, problem)
        if not fetched.keys:
            log.warning("fetched key set holds no usable key, keeping the last good keys (%s)", self._url)
            return
        previous = self._fetched
        self._fetched = _Fetched(fetched.keys, now)
        if previous is None or _fingerprints(previous.keys) != _fingerprints(fetched.keys):
            self._on_change()


def _fingerprints(keys: dict[str, PublicKey]) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {kid: (key.alg, key.material) for kid, key in keys.items()}
