"""Issuers and the verification rules: a compiled configuration, then `verify(token, now)` per request.

`compile_issuers` turns issuer configurations into an `Issuers` once per policy load (reading
packaged key sets, refusing HMAC, `none`, unknown algorithms, weak keys and large leeways with the
field at fault); `Issuers.verify` answers `Verified` or `Failure(reason)` and never raises. The
order of the checks, each failing closed:

1. exactly one token, within the size limit (an optional `Bearer ` scheme is dropped);
2. the compact form (jose.py): three canonical parts, strict JSON, refused header members;
3. the issuer: the payload's `iss`, matched exactly against the configured ones, before any key is
   looked at, so an unknown issuer costs no fetch;
4. the key by `kid` (jwks.py: packaged, then fetched, within the penalty box);
5. `alg` equal to the key's pinned algorithm and allowed for the issuer;
6. the signature;
7. the claims: `exp` required, `exp`/`nbf`/`iat` numbers (never booleans) with the leeway,
   `aud` (or, without `aud`, `client_id`) among the audiences, Cognito's `token_use`, and the types
   of the claims read here (`sub`, `scope`, `scp`).

A verified token is cached (cache.py) until it expires or its issuer's keys change.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from authorizer.tokens import fetch, jose
from authorizer.tokens.cache import TokenCache
from authorizer.tokens.claims import shown
from authorizer.tokens.jwks import Fetcher, FetchSettings, IssuerKeys, parse_jwks
from authorizer.tokens.keys import ALGORITHMS, PublicKey
from authorizer.tokens.reasons import Failure

log = logging.getLogger("authorizer.tokens")

MAX_LEEWAY = 300.0
MAX_JWKS_FILE_BYTES = 1_048_576
_MAX_EXACT = 2**53  # claims beyond ±2^53 seconds are refused rather than rounded
_SEPARATORS = re.compile(r"[\s,]+")
_POOL_ID = re.compile(r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+")

TokenUse = Literal["id", "access"]


class ConfigError(ValueError):
    """Issuer configurations that cannot be used: (field, message) for each problem."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {message}" for where, message in problems))


class IssuerConfig(NamedTuple):
    """One issuer, as a policy declares it."""

    issuer: str  # matched exactly against `iss`, trailing slash included
    audiences: tuple[str, ...]  # `aud` must hold one; without `aud`, `client_id` must be one
    algorithms: tuple[str, ...] = ("RS256",)
    jwks_file: Path | None = None  # a packaged key set, used first
    jwks_url: str | None = None  # fetched inside requests when a kid is not packaged
    token_use: TokenUse | None = None  # Cognito: `id` or `access` tokens only
    leeway: float = 0.0  # seconds of clock skew allowed on exp, nbf and iat (at most 300)
    fetch: FetchSettings = FetchSettings()


def cognito(
    user_pool_id: str,
    client_ids: Sequence[str],
    token_use: TokenUse | None = None,
    *,
    jwks_file: Path | None = None,
    leeway: float = 0.0,
    fetch: FetchSettings | None = None,
) -> IssuerConfig:
    """An Amazon Cognito user pool as an issuer: its issuer URL and key-set URL follow from the pool id."""
    match = _POOL_ID.fullmatch(user_pool_id)
    if match is None:
        raise ConfigError([("user_pool_id", "a user pool id is REGION_ID, e.g. eu-west-1_AbC123xyz")])
    issuer = f"https://cognito-idp.{match['region']}.amazonaws.com/{user_pool_id}"
    return IssuerConfig(
        issuer=issuer,
        audiences=tuple(client_ids),
        algorithms=("RS256",),
        jwks_file=jwks_file,
        jwks_url=f"{issuer}/.well-known/jwks.json",
        token_use=token_use,
        leeway=leeway,
        fetch=fetch or FetchSettings(),
    )


class Verified(NamedTuple):
    """A verified token's issuer, key and claims (read-only: shared by every request presenting it)."""

    issuer: str
    kid: str
    alg: str
    claims: Mapping[str, Any]
    scopes: tuple[str, ...]  # `scope` (space-separated) then `scp` (a list or space-separated)

    @property
    def subject(self) -> str | None:
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) else None

    def __repr__(self) -> str:
        return f"Verified(issuer={self.issuer!r}, kid={self.kid!r}, alg={self.alg}, claims={shown(self.claims)!r})"


def _number(value: Any) -> bool:
    if type(value) is int:
        return -_MAX_EXACT <= value <= _MAX_EXACT
    return type(value) is float and math.isfinite(value)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


class Issuer:
    """One compiled issuer: its keys and its claim rules."""

    def __init__(self, config: IssuerConfig, keys: IssuerKeys) -> None:
        self.config = config
        self.keys = keys
        self.audiences = frozenset(config.audiences)
        self.algorithms = frozenset(config.algorithms)

    def __repr__(self) -> str:
        return f"Issuer({self.config.issuer!r}, {self.keys!r})"

    def check(self, claims: dict[str, Any], now: float) -> Failure | tuple[tuple[str, ...], float, float]:
        """The claim rules: the scopes and the window in which the token is valid, or why it is not."""
        exp: Any = claims.get("exp")
        nbf: Any = claims.get("nbf")
        iat: Any = claims.get("iat")
        if not _number(exp) or ("nbf" in claims and not _number(nbf)) or ("iat" in claims and not _number(iat)):
            return Failure("token.claims")
        aud: Any = claims.get("aud")
        scope: Any = claims.get("scope")
        scp: Any = claims.get("scp")
        if (
            ("aud" in claims and not (isinstance(aud, str) or _strings(aud)))
            or any(name in claims and not isinstance(claims[name], str) for name in ("sub", "client_id", "token_use"))
            or ("scope" in claims and not isinstance(scope, str))
            or ("scp" in claims and not (isinstance(scp, str) or _strings(scp)))
        ):
            return Failure("token.claims")
        leeway = self.config.leeway
        if now >= exp + leeway:
            return Failure("token.expired")
        if ("nbf" in claims and nbf > now + leeway) or ("iat" in claims and iat > now + leeway):
            return Failure("token.not_yet_valid")
        if "aud" in claims:
            if not any(a in self.audiences for a in ([aud] if isinstance(aud, str) else aud)):
                return Failure("token.audience")
        elif claims.get("client_id") not in self.audiences:
            return Failure("token.audience")
        if self.config.token_use is not None and claims.get("token_use") != self.config.token_use:
            return Failure("token.token_use")
        scopes = tuple(scope.split()) if "scope" in claims else ()
        if "scp" in claims:
            scopes += tuple(scp.split() if isinstance(scp, str) else scp)
        valid_from = max(nbf if "nbf" in claims else -math.inf, iat if "iat" in claims else -math.inf) - leeway
        return scopes, valid_from, exp + leeway


class Issuers:
    """The configured issuers of one policy: `verify(token, now)` per request."""

    def __init__(
        self,
        configs: Sequence[IssuerConfig],
        packaged: Sequence[dict[str, PublicKey]],
        cache_size: int,
        fetcher: Fetcher,
    ) -> None:
        self._cache: TokenCache[Verified] = TokenCache(cache_size)
        self.issuers: dict[str, Issuer] = {
            config.issuer: Issuer(config, IssuerKeys(keys, config.jwks_url, config.fetch, self._cache.clear, fetcher))
            for config, keys in zip(configs, packaged, strict=True)
        }

    def __repr__(self) -> str:
        return f"Issuers({list(self.issuers.values())!r}, {self._cache!r})"

    def verify(self, token: object, now: float) -> Verified | Failure:
        """The token's verified claims, or why it is not verified. `token` is the token text (an optional
        `Bearer ` scheme before it), or the values an identity source read (exactly one). Never raises."""
        try:
            return self._verify(token, now)
        except Exception as exc:  # fail closed; the exception's type only: its text could quote the token
            log.error("token verification failed internally (%s): refused", type(exc).__name__)
            return Failure("token.internal")

    def _verify(self, token: object, now: float) -> Verified | Failure:
        if isinstance(token, tuple | list):
            if len(token) != 1:
                return Failure("token.multiple" if token else "token.missing")
            token = token[0]
        if not isinstance(token, str) or not token:
            return Failure("token.missing" if token is None or token == "" else "token.malformed")
        cached = self._cache.get(token, now)
        if cached is not None:
            return cached
        text = token[7:] if token[:7].lower() == "bearer " else token
        parsed = jose.parse(text)
        if isinstance(parsed, Failure):
            if _SEPARATORS.search(text):  # two tokens side by side (HTTP API 2.0 joins a repeated header with ",")
                pieces = [piece for piece in _SEPARATORS.split(text) if piece]
                return Failure("token.multiple" if len(pieces) > 1 else "token.malformed")
            return parsed
        iss = parsed.claims.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            return Failure("token.unknown_issuer")
        kid = parsed.header.get("kid")
        if not isinstance(kid, str):
            return Failure("token.unknown_kid")
        found = issuer.keys.key(kid, now)
        if isinstance(found, Failure):
            return found
        key, key_until = found
        if parsed.header.get("alg") != key.alg or key.alg not in issuer.algorithms:
            return Failure("token.algorithm")
        if not key.verify(parsed.signing_input, parsed.signature):
            return Failure("token.bad_signature")
        checked = issuer.check(parsed.claims, now)
        if isinstance(checked, Failure):
            return checked
        scopes, valid_from, valid_until = checked
        verified = Verified(issuer.config.issuer, kid, key.alg, _frozen(parsed.claims), scopes)
        self._cache.put(token, verified, valid_from, min(valid_until, key_until))
        return verified


def _problems(config: IssuerConfig) -> list[tuple[str, str]]:
    """What is wrong with one configuration, field by field (the key set file aside)."""
    problems: list[tuple[str, str]] = []
    if not isinstance(config.issuer, str) or not config.issuer:
        problems.append(("issuer", "must be a non-empty string"))
    if not config.audiences or not all(isinstance(a, str) and a for a in config.audiences):
        problems.append(("audiences", "at least one audience (client id), each a non-empty string"))
    if not config.algorithms:
        problems.append(("algorithms", "at least one algorithm"))
    for alg in config.algorithms:
        if alg not in ALGORITHMS:
            never = isinstance(alg, str) and (alg.upper().startswith("HS") or alg.lower() == "none")
            why = "HMAC and 'none' are never accepted" if never else f"one of {', '.join(ALGORITHMS)}"
            problems.append(("algorithms", f"{alg!r}: {why}"))
    if config.token_use not in (None, "id", "access"):
        problems.append(("token_use", "id or access"))
    if not _number(config.leeway) or not 0 <= config.leeway <= MAX_LEEWAY:
        problems.append(("leeway", f"seconds, from 0 to {MAX_LEEWAY:g}"))
    if config.jwks_file is None and config.jwks_url is None:
        problems.append(("jwks", "a packaged key set file, a key set URL, or both"))
    if config.jwks_url is not None:
        bad_url = fetch.check_url(config.jwks_url)
        if bad_url:
            problems.append(("jwks_url", bad_url))
    settings = config.fetch
    if not 0 < settings.timeout <= 10:
        problems.append(("fetch.timeout", "seconds, above 0 and at most 10 (API Gateway waits 10 s in all)"))
    if settings.max_bytes <= 0 or settings.interval < 0 or not 0 < settings.refresh <= settings.max_age:
        problems.append(("fetch", "max_bytes above 0, interval at least 0, 0 < refresh <= max_age"))
    return problems


def _packaged(path: Path) -> tuple[dict[str, PublicKey], list[str]]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_JWKS_FILE_BYTES + 1)
    except OSError as exc:
        return {}, [f"cannot read {path}: {exc.strerror or type(exc).__name__}"]
    if len(raw) > MAX_JWKS_FILE_BYTES:
        return {}, [f"{path} is larger than {MAX_JWKS_FILE_BYTES} bytes"]
    try:
        keys, problems = parse_jwks(raw)
    except ValueError as exc:
        return {}, [f"{path}: {exc}"]
    return keys, [f"{path}: {problem}" for problem in problems]


def compile_issuers(
    configs: Sequence[IssuerConfig], *, cache_size: int = 1024, fetcher: Fetcher = fetch.get
) -> Issuers:
    """The issuers, ready to verify; ConfigError naming every problem (`issuers[i].field: message`).

    A packaged key set is read here and must be clean: a refused key in a file the deployer ships is
    an error, not a warning. Nothing is fetched here."""
    problems: list[tuple[str, str]] = []
    packaged: list[dict[str, PublicKey]] = []
    seen: set[str] = set()
    for position, config in enumerate(configs):
        where = f"issuers[{position}]"
        problems += [(f"{where}.{name}", message) for name, message in _problems(config)]
        if config.issuer in seen:
            problems.append((f"{where}.issuer", "configured twice"))
        seen.add(config.issuer)
        keys: dict[str, PublicKey] = {}
        if config.jwks_file is not None:
            keys, file_problems = _packaged(config.jwks_file)
            problems += [(f"{where}.jwks_file", message) for message in file_problems]
            if not keys and not file_problems and config.jwks_url is None:
                problems.append((f"{where}.jwks_file", "holds no key"))
        packaged.append(keys)
    if problems:
        raise ConfigError(problems)
    return Issuers(configs, packaged, cache_size, fetcher)
