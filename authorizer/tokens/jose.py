"""The compact JWS form, parsed strictly: the one shape of token this verifier accepts.

Three canonical base64url parts; a header and a payload that are UTF-8 JSON objects without
duplicate names, `NaN` or `Infinity`. Five parts is an encrypted token (JWE), refused. Header
members that change what the signature means or where its key comes from are never honoured:
`crit` (an extension we would have to understand), `b64` (unencoded payloads), `zip` and `enc`
(JWE) and `cty: JWT` (a nested token) refuse the token; `jwk`, `jku`, `x5u`, `x5c` and `x5t` are
never read, so keys come only from the issuer's configured key set. Nothing here looks at claims.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from authorizer.tokens import b64
from authorizer.tokens.reasons import Failure

MAX_TOKEN_LENGTH = 10_240  # characters: API Gateway's request headers hold 10 KB in all
_REFUSED_MEMBERS = ("crit", "b64", "zip", "enc")


class Parsed(NamedTuple):
    """A token in parts; nothing in it is verified yet."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate name")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError("not a number")


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_no_constant)


def strict_json(raw: bytes) -> Any:
    """JSON from UTF-8 bytes; ValueError on duplicate names, NaN/Infinity, any other encoding or syntax.

    A RecursionError (nesting past the interpreter's limit) propagates: callers treat any exception
    as a refusal.
    """
    return _DECODER.decode(raw.decode("utf-8"))


def _json_object(part: str) -> dict[str, Any] | None:
    raw = b64.decode(part)
    if raw is None:
        return None
    try:
        value = strict_json(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return value if isinstance(value, dict) else None


def parse(token: str) -> Parsed | Failure:
    """A compact JWS in parts, or why it is not one this verifier accepts."""
    if len(token) > MAX_TOKEN_LENGTH:
        return Failure("token.too_large")
    parts = token.split(".")
    if len(parts) != 3:
        return Failure("token.encrypted" if len(parts) == 5 else "token.malformed")
    header, claims, signature = _json_object(parts[0]), _json_object(parts[1]), b64.decode(parts[2])
    if header is None or claims is None or signature is None:
        return Failure("token.malformed")
    if any(member in header for member in _REFUSED_MEMBERS):
        return Failure("token.encrypted" if "enc" in header else "token.header")
    cty = header.get("cty")
    if isinstance(cty, str) and cty.upper() in ("JWT", "APPLICATION/JWT"):
        return Failure("token.header")
    return Parsed(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)
