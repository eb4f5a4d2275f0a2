"""`jwt.*` sources: the `tokens:` section compiled into the lookups of a request's verified claims.

Imported only for policies that declare `tokens:` (it imports `authorizer.tokens.verify`, and with
it `cryptography`): a policy without tokens never pays for them.

- **The token** is read from the carriers (`from`), in order: exactly one may hold a value, and that
  value exactly one token (`token.multiple` otherwise). With `scheme: bearer`, a header's (or a
  TOKEN event's) value must be `Bearer <jwt>`, scheme in any case (`token.scheme` otherwise); query
  parameters and cookies carry the bare token. A scheme where none belongs is refused too.
- **Verified once per request, lazily**: the first `jwt.*` read computes `Tokens.verified` (a
  `sources.Basis`, kept in `Request.found`) with `now` from the policy's clock; the issuers' own
  cache keeps verified tokens across requests (authorizer/tokens/cache.py).
- **No claims on any failure**: every `jwt.*` source is then missing, so its conditions are unknown;
  the reason code (`token.expired`, ...) is what `Basis.missing_because` gives traces and the
  decision's reason, never the token.
- **Claim values**: a string, number or boolean is one value; an array is several, like a repeated
  header (`values:` says how a condition takes them; its items must be scalars, else it is missing);
  an object, null, "" or [] is missing. `jwt.scopes` is `scope` split on spaces then `scp`;
  `jwt.issuer` the name the policy gives the token's issuer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from authorizer.event.arn import ExecuteApiArn
from authorizer.event.kinds import EventKind
from authorizer.event.readers import Values
from authorizer.event.request import Request
from authorizer.policy.errors import Loc
from authorizer.policy.ir import Tokens
from authorizer.policy.sources import (
    Basis,
    Getter,
    Lookup,
    SourceError,
    check_source,
    claim_path,
    getter_of,
    lookup,
    source_key,
)
from authorizer.tokens.reasons import Failure
from authorizer.tokens.verify import ConfigError, IssuerConfig, Issuers, Verified, cognito, compile_issuers

VERIFIED = "jwt"  # where `Request.found` keeps the verification (never a source's key: those name a claim)
CARRIERS = ("token", "header", "query", "cookie")  # the families a token can travel in
SCHEMED = ("token", "header")  # the carriers `scheme: bearer` applies to
_BEARER = "bearer "


def compile_tokens(
    section: Mapping[str, Any],
    *,
    base: Path,
    jwks: Callable[[str, IssuerConfig], Path] | None = None,
    clock: Callable[[], float] | None = None,
) -> tuple[Tokens | None, list[tuple[Loc, str]]]:
    """The compiled section, or every problem with its location in the policy. Key sets are read here,
    relative to `base` (the policy's folder); `jwks` replaces each issuer's (name and configuration →
    a JWKS file; nothing is fetched then); `clock` gives `now`, in seconds since the epoch."""
    errors: list[tuple[Loc, str]] = []
    carriers: list[str] = []
    for i, text in enumerate(section["from"]):
        try:
            family, _ = check_source(text)
        except SourceError as exc:
            errors.append((("tokens", "from", i), str(exc)))
            continue
        if family not in CARRIERS:
            errors.append((("tokens", "from", i), f"{text} cannot carry a token: token, header.X, query.X or cookie.X"))
        elif source_key(text) in {source_key(c) for c in carriers}:
            errors.append((("tokens", "from", i), f"{text} is listed twice"))
        else:
            carriers.append(text)
    leeway = float(section.get("leeway", 0))
    names: list[str] = []
    configs: list[IssuerConfig] = []
    for name, spec in section["issuers"].items():
        config = _issuer(name, spec, base, leeway, errors)
        if config is not None:
            names.append(name)
            configs.append(config if jwks is None else _replaced(config, jwks(name, config)))
    try:
        issuers = compile_issuers(configs)
    except ConfigError as exc:
        errors += dict.fromkeys(_located(where, message, names, section) for where, message in exc.problems)
        return None, errors
    if errors:
        return None, errors
    scheme = section.get("scheme", "bearer")
    readers = tuple((getter_of(lookup(c)), scheme == "bearer" and c.partition(".")[0] in SCHEMED) for c in carriers)
    basis = Basis(VERIFIED, _verifier(readers, issuers, clock or time.time), _missing_because)
    return Tokens(tuple(carriers), scheme, leeway, dict(zip(names, configs, strict=True)), basis), []


def claim_lookup(tokens: Tokens, source: str) -> Lookup:
    """The lookup of one `jwt.*` source (SourceError when it is not one), read from `tokens.verified`."""
    take: Callable[[Any], Values | None]
    if source == "jwt.scopes":
        take = _scopes
    elif source == "jwt.issuer":
        take = _issuer_name({config.issuer: name for name, config in tokens.issuers.items()})
    else:
        take = _claim(claim_path(source))
    compute = tokens.verified.compute

    def read(ev: dict[str, Any], kind: EventKind, arn: ExecuteApiArn) -> Values | None:
        return take(compute(Request(ev, (kind, "", arn))))  # afresh, without a request's memo (getter_of keeps one)

    return Lookup(source_key(source), read, basis=tokens.verified, take=take)


# -- the section ------------------------------------------------------------------------------------
def _issuer(
    name: str, spec: Mapping[str, Any], base: Path, leeway: float, errors: list[tuple[Loc, str]]
) -> IssuerConfig | None:
    loc: Loc = ("tokens", "issuers", name)
    jwks = spec.get("jwks", {})
    file = base / jwks["file"] if "file" in jwks else None
    pool = spec.get("cognito")
    if pool is not None:
        extra = [key for key in ("issuer", "audiences", "algorithms") if key in spec]
        if extra or "url" in jwks:
            given = [*extra, *(["jwks.url"] if "url" in jwks else [])]
            errors.append((loc, f"with `cognito:`, {', '.join(given)} follow from the user pool: drop them"))
            return None
        try:
            pool_id, clients = pool["user_pool_id"], pool["client_ids"]
            return cognito(pool_id, clients, pool.get("token_use"), jwks_file=file, leeway=leeway)
        except ConfigError as exc:
            errors += [((*loc, "cognito", field), message) for field, message in exc.problems]
            return None
    missing = [key for key in ("issuer", "audiences") if key not in spec]
    if missing:
        errors.append((loc, f"issuer {name!r} needs {' and '.join(missing)} (or `cognito:` for a Cognito user pool)"))
        return None
    return IssuerConfig(
        issuer=spec["issuer"],
        audiences=tuple(spec["audiences"]),
        algorithms=tuple(spec.get("algorithms", ("RS256",))),
        jwks_file=file,
        jwks_url=jwks.get("url"),
        leeway=leeway,
    )


def _replaced(config: IssuerConfig, jwks_file: Path) -> IssuerConfig:
    return config._replace(jwks_file=jwks_file, jwks_url=None)


_FIELDS: dict[str, Loc] = {
    "issuer": ("issuer",),
    "audiences": ("audiences",),
    "algorithms": ("algorithms",),
    "jwks_file": ("jwks", "file"),
    "jwks_url": ("jwks", "url"),
    "jwks": ("jwks",),
}
_COGNITO_FIELDS: dict[str, Loc] = {
    "issuer": ("cognito", "user_pool_id"),
    "audiences": ("cognito", "client_ids"),
    "token_use": ("cognito", "token_use"),
}


def _located(where: str, message: str, names: list[str], section: Mapping[str, Any]) -> tuple[Loc, str]:
    """A `tokens.verify.ConfigError` problem (`issuers[i].field`) at its place in the policy."""
    head, _, field = where.partition(".")
    name = names[int(head[len("issuers[") : -1])]
    label = field.replace("jwks_", "jwks.")
    if field == "leeway":
        return ("tokens", "leeway"), f"leeway: {message}"
    fields = {**_FIELDS, **_COGNITO_FIELDS} if "cognito" in section["issuers"][name] else _FIELDS
    return ("tokens", "issuers", name, *fields.get(field, ())), f"{label}: {message}"


# -- per request ------------------------------------------------------------------------------------
def _verifier(
    carriers: tuple[tuple[Getter, bool], ...], issuers: Issuers, clock: Callable[[], float]
) -> Callable[[Request], Verified | Failure]:
    """The request's token, verified: `Verified`, or `Failure` with the reason (never raises for a bad token).
    Carriers are read through their getters: a header the policy read already is not read again."""

    def verified(r: Request) -> Verified | Failure:
        held: tuple[Values, bool] | None = None
        for carrier, schemed in carriers:
            values = carrier(r)
            if values is None:
                continue
            if held is not None:
                return Failure("token.multiple")
            held = values, schemed
        if held is None:
            return Failure("token.missing")
        values, schemed = held
        text = values[0]
        if len(values) != 1 or not isinstance(text, str):
            return Failure("token.multiple" if len(values) != 1 else "token.malformed")
        if schemed:
            if text[:7].lower() != _BEARER:
                return Failure("token.scheme")
            text = text[7:]
        if text[:1] in "Bb" and text[:7].lower() == _BEARER:  # a scheme where none belongs, or twice
            return Failure("token.scheme")
        return issuers.verify(text, clock())

    return verified


def _missing_because(value: Any) -> str | None:
    return value.reason if isinstance(value, Failure) else None


_SCALARS = (str, int, float, bool)  # what verified JSON holds besides tuples and read-only mappings


def _values(node: Any) -> Values | None:
    """A claim's value as a source's values (see the module doc): exact types, as JSON decoding gives them."""
    kind = type(node)
    if kind is str:
        return (node,) if node else None
    if kind in _SCALARS:
        return (node,)
    if kind is not tuple:
        return None  # an object, or null
    if "" in node:
        node = tuple(v for v in node if v != "")
    for item in node:
        if type(item) not in _SCALARS:
            return None
    return node or None


def _claim(path: tuple[str, ...]) -> Callable[[Any], Values | None]:
    def take(verified: Any) -> Values | None:
        if not isinstance(verified, Verified):
            return None
        node: Any = verified.claims
        for name in path:  # verified claims are read-only mappings all the way down (verify._frozen)
            node = node.get(name) if type(node) is MappingProxyType else None
        return _values(node)

    return take


def _scopes(verified: Any) -> Values | None:
    return _values(verified.scopes) if isinstance(verified, Verified) else None


def _issuer_name(names: Mapping[str, str]) -> Callable[[Any], Values | None]:
    def take(verified: Any) -> Values | None:
        name = names.get(verified.issuer) if isinstance(verified, Verified) else None
        return None if name is None else (name,)

    return take
