"""The emulated API's routes: which one a request takes, and the path parameters it binds.

A route is `METHOD /path` (`ANY` for every method), its segments literal, `{name}` (one
non-empty segment) or, last, `{name+}` (the rest of the path). As API Gateway selects them, the
most specific route wins: segment by segment a literal beats `{name}`, which beats `{name+}`; then
a method beats `ANY` (docs/api-gateway.md). A request no route matches takes the catch-all (REST and
HTTP API 1.0: `ANY /{proxy+}`, or `/` for the root; HTTP API 2.0: `$default`), as with no routes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
_PARAMETER = re.compile(r"\{([A-Za-z0-9._-]+)(\+?)\}")


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # the template, e.g. /pets/{id}
    segments: tuple[str, ...]  # each literal, or `{name}` / `{name+}`

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def specificity(self) -> tuple[tuple[int, ...], bool]:
        """Sorts the more specific first: per segment literal (0), `{name}` (1), `{name+}` (2); then ANY last."""
        kinds = tuple(2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in self.segments)
        return kinds, self.method == "ANY"

    def bind(self, method: str, parts: list[str]) -> dict[str, str] | None:
        """The path parameters when this route takes the request, else None."""
        if self.method not in ("ANY", method):
            return None
        bound: dict[str, str] = {}
        for i, segment in enumerate(self.segments):
            if segment.endswith("+}"):
                rest = "/".join(parts[i:])
                if not rest:
                    return None
                bound[segment[1:-2]] = rest
                return bound
            if i >= len(parts) or not parts[i]:
                return None
            if segment.startswith("{"):
                bound[segment[1:-1]] = parts[i]
            elif segment != parts[i]:
                return None
        return bound if len(parts) == len(self.segments) else None


def parse_route(text: str) -> Route:
    """`GET /pets/{id}` → Route; ValueError saying what is wrong."""
    method, _, path = text.strip().partition(" ")
    path = path.strip()
    if method.upper() not in METHODS or not path.startswith("/"):
        raise ValueError(f"route {text!r}: expected METHOD /path, METHOD one of {', '.join(METHODS)}")
    segments = tuple(path.strip("/").split("/")) if path != "/" else ()
    names = []
    for i, segment in enumerate(segments):
        found = _PARAMETER.fullmatch(segment)
        if not segment:
            raise ValueError(f"route {text!r}: an empty path segment")
        if found is None and ("{" in segment or "}" in segment):
            raise ValueError(f"route {text!r}: a path parameter is a whole segment, {{name}} or a last {{name+}}")
        if found is not None:
            if found.group(2) and i != len(segments) - 1:
                raise ValueError(f"route {text!r}: {segment} must be the last segment")
            names.append(found.group(1))
    if len(names) != len(set(names)):
        raise ValueError(f"route {text!r}: a path parameter named twice")
    return Route(method.upper(), "/" + "/".join(segments), segments)


@dataclass(frozen=True, slots=True)
class Matched:
    route: Route
    parameters: dict[str, str]


class RouteTable:
    """The routes, most specific first."""

    def __init__(self, routes: Iterable[Route]) -> None:
        unique = {route.key: route for route in routes}
        self.routes = tuple(sorted(unique.values(), key=Route.specificity))

    def match(self, method: str, path: str) -> Matched | None:
        parts = path[1:].split("/") if path != "/" else []  # strict: `/pets/` is not `/pets`
        for route in self.routes:
            bound = route.bind(method.upper(), parts)
            if bound is not None:
                return Matched(route, bound)
        return None
