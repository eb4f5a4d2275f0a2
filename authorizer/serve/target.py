"""The request target: the path the gateway authorizes is the path it forwards.

The decision is taken from the raw request target (what the client sent, still percent-encoded),
never from a framework's normalised copy. Forms that different servers read differently are
refused before the authorizer (400): dot-segments (`/./`, `/../`, a trailing `/.` or `/..`, also
as `%2e`), encoded slashes and backslashes (`%2f`, `%5c`) and raw backslashes, malformed or
non-UTF-8 percent-encoding, and anything but ASCII in the target. Every other target is
authorized as its percent-decoded path, and the upstream receives exactly the raw bytes that were
decoded. API Gateway does not document what it does with these forms (docs/serve.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c)", re.IGNORECASE)


class BadTarget(ValueError):
    """A request target the gateway refuses (400) before the authorizer."""


@dataclass(frozen=True, slots=True)
class Target:
    """A request target below the stage: the raw path (forwarded), its decoded form (authorized)
    and the raw query string (forwarded as sent, parsed the same way for the event)."""

    raw_path: str
    path: str
    raw_query: str


def read_target(raw: str) -> Target:
    """The whole target as sent (`/dev/pets%20x?a=1`); BadTarget says why it is refused."""
    if not _PRINTABLE_ASCII.fullmatch(raw):
        raise BadTarget("the request target holds a character that is not printable ASCII")
    if not raw.startswith("/"):
        raise BadTarget("the request target is not a path (origin form: /path?query)")
    raw_path, _, raw_query = raw.partition("?")
    if "#" in raw:
        raise BadTarget("the request target holds a fragment (#)")
    if "\\" in raw_path or _ENCODED_SEPARATOR.search(raw_path):
        raise BadTarget("the path holds an encoded slash or a backslash (%2F, %5C, \\)")
    if _BAD_ESCAPE.search(raw_path):
        raise BadTarget("the path holds a malformed percent-escape")
    try:
        path = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        raise BadTarget("the path's percent-escapes are not UTF-8") from None
    if any(segment in (".", "..") for segment in path.split("/")):
        raise BadTarget("the path holds a dot-segment (/./ or /../, also as %2E)")
    return Target(raw_path, path, raw_query)


def below_stage(target: Target, stage: str) -> Target | None:
    """The target below the stage prefix (`/dev/pets` → `/pets`; `/dev` → `/`), or None when the
    path is outside the stage. The stage `$default` has no prefix."""
    if stage == "$default":
        return target
    prefix = "/" + stage
    if target.path != prefix and not target.path.startswith(prefix + "/"):
        return None
    # the first raw segment decodes to the stage (no encoded slash can hide in it): cut it off raw
    cut = target.raw_path.find("/", 1)
    raw_below = target.raw_path[cut:] if cut != -1 else ""
    return Target(raw_below or "/", target.path[len(prefix) :] or "/", target.raw_query)
