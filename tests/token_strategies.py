"""Hypothesis strategies for policies with `tokens:` and events carrying tokens: the differential
properties (engine against the reference, generated code against the engine) run on them.

Two issuers with packaged keys (`main`: RS256 and ES256, `pool`: a Cognito user pool), and a fixed
vocabulary of tokens minted once per run at a fixed `NOW`: valid ones with varied claims (nested,
arrays, numbers, a claim named `scopes`), and refused ones (expired, another audience, `alg: none`,
signed by an attacker, an unknown issuer). The reference is told which tokens verify, and with
which claims (`VERIFIED`): it never verifies anything itself. Events may also carry headers and
query parameters named like claims, which must never reach `jwt.*`.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from authorizer.event.builder import RequestSpec
from authorizer.event.kinds import NAMES as EVENT_KINDS
from authorizer.policy.compiler import TokenOptions
from authorizer.policy.ir import CompiledPolicy
from authorizer.policy.load import load
from authorizer.tokens.mint import DevKey, compact, mint, write_jwks
from tests.tokens_support import NOW, dev_key

MAIN = "https://issuer.example/main"
POOL_ID = "eu-west-1_Pool123"
POOL = f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL_ID}"
FOLDER = Path(tempfile.mkdtemp(prefix="authorizer-token-strategies-"))
atexit.register(shutil.rmtree, FOLDER, ignore_errors=True)
MAIN_KEYS = (dev_key("RS256", 7), dev_key("ES256", 7))
POOL_KEY = dev_key("RS256", 8)
write_jwks(FOLDER / "main.json", MAIN_KEYS)
write_jwks(FOLDER / "pool.json", [POOL_KEY])
ISSUERS = {
    "main": {
        "issuer": MAIN,
        "audiences": ["client-1"],
        "algorithms": ["RS256", "ES256"],
        "jwks": {"file": "main.json"},
    },
    "pool": {
        "cognito": {"user_pool_id": POOL_ID, "client_ids": ["app-1"], "token_use": "access"},
        "jwks": {"file": "pool.json"},
    },
}

CLAIM_SETS: list[dict[str, Any]] = [
    {"sub": "alice", "cognito:groups": ["admins"], "custom:tenant": "acme", "scope": "read write"},
    {"sub": "bob", "cognito:groups": ["admins", "readers"], "custom:tenant": "other", "scp": ["write"]},
    {"sub": "alice", "cognito:groups": [], "n": 5, "obj": {"a": "x"}, "email": "alice@example.com"},
    {"sub": "", "cognito:groups": "admins", "n": 5.5, "obj": {"a": ["x", "y"]}, "scopes": ["raw"]},
    {"sub": "carol", "n": True, "obj": {"a": {"deep": 1}}, "scope": "read", "scp": "x y", "issuer": "raw"},
    {"sub": "alice", "custom:tenant": "acme", "cognito:groups": ["admins", {"no": 1}], "n": "5"},
]


def _standard(issuer: str) -> dict[str, Any]:
    if issuer == "pool":
        return {"iss": POOL, "client_id": "app-1", "token_use": "access"}
    return {"iss": MAIN, "aud": "client-1"}


def _tokens() -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Every token of the vocabulary, and the claims of those that verify."""
    tokens: list[str] = []
    verified: dict[str, dict[str, Any]] = {}
    for i, claims in enumerate(CLAIM_SETS):
        issuer = "pool" if i % 3 == 2 else "main"
        key = POOL_KEY if issuer == "pool" else MAIN_KEYS[i % 2]
        body = {**_standard(issuer), **claims}
        token = mint(key, body, now=NOW, expires_in=600)
        tokens.append(token)
        verified[token] = {**body, "iat": int(NOW), "exp": int(NOW) + 600}
    body = {**_standard("main"), **CLAIM_SETS[0]}
    attacker = DevKey.generate("RS256", MAIN_KEYS[0].kid)
    tokens += [
        mint(MAIN_KEYS[0], body, now=NOW - 7200, expires_in=600),  # expired
        mint(MAIN_KEYS[0], {**body, "aud": "client-2"}, now=NOW),  # another audience
        compact({"alg": "none", "kid": MAIN_KEYS[0].kid}, {**body, "exp": int(NOW) + 600}, lambda data: b""),
        mint(attacker, body, now=NOW),  # signed by someone else under the issuer's kid
        mint(MAIN_KEYS[0], {**body, "iss": MAIN + "/"}, now=NOW),  # an issuer nobody configured
    ]
    return tokens, verified


TOKENS, VERIFIED = _tokens()
JWT_SOURCES = [
    "jwt.sub",
    "jwt[cognito:groups]",
    "jwt.custom:tenant",
    "jwt.scopes",
    "jwt.issuer",
    "jwt.n",
    "jwt.obj.a",
    "jwt[obj][a]",
    "jwt.email",
    "jwt[scopes]",
    "jwt[issuer]",
    "jwt.aud",
]
OTHER_SOURCES = ["header.sub", "query.sub", "path.p"]
LITERALS = ["alice", "bob", "carol", "admins", "readers", "acme", "other", "read", "write", "x", "raw", "client-1"]
NUMBERS = [5, 5.5, True]
CARRIER_CHOICES = [
    ["header.authorization"],
    ["header.authorization"],
    ["token", "header.authorization"],
    ["header.authorization", "query.access_token"],
    ["query.access_token"],
    ["token"],
]


def verifier(token: str) -> dict[str, Any] | None:
    """The reference's verifier: the claims of the vocabulary's tokens that verify."""
    return VERIFIED.get(token)


LIKELY = {  # what each source often holds, so that conditions hold often enough to matter
    "jwt.issuer": ["main", "pool"],
    "jwt.sub": ["alice", "bob"],
    "jwt[cognito:groups]": ["admins", "readers"],
    "jwt.custom:tenant": ["acme", "other"],
    "jwt.scopes": ["read", "write", "x"],
    "jwt.n": [5, 5.5, True, "5"],
    "jwt.aud": ["client-1"],
}


def _literal(source: str) -> st.SearchStrategy[Any]:
    if source == "jwt.issuer":
        return st.sampled_from(LIKELY[source])
    anything = st.sampled_from(LITERALS if source in OTHER_SOURCES else LITERALS + NUMBERS)
    return st.one_of(st.sampled_from(LIKELY[source]), anything) if source in LIKELY else anything


def _condition(source: str) -> st.SearchStrategy[Any]:
    literal = _literal(source)
    ops = st.one_of(
        st.tuples(st.just("equals"), literal),
        st.tuples(st.just("not_equals"), literal),
        st.tuples(st.just("one_of"), st.lists(literal, min_size=1, max_size=3)),
        st.tuples(st.just("prefix"), st.sampled_from(["a", "ad", "re", "x"])),
        st.tuples(st.just("regex"), st.sampled_from(["a.*", "[a-z]+", "5(\\.5)?"])),
        st.tuples(st.sampled_from(["gt", "le"]), st.sampled_from([4, 5, 6])),
        st.tuples(st.just("exists"), st.booleans()),
    )
    mode = st.sampled_from([None, "any", "all", "joined"])
    single = st.lists(ops, min_size=1, max_size=2, unique_by=lambda p: p[0]).map(dict)
    moded = st.tuples(single, mode).map(lambda pair: {**pair[0], **({"values": pair[1]} if pair[1] else {})})
    pair = st.sampled_from(["path.p", "header.sub", "jwt.sub", "jwt.custom:tenant"]).map(
        lambda other: {"equals": {"from": other}}
    )
    return st.one_of(literal, moded, pair)


CONDITIONS = st.sampled_from(JWT_SOURCES + OTHER_SOURCES).flatmap(lambda s: st.tuples(st.just(s), _condition(s)))
CLAIM_CONDITION = st.sampled_from(JWT_SOURCES).flatmap(lambda s: st.tuples(st.just(s), _condition(s)))


def _when() -> st.SearchStrategy[dict[str, Any]]:
    """At least one claim condition (so that rules are decided by claims), sometimes more, and combinators."""
    base = st.tuples(CLAIM_CONDITION, st.lists(CONDITIONS, max_size=2)).map(lambda pair: dict([pair[0], *pair[1]]))
    inner = st.lists(CONDITIONS, min_size=1, max_size=2, unique_by=lambda pair: pair[0]).map(dict)
    extras = st.fixed_dictionaries({}, optional={"any": st.lists(inner, min_size=1, max_size=2), "not": inner})
    return st.tuples(base, extras).map(lambda pair: {**pair[0], **pair[1]})


def _output(source: str) -> dict[str, Any]:
    return {"from": source, "join": ","} if source in ("jwt.scopes", "jwt[cognito:groups]") else {"from": source}


OUTPUT = st.one_of(st.just("me"), st.sampled_from(JWT_SOURCES + OTHER_SOURCES).map(_output))


def _rule(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"name": st.just(name), "effect": st.sampled_from(["allow", "allow", "deny"]), "when": _when()},
        optional={
            "routes": st.lists(st.sampled_from(["GET /a", "ANY /a/{id}", "$connect"]), min_size=1, max_size=2),
            "principal": OUTPUT,
            "context": st.dictionaries(st.sampled_from(["k1", "groups"]), OUTPUT, max_size=2),
            "resource": st.sampled_from(["method", "stage", "routes"]),
        },
    )


@st.composite
def token_policies(draw: st.DrawFn) -> dict[str, Any]:
    """A policy with `tokens:` as YAML data, valid by construction (sometimes indexed on a claim)."""
    rules = [draw(_rule(f"r{i}")) for i in range(draw(st.integers(1, 4)))]
    if draw(st.integers(0, 4)) == 0:  # enough rules keyed on one claim for the rule index
        source = draw(st.sampled_from(["jwt.sub", "jwt.custom:tenant"]))
        keyed = [
            {"name": f"ix{i}", "effect": "allow", "when": {source: value}, "principal": {"from": "jwt.sub"}}
            for i, value in enumerate(["alice", "bob", "carol", "acme", "other", "x", "raw", "nobody"])
        ]
        at = draw(st.integers(0, len(rules)))
        rules[at:at] = keyed
    carriers = draw(st.sampled_from(CARRIER_CHOICES))
    scheme = draw(st.sampled_from(["bearer", "bearer", "bearer", "raw"]))
    return {
        "version": 1,
        "tokens": {"from": carriers, "scheme": scheme, "issuers": ISSUERS},
        "rules": rules,
        **draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "on_no_match": st.sampled_from(["unauthorized", "deny"]),
                    "response": st.sampled_from(["iam", "simple"]),
                    "redact": st.lists(st.sampled_from(JWT_SOURCES), max_size=2, unique=True),
                },
            )
        ),
    }


def compile_token_policy(policy: dict[str, Any]) -> tuple[CompiledPolicy, dict[str, Any]]:
    """Through the real loader, key sets beside the policy, `now` fixed at NOW."""
    text = yaml.safe_dump(policy).encode()
    loaded = load(str(FOLDER / "random.yaml"), text, tokens=TokenOptions(clock=lambda: NOW))
    return loaded.policy, loaded.data


TOKEN = st.sampled_from(TOKENS)
SCHEMED = st.sampled_from(["Bearer ", "Bearer ", "Bearer ", "bearer ", "", "Bearer Bearer "]).flatmap(
    lambda scheme: TOKEN.map(lambda token: scheme + token)
)


@st.composite
def token_events(draw: st.DrawFn) -> dict[str, Any]:
    """An event of any kind carrying a token (or two, or none) somewhere, and claim look-alikes."""
    headers: dict[str, Any] = {}
    query: dict[str, Any] = {}
    places = st.sampled_from([["header"], ["header"], ["header"], ["header twice"], ["query"], [], ["header", "query"]])
    for place in draw(places):
        if place == "header":
            headers["Authorization"] = draw(SCHEMED)
        elif place == "header twice":
            headers["Authorization"] = [draw(SCHEMED), draw(SCHEMED)]
        elif place == "query":
            query["access_token"] = draw(TOKEN)
    lookalikes = st.sampled_from(["alice", "admins", "acme"])
    if draw(st.booleans()):  # what a caller controls, named like claims
        headers.update({"sub": draw(lookalikes), "x-jwt-sub": draw(lookalikes), "cognito-groups": "admins"})
        query["sub"] = draw(lookalikes)
    spec = RequestSpec(
        method=draw(st.sampled_from(["GET", "POST"])),
        path=draw(st.sampled_from(["/a", "/a/1"])),
        headers=headers,
        query=query,
        path_parameters=draw(st.dictionaries(st.just("p"), st.sampled_from(["acme", "alice", "x"]), max_size=1)),
        token=draw(SCHEMED) if draw(st.integers(0, 3)) == 0 else None,  # a TOKEN event's own (else its header)
        request_id="req-1",
        now=0,
    )
    return spec.to_event(draw(st.sampled_from(EVENT_KINDS)))
