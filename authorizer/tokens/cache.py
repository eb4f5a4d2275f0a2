"""Verified tokens, remembered until they expire: a repeated token costs a dictionary lookup.

Keyed by the exact token text (one spelling per token: b64.py), bounded (the oldest entry goes
first), each entry valid from its `nbf`/`iat` to its `exp` (leeway included) and never beyond the
age limit of the key that verified it. `clear` runs whenever an issuer's keys change, so a removed
key's tokens are verified again, and fail. Only verified tokens are kept: a refusal is never cached.
The lookup's timing reveals whether a token was seen, which its sender knows already.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class TokenCache(Generic[T]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[str, tuple[T, float, float]] = {}  # token → (value, valid from, valid until)
        self._lock = threading.Lock()  # writers only: a lookup is one dict read

    def __repr__(self) -> str:
        return f"TokenCache({len(self._entries)}/{self._size})"  # never the keys: they are tokens

    def get(self, token: str, now: float) -> T | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        value, valid_from, valid_until = entry
        return value if valid_from <= now < valid_until else None  # stale entries are evicted first

    def put(self, token: str, value: T, valid_from: float, valid_until: float) -> None:
        if self._size <= 0:
            return
        with self._lock:
            entries = self._entries
            while len(entries) >= self._size:
                del entries[next(iter(entries))]
            entries[token] = (value, valid_from, valid_until)

    def clear(self) -> None:
        with self._lock:
            self._entries = {}

    def __len__(self) -> int:
        return len(self._entries)
