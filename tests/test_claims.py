"""`jwt.*` sources and the `tokens:` section (policy/claims.py): the language, its errors, and what
both back ends (the engine and the generated code) decide with verified claims.

Adversarial first: forged tokens (the whole attack battery, `alg: none` among them) never satisfy a
claim condition on either path; values a caller controls elsewhere (headers, query parameters
named like claims) never reach `jwt.*`; the token never appears in a reason, trace or log line.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from authorizer.decide.evaluate import evaluate
from authorizer.decide.generated import FALLBACK, with_generated
from authorizer.event.builder import RequestSpec
from authorizer.policy.caching import cache_key, findings
from authorizer.policy.compiler import TokenOptions
from authorizer.policy.errors import PolicyError
from authorizer.policy.identity import derive_identity_sources
from authorizer.policy.ir import CompiledPolicy
from authorizer.policy.lint import lint
from authorizer.policy.load import LoadedPolicy, load
from authorizer.tokens.attacks import battery
from authorizer.tokens.mint import DevKey, compact, mint, write_jwks
from authorizer.tokens.verify import Issuers
from tests.conftest import generated_response
from tests.tokens_support import NOW, dev_key

ISS = "https://login.example/tenant"
KEY = dev_key("RS256", 3)
HEAD = f"""version: 1
tokens:
  from: [header.authorization]
  issuers:
    login: {{issuer: "{ISS}", audiences: [api], jwks: {{file: jwks.json}}}}
"""


def policy(tmp_path: Path, text: str, *, clock: float = NOW) -> LoadedPolicy:
    """A policy beside a key set holding KEY; `now` is `clock`."""
    write_jwks(tmp_path / "jwks.json", [KEY])
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return load(str(path), path.read_bytes(), tokens=TokenOptions(clock=lambda: clock))


def token(key: DevKey = KEY, **claims: Any) -> str:
    return mint(key, {"iss": ISS, "aud": "api", "sub": "alice", **claims}, now=NOW, expires_in=600)


def request(kind: str = "rest", auth: str | None = None, **spec: Any) -> dict[str, Any]:
    headers = dict(spec.pop("headers", {}))
    if auth is not None:
        headers["Authorization"] = auth
    return RequestSpec(headers=headers, request_id="r", now=0, **spec).to_event(kind)


def both(compiled: CompiledPolicy, event: dict[str, Any]) -> tuple[Any, Any]:
    """The engine's response and the generated code's, which must be the same (or FALLBACK to a refusal)."""
    fast_policy = with_generated(compiled, "test")
    assert fast_policy.fast is not None
    engine = evaluate(event, compiled)[2]
    fast = generated_response(event, fast_policy)
    assert fast == engine or (fast is FALLBACK and engine in (None, {"isAuthorized": False}))
    return engine, fast


ANY_TOKEN = (
    HEAD
    + """rules:
  - name: signed-in
    effect: allow
    when: {jwt.sub: {exists: true}}
    principal: {from: jwt.sub}
"""
)


# -- forged tokens and look-alikes ------------------------------------------------------------------
def test_the_attack_battery_never_satisfies_a_claim_condition_on_either_path(tmp_path: Path) -> None:
    compiled = policy(tmp_path, ANY_TOKEN).policy
    assert compiled.tokens is not None
    config = compiled.tokens.issuers["login"]
    valid = mint(KEY, {"iss": ISS, "aud": "api", "sub": "x"}, now=NOW)
    assert both(compiled, request(auth=f"Bearer {valid}"))[0] is not None, "the control token is allowed"
    attacks = list(battery(config, KEY.public_jwk(), signer=KEY, now=NOW))
    names = {name for name, _ in attacks}
    assert {"alg_none", "alg_hs256_public_key_pem", "header_jwk", "kid_unknown", "exp_passed"} <= names
    for name, forged in attacks:
        for kind in ("rest", "http-v2", "token"):
            engine, fast = both(compiled, request(kind, auth=f"Bearer {forged}"))
            assert engine in (None, {"isAuthorized": False}), name
            assert fast in (None, FALLBACK), name
        decision = evaluate(request(auth=f"Bearer {forged}"), compiled)[0]
        assert decision.reason.startswith("no rule matched (token.") and forged not in decision.reason, name


def test_an_alg_none_token_with_the_right_claims_is_not_verified(tmp_path: Path) -> None:
    compiled = policy(tmp_path, HEAD + "rules:\n  - {name: admin, effect: allow, when: {jwt.sub: admin}}\n").policy
    body = {"iss": ISS, "aud": "api", "sub": "admin", "exp": int(NOW) + 600}
    for header in ({"alg": "none"}, {"alg": "none", "kid": KEY.kid}, {"alg": "NONE", "kid": KEY.kid}):
        forged = compact(header, body, lambda data: b"")
        assert both(compiled, request(auth=f"Bearer {forged}")) == (None, None)
        reason = evaluate(request(auth=f"Bearer {forged}"), compiled)[0].reason
        assert reason in ("no rule matched (token.algorithm)", "no rule matched (token.unknown_kid)")


def test_values_a_caller_controls_elsewhere_never_reach_claims(tmp_path: Path) -> None:
    text = (
        HEAD
        + """rules:
  - name: admin
    effect: allow
    when: {jwt.sub: admin, "jwt[cognito:groups]": {one_of: [admins], values: any}}
"""
    )
    compiled = policy(tmp_path, text).policy
    lookalikes = {"sub": "admin", "jwt.sub": "admin", "x-jwt-sub": "admin", "cognito:groups": "admins"}
    query = {"sub": "admin", "jwt.sub": "admin", "cognito:groups": "admins"}
    for auth in (None, f"Bearer {token(sub='alice')}"):
        for kind in ("rest", "websocket", "http-v1", "http-v2"):
            event = request(kind, auth, headers=lookalikes, query=query, stage_variables={"sub": "admin"})
            event.setdefault("requestContext", {})["authorizer"] = {"claims": {"sub": "admin"}}
            assert both(compiled, event)[0] in (None, {"isAuthorized": False})
    allowed = request(auth=f"Bearer {token(sub='admin', **{'cognito:groups': ['admins']})}")
    assert both(compiled, allowed)[0] is not None


# -- verified once per request, lazily --------------------------------------------------------------
def test_the_token_is_verified_once_per_request_and_only_when_a_rule_reads_a_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        HEAD
        + """rules:
  - name: public
    effect: allow
    when: {header.x-public: "yes"}
  - name: claims
    effect: allow
    when:
      jwt.sub: alice
      path.tenant: {equals: {from: "jwt.custom:tenant"}}
      any: [{jwt.scopes: {one_of: [read], values: any}}, {jwt.sub: bob}]
      not: {jwt.sub: mallory}
    principal: {from: jwt.sub}
    context: {tenant: {from: "jwt.custom:tenant"}, scopes: {from: jwt.scopes, join: " "}}
"""
    )
    compiled = policy(tmp_path, text).policy
    fast_policy = with_generated(compiled, "test")
    calls: list[str] = []
    verify = Issuers.verify

    def counted(self: Issuers, value: object, now: float) -> Any:
        calls.append("verify")
        return verify(self, value, now)

    monkeypatch.setattr(Issuers, "verify", counted)
    good = token(**{"custom:tenant": "acme", "scope": "read write"})
    public = request(auth=f"Bearer {good}", headers={"x-public": "yes"})
    tenant = request(auth=f"Bearer {good}", path_parameters={"tenant": "acme"})
    for answer in (lambda e: evaluate(e, compiled), lambda e: evaluate(e, compiled, explained=True)):
        calls.clear()
        answer(public)
        assert calls == [], "a rule that reads no claim decided: nothing to verify"
        calls.clear()
        decision = answer(tenant)[0]
        assert decision.effect == "allow" and decision.context == {"tenant": "acme", "scopes": "read write"}
        assert calls == ["verify"]
    calls.clear()
    assert generated_response(public, fast_policy) is not FALLBACK and calls == []
    response = generated_response(tenant, fast_policy)
    assert response is not FALLBACK and response["context"]["tenant"] == "acme"
    assert calls == ["verify"]


def test_now_comes_from_the_clock(tmp_path: Path) -> None:
    event = request(auth=f"Bearer {token()}")
    assert both(policy(tmp_path, ANY_TOKEN, clock=NOW + 599).policy, event)[0] is not None
    expired = policy(tmp_path, ANY_TOKEN, clock=NOW + 600).policy
    assert both(expired, event) == (None, None)
    assert evaluate(event, expired)[0].reason == "no rule matched (token.expired)"
    lenient = policy(tmp_path, ANY_TOKEN.replace("tokens:\n", "tokens:\n  leeway: 30\n"), clock=NOW + 620).policy
    assert both(lenient, event)[0] is not None


# -- reasons, traces, redaction ---------------------------------------------------------------------
def test_the_reason_code_is_shown_never_the_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from authorizer.cli.main import main

    loaded = policy(tmp_path, ANY_TOKEN, clock=NOW + 3600)
    expired = token()
    event = request(auth=f"Bearer {expired}")
    decision = evaluate(event, loaded.policy, explained=True)[0]
    assert decision.reason == "no rule matched (token.expired)"
    assert [(e.source, e.outcome, e.because) for e in decision.trace or ()] == [("jwt.sub", "missing", "token.expired")]
    assert expired not in json.dumps(decision.as_dict())
    expired = mint(KEY, {"iss": ISS, "aud": "api", "sub": "alice"}, now=time.time() - 7200, expires_in=600)
    event = request(auth=f"Bearer {expired}")  # `authorizer eval` reads the real clock
    (tmp_path / "event.json").write_text(json.dumps(event))
    for fmt in ("text", "json"):
        main(["eval", str(tmp_path / "p.yaml"), str(tmp_path / "event.json"), "--explain", "--format", fmt])
        out = capsys.readouterr().out
        assert "token.expired" in out and expired not in out
        assert fmt == "json" or "got nothing (missing: token.expired)" in out
        assert expired.split(".")[1] not in out and expired.split(".")[2] not in out


def test_personal_claims_are_redacted_sub_is_shown_and_the_carrier_is_secret_whatever_its_name(
    tmp_path: Path,
) -> None:
    text = (
        HEAD.replace("[header.authorization]", "[header.x-id]")
        + """rules:
  - name: r
    effect: allow
    when: {jwt.sub: alice, jwt.email: {suffix: "@example.com"}, jwt.name: {exists: true}, header.x-id: {exists: true}}
    principal: {from: jwt.email}
    context: {sub: {from: jwt.sub}, email: {from: jwt.email}}
"""
    )
    compiled = policy(tmp_path, text).policy
    good = token(email="alice@example.com", name="Alice Liddell")
    decision = evaluate(request(headers={"x-id": f"Bearer {good}"}), compiled, explained=True)[0]
    assert decision.effect == "allow"
    shown = {e.source: e.actual for e in decision.trace or ()}
    assert shown == {
        "jwt.sub": "alice",
        "jwt.email": "<redacted>",
        "jwt.name": "<redacted>",
        "header.x-id": "<redacted>",
    }
    assert decision.as_dict()["principal"] == "<redacted>"
    assert decision.as_dict()["context"] == {"sub": "alice", "email": "<redacted>"}
    assert "alice@example.com" not in json.dumps(decision.as_dict()) and good not in json.dumps(decision.as_dict())


# -- where the token travels ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scheme", "value", "reason"),
    [
        ("bearer", "Bearer {t}", None),
        ("bearer", "bEaReR {t}", None),
        ("bearer", "{t}", "token.scheme"),
        ("bearer", "Bearer Bearer {t}", "token.scheme"),
        ("bearer", "Basic {t}", "token.scheme"),
        ("raw", "{t}", None),
        ("raw", "Bearer {t}", "token.scheme"),
        ("bearer", "Bearer {t}, Bearer {t}", "token.multiple"),
    ],
)
def test_the_scheme(tmp_path: Path, scheme: str, value: str, reason: str | None) -> None:
    compiled = policy(tmp_path, ANY_TOKEN.replace("tokens:\n", f"tokens:\n  scheme: {scheme}\n")).policy
    event = request(auth=value.format(t=token()))
    decision = evaluate(event, compiled)[0]
    assert decision.effect == ("allow" if reason is None else "unauthorized")
    assert reason is None or decision.reason == f"no rule matched ({reason})"
    both(compiled, event)


def test_exactly_one_token(tmp_path: Path) -> None:
    text = ANY_TOKEN.replace("[header.authorization]", "[token, header.authorization, query.access_token]")
    compiled = policy(tmp_path, text).policy
    good = token()
    cases = {
        "rest header": (request(auth=f"Bearer {good}"), "allow"),
        "token event": (request("token", auth=f"Bearer {good}"), "allow"),
        "websocket query, bare": (request("websocket", query={"access_token": good}), "allow"),
        "query with a scheme": (request(query={"access_token": f"Bearer {good}"}), "token.scheme"),
        "header and query": (request(auth=f"Bearer {good}", query={"access_token": good}), "token.multiple"),
        "header twice": (request(headers={"Authorization": [f"Bearer {good}", f"Bearer {good}"]}), "token.multiple"),
        "query twice": (request(query={"access_token": [good, good]}), "token.multiple"),
        "none": (request(), "token.missing"),
    }
    for name, (event, want) in cases.items():
        decision = evaluate(event, compiled)[0]
        assert (decision.effect if want == "allow" else decision.reason) == (
            want if want == "allow" else f"no rule matched ({want})"
        ), name
        both(compiled, event)


# -- claim values ------------------------------------------------------------------------------------
CLAIMS = {
    "cognito:groups": ["admins", "readers"],
    "custom:tenant": "acme",
    "https://example.com/org": {"id": "o-1", "tier": 2},
    "scope": "pets/read pets/write",
    "scp": ["extra"],
    "scopes": ["a-claim-named-scopes"],
    "email_verified": True,
    "empty": "",
    "nothing": [],
    "objects": [{"a": 1}],
}


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ('"jwt[cognito:groups]": admins', False),  # two different values: a single-valued condition is unknown
        ('"jwt[cognito:groups]": {equals: admins, values: any}', True),
        ('"jwt[cognito:groups]": {prefix: a, values: all}', False),
        ('"jwt[cognito:groups]": {equals: "admins,readers", values: joined}', True),
        ("jwt.custom:tenant: acme", True),
        ('"jwt[custom:tenant]": acme', True),
        ('"jwt[https://example.com/org].id": o-1', True),
        ('"jwt[https://example.com/org][tier]": {ge: 2}', True),
        ('"jwt[https://example.com/org]": {exists: true}', False),  # an object is not a value
        ("jwt.scopes: {one_of: [pets/write], values: any}", True),
        ("jwt.scopes: {equals: extra, values: any}", True),
        ("jwt.scopes: {equals: a-claim-named-scopes, values: any}", False),
        ('"jwt[scopes]": a-claim-named-scopes', True),
        ("jwt.issuer: login", True),
        ("jwt.iss: https://login.example/tenant", True),
        ("jwt.email_verified: true", True),
        ('jwt.email_verified: "true"', False),
        ("jwt.empty: {exists: false}", True),
        ("jwt.nothing: {exists: false}", True),
        ("jwt.objects: {exists: false}", True),
        ("jwt.missing: {exists: true}", False),
    ],
)
def test_claim_values(tmp_path: Path, condition: str, holds: bool) -> None:
    compiled = policy(tmp_path, HEAD + f"rules:\n  - name: r\n    effect: allow\n    when: {{{condition}}}\n").policy
    event = request(auth=f"Bearer {token(**CLAIMS)}")
    assert (both(compiled, event)[0] is not None) is holds


def test_outputs_join_arrays_and_refuse_ambiguity_without_join(tmp_path: Path) -> None:
    text = (
        HEAD
        + """rules:
  - name: r
    effect: allow
    principal: {from: jwt.sub}
    context:
      groups: {from: "jwt[cognito:groups]", join: ","}
      scopes: {from: jwt.scopes, join: " "}
      org: {from: "jwt[https://example.com/org].id"}
      roles: {from: jwt.roles_given}
"""
    )
    compiled = policy(tmp_path, text).policy
    event = request(auth=f"Bearer {token(**CLAIMS, roles_given='one')}")
    response = both(compiled, event)[0]
    assert response["context"] == {
        "groups": "admins,readers",
        "scopes": "pets/read pets/write extra",
        "org": "o-1",
        "roles": "one",
    }
    several = request(auth=f"Bearer {token(**CLAIMS, roles_given=['one', 'two'])}")
    assert both(compiled, several)[0] is None
    assert "output source jwt.roles_given is missing or ambiguous" in evaluate(several, compiled)[0].reason


def test_a_tenant_claim_bound_to_the_path(tmp_path: Path) -> None:
    text = (
        HEAD
        + """rules:
  - name: tenant
    effect: allow
    routes: ["ANY /tenants/{tenant}/*"]
    when: {path.tenant: {equals: {from: "jwt.custom:tenant"}}}
"""
    )
    compiled = policy(tmp_path, text).policy
    acme = f"Bearer {token(**{'custom:tenant': 'acme'})}"
    assert both(compiled, request(auth=acme, path="/tenants/acme/x", path_parameters={"tenant": "acme"}))[0]
    assert both(compiled, request(auth=acme, path="/tenants/other/x", path_parameters={"tenant": "other"}))[0] is None
    assert both(compiled, request(path="/tenants/acme/x", path_parameters={"tenant": "acme"}))[0] is None


# -- load errors -------------------------------------------------------------------------------------
def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        policy(tmp_path, text)
    return [f"{p.line}:{p.col}: {p.message}" for p in caught.value.problems]


RULE = "rules:\n  - {name: r, effect: allow, when: {jwt.sub: a}}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\n" + RULE, ["3:37: jwt.sub reads a verified token: declare where the token travels"]),
        (
            HEAD + RULE.replace("jwt.sub: a", "jwt.issuer: logn"),
            ["7:49: jwt.issuer is an issuer's name", "did you mean 'login'?"],
        ),
        (HEAD + RULE.replace("jwt.sub: a", "jwt.issuer: {one_of: [login, other]}"), ["7:66: ", "'other' names none"]),
        (HEAD.replace("tokens:\n", "tokens:\n  leeway: 301\n") + RULE, ["3:11: leeway: seconds, from 0 to 300"]),
        (
            HEAD.replace("audiences: [api]", "audiences: [api], algorithms: [RS256, HS256]") + RULE,
            ["5:83: algorithms: 'HS256': HMAC and 'none' are never accepted"],
        ),
        (
            HEAD.replace("algorithms", "x").replace("audiences: [api]", "audiences: [api], algorithms: [none]") + RULE,
            ["'none'"],
        ),
        (HEAD.replace("jwks.json", "nope.json") + RULE, ["5:84: jwks.file: cannot read", "nope.json"]),
        (HEAD.replace("[header.authorization]", "[path.token]") + RULE, ["3:10: path.token cannot carry a token"]),
        (
            HEAD.replace("[header.authorization]", "[headers.authorization]") + RULE,
            ["did you mean 'header.authorization'?"],
        ),
        (HEAD.replace("audiences: [api], ", "") + RULE, ["5:12: issuer 'login' needs audiences"]),
        (
            HEAD.replace(f'issuer: "{ISS}"', 'cognito: {user_pool_id: "eu-west-1_abc", client_ids: [c]}, issuer: x')
            + RULE,
            ["with `cognito:`, issuer, audiences follow from the user pool"],
        ),
        (
            HEAD.replace(f'issuer: "{ISS}", audiences: [api]', 'cognito: {user_pool_id: "pool", client_ids: [c]}')
            + RULE,
            ["5:37: a user pool id is REGION_ID"],
        ),
        (HEAD + RULE.replace("jwt.sub", "jwt.issuer.name"), ["jwt.issuer is derived, not a claim"]),
        (HEAD + RULE.replace("jwt.sub", '"jwt[a"'), ["claim source 'jwt[a' is malformed"]),
        (HEAD + RULE.replace("jwt.sub", "jwts.sub"), ["did you mean 'jwt.sub'?"]),
        (
            HEAD + RULE.replace("}}", '}, context: {g: {from: "jwt[cognito:groups]"}}}'),
            [
                "jwt[cognito:groups] is a list, and an output is one value: join it",
                '{from: "jwt[cognito:groups]", join: ","}',
            ],
        ),
        (HEAD + RULE.replace("jwt.sub: a", "path.p: {equals: {from: jwt.sub, join: x}}"), ["`join` is for outputs"]),
    ],
)
def test_load_errors_are_located_with_did_you_mean(tmp_path: Path, text: str, expected: list[str]) -> None:
    found = problems(tmp_path, text)
    assert any(all(part in line for part in expected) for line in found), found


def test_a_broken_tokens_section_is_reported_once_not_at_every_claim(tmp_path: Path) -> None:
    text = (
        HEAD.replace("tokens:\n", "tokens:\n  leeway: 900\n")
        + RULE
        + "  - {name: s, effect: allow, when: {jwt.iss: b}}\n"
    )
    assert len(problems(tmp_path, text)) == 1


# -- caching and lint ----------------------------------------------------------------------------------
def test_claims_are_keyed_by_the_header_the_token_travels_in(tmp_path: Path) -> None:
    loaded = policy(tmp_path, HEAD + RULE)
    assert derive_identity_sources(loaded.policy) == ("header.authorization",)
    compiled = loaded.policy
    keyed = findings(compiled, cache_key(compiled, {"ttl": 300, "identity_sources": ["header.Authorization"]}))
    assert [f.message for f in keyed if "not in the cache key" in f.message] == []
    unkeyed = findings(compiled, cache_key(compiled, {"ttl": 300, "identity_sources": ["header.x-other"]}))
    assert any("jwt.sub, a claim of the token in header.authorization" in f.message and f.opens for f in unkeyed)


def test_a_cache_longer_than_the_leeway_honours_expired_tokens(tmp_path: Path) -> None:
    compiled = policy(tmp_path, HEAD.replace("tokens:\n", "tokens:\n  leeway: 60\n") + RULE).policy
    for ttl, warned in ((60, False), (61, True), (0, False)):
        found = [f for f in findings(compiled, cache_key(compiled, {"ttl": ttl})) if "expired token" in f.message]
        assert bool(found) is warned and all(f.opens and f.loc == ("cache", "ttl") for f in found)


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        (HEAD.replace("[header.authorization]", "[query.access_token]") + RULE, "puts the token in the URL"),
        (HEAD + "rules:\n  - {name: r, effect: allow, when: {header.x: a}}\n", "the token is never verified"),
        (HEAD + "rules:\n  - {name: r, effect: allow, when: {jwt.scopes: {equals: a, values: any}}}\n", "built-in JWT"),
    ],
)
def test_token_warnings(tmp_path: Path, text: str, warning: str) -> None:
    loaded = policy(tmp_path, text)
    assert any(warning in message for _, message in lint(loaded.data, loaded.policy))


@pytest.mark.parametrize(
    "text",
    [
        HEAD.replace("[header.authorization]", "[query.access_token]")
        + "rules:\n  - {name: r, effect: allow, routes: [$connect], when: {jwt.scopes: {equals: a, values: any}}}\n",
        HEAD + RULE,
        HEAD + "rules:\n  - {name: r, effect: allow, when: {jwt.scopes: {equals: a, values: any}, header.x: b}}\n",
    ],
)
def test_no_token_warning_where_none_is_due(tmp_path: Path, text: str) -> None:
    loaded = policy(tmp_path, text)
    assert lint(loaded.data, loaded.policy) == []


def test_a_policy_without_tokens_compiles_without_the_tokens_layer() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom authorizer.policy.load import load\nfrom authorizer.policy.lint import lint\n"
        "p = load('p.yaml', b'version: 1\\nrules: [{name: r, effect: allow, when: {header.x: a}}]\\n')\n"
        "lint(p.data, p.policy)\n"
        "heavy = ('cryptography', 'authorizer.tokens', 'authorizer.policy.claims')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_lambdas_log_line_gives_the_reason_code_never_the_token(
    tmp_path: Path, use_policy: Any, log_output: Any
) -> None:
    from authorizer import handler

    write_jwks(tmp_path / "jwks.json", [KEY])
    use_policy(ANY_TOKEN)
    expired = mint(KEY, {"iss": ISS, "aud": "api", "sub": "alice"}, now=time.time() - 7200, expires_in=600)
    good = mint(KEY, {"iss": ISS, "aud": "api", "sub": "alice"}, now=time.time())
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.lambda_handler(request(auth=f"Bearer {expired}"), None)
    assert handler.lambda_handler(request(auth=f"Bearer {good}"), None)["principalId"] == "alice"
    lines = [json.loads(line) for line in log_output.getvalue().splitlines() if line.startswith("{")]
    assert [(line["effect"], line["reason"]) for line in lines] == [
        ("unauthorized", "no rule matched (token.expired)"),
        ("allow", "rule matched"),
    ]
    written = log_output.getvalue()
    assert expired.split(".")[2] not in written and good.split(".")[2] not in written
