"""Bearer tokens in test suites: per-run test keys, and the tokens cases state.

A run makes one test key per issuer name (and algorithm) in a temporary folder; every policy tested
is compiled with its issuers' key sets replaced by those keys (`TokenOptions.jwks`: nothing is
fetched, nothing shipped is needed), and a case's `token:` is minted with them at run time: its
claims over the issuer's own, `expires_in` from now, placed where the policy says tokens travel.
`cryptography` is imported only when a policy has `tokens:`.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authorizer.event.builder import RequestSpec
from authorizer.policy.compiler import TokenOptions
from authorizer.policy.ir import Tokens

if TYPE_CHECKING:
    from authorizer.tokens.mint import DevKey, KeyFolder
    from authorizer.tokens.verify import IssuerConfig


class TokenProblem(Exception):
    """A case's token cannot be made for its policy (an unknown issuer, a place tokens never travel)."""


class SuiteKeys:
    """The run's test keys, made on first use in a temporary folder removed with this object."""

    def __init__(self) -> None:
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._keys: KeyFolder | None = None

    def keys(self) -> KeyFolder:
        if self._keys is None:
            from authorizer.tokens.mint import KeyFolder

            self._folder = tempfile.TemporaryDirectory(prefix="authorizer-test-keys-")
            self._keys = KeyFolder(Path(self._folder.name))
        return self._keys

    def options(self) -> TokenOptions:
        """How the policies tested compile their issuers: with the run's keys."""
        return TokenOptions(jwks=self._jwks)

    def _jwks(self, name: str, config: IssuerConfig) -> Path:
        return self.keys().jwks(name, config)

    def key(self, name: str, config: IssuerConfig) -> DevKey:
        return self.keys().key(name, config.algorithms[0])

    def event(self, spec: RequestSpec, kind: str, token: dict[str, Any], tokens: Tokens | None) -> dict[str, Any]:
        """The case's event, carrying the token it states (TokenProblem when it cannot)."""
        from authorizer.tokens.mint import DevKey, mint_for

        name, config = issuer(tokens, token.get("issuer"))
        key = self.key(name, config)
        if token.get("forged"):
            key = DevKey.generate(key.alg, key.kid)
        text = mint_for(config, key, token.get("claims") or {}, expires_in=token.get("expires_in", 3600))
        assert tokens is not None
        return place(spec, kind, tokens, token.get("in"), text).to_event(kind)


def issuer(tokens: Tokens | None, name: str | None) -> tuple[str, IssuerConfig]:
    """The issuer a case names (or the policy's only one)."""
    if tokens is None:
        raise TokenProblem("the case has a token, but the policy has no `tokens:` section")
    names = list(tokens.issuers)
    if name is None:
        if len(names) != 1:
            raise TokenProblem(f"the policy has several issuers ({', '.join(names)}): name one (token.issuer)")
        name = names[0]
    if name not in tokens.issuers:
        raise TokenProblem(f"token.issuer {name!r} is not one of the policy's issuers ({', '.join(names)})")
    return name, tokens.issuers[name]


def place(spec: RequestSpec, kind: str, tokens: Tokens, where: str | None, token: str) -> RequestSpec:
    """The request with the token where it travels: `where` (one of `tokens.from`), else the first
    carrier but `token`; a TOKEN event carries it as its token. A header (or a TOKEN event's token)
    gets `Bearer ` under `scheme: bearer`."""
    carriers = tokens.carriers
    if where is None:
        where = next((c for c in carriers if c != "token"), carriers[0])
    elif where not in carriers:
        raise TokenProblem(f"token.in {where!r} is not where the policy's tokens travel ({', '.join(carriers)})")
    family, _, name = where.partition(".")
    schemed = tokens.scheme == "bearer" and (family in ("header", "token") or kind == "token")
    value = f"Bearer {token}" if schemed else token
    if kind == "token" or family == "token":
        return replace(spec, token=value)
    if family == "header":
        return replace(spec, headers={**spec.headers, name: value})
    if family == "query":
        return replace(spec, query={**spec.query, name: value})
    cookie = "; ".join(filter(None, [_cookie_header(spec), f"{name}={value}"]))
    headers = {k: v for k, v in spec.headers.items() if k.lower() != "cookie"}
    return replace(spec, headers={**headers, "Cookie": cookie})


def _cookie_header(spec: RequestSpec) -> str:
    values = [v for k, v in spec.headers.items() if k.lower() == "cookie"]
    return "; ".join(v if isinstance(v, str) else "; ".join(v) for v in values)
