"""Base64url without padding, canonical only (RFC 7515 §2).

One token must have one spelling: padding, the standard alphabet, whitespace and non-zero unused
trailing bits are refused, so a token cannot be altered without changing its signed bytes, and a
cache keyed by the token text cannot hold two spellings of one token.
"""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def decode(text: str) -> bytes | None:
    """The bytes `text` encodes, or None when it is not canonical base64url."""
    if len(text) % 4 == 1 or not _ALPHABET.fullmatch(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        return None
    return raw if encode(raw) == text else None  # unused trailing bits must be zero


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
