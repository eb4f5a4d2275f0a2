"""Shared pieces of the token tests: development keys (generated once per run), an issuer, claims."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from authorizer.tokens.jwks import Fetcher, FetchSettings
from authorizer.tokens.mint import DevKey, write_jwks
from authorizer.tokens.verify import IssuerConfig, Issuers, compile_issuers

ISSUER = "https://issuer.example/pool"
AUDIENCE = "client-1"
NOW = 1_800_000_000.0
ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


@cache
def dev_key(alg: str, n: int = 0) -> DevKey:
    """One key per (algorithm, n) for the whole run: RSA key generation is slow."""
    return DevKey.generate(alg, kid=f"{alg.lower()}-{n}")


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": int(NOW) - 10,
        "exp": int(NOW) + 600,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def issuers(
    folder: Path,
    keys: list[DevKey],
    *,
    url: str | None = None,
    fetch: FetchSettings | None = None,
    fetcher: Fetcher | None = None,
    cache_size: int = 1024,
    **changes: Any,
) -> tuple[Issuers, IssuerConfig]:
    """An issuer whose packaged key set holds `keys` (none: a URL only), compiled."""
    path = None
    if keys:
        path = folder / "jwks.json"
        write_jwks(path, keys)
    config = IssuerConfig(
        **{
            "issuer": ISSUER,
            "audiences": (AUDIENCE,),
            "algorithms": ALGS,
            "jwks_file": path,
            "jwks_url": url,
            "fetch": fetch or FetchSettings(),
            **changes,
        }
    )
    extra: dict[str, Any] = {"fetcher": fetcher} if fetcher else {}
    return compile_issuers([config], cache_size=cache_size, **extra), config
