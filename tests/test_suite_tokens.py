"""Tokens in test suites (testing/tokens.py) and `authorizer test --token-attacks` (testing/attacks.py):
cases state claims and the run mints tokens with per-run keys in place of the issuers' key sets;
the attack battery goes through the real `evaluate` in place of every allowing case's token."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from authorizer.cli.main import main
from authorizer.testing.suite import load_suite
from tests.conftest import POLICIES

POLICY = """version: 1
tokens:
  from: [token, header.authorization, query.access_token, cookie.session]
  issuers:
    login: {{issuer: "https://login.example/", audiences: [api], jwks: {{url: "https://login.example/keys"}}}}
    pool:
      cognito: {{user_pool_id: eu-west-1_Pool1, client_ids: [app], token_use: access}}
rules:
{rules}
"""
SIGNED_IN = """  - name: signed-in
    effect: allow
    when: {jwt.sub: alice, jwt.issuer: login}
    principal: {from: jwt.sub}
  - name: pool-users
    effect: allow
    when: {jwt.sub: alice, jwt.issuer: pool}
"""


def suite(tmp_path: Path, cases: str, rules: str = SIGNED_IN, defaults: str = "") -> Path:
    (tmp_path / "policy.yaml").write_text(POLICY.format(rules=rules))
    path = tmp_path / "suite.yaml"
    path.write_text(f"policy: policy.yaml\n{defaults}cases:\n{cases}")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["test", *args])
    return code, capsys.readouterr().out


CASES = """  - name: a header token, by default the first place but `token`
    token: {issuer: login, claims: {sub: alice}}
    expect: {effect: allow, rule: signed-in, principal: alice}
  - name: every kind, the TOKEN event's own token included
    kind: [token, rest, websocket, http-v1, http-v2]
    token: {issuer: login, claims: {sub: alice}}
    expect: {effect: allow, rule: signed-in}
  - name: in the query string
    token: {issuer: login, claims: {sub: alice}, in: query.access_token}
    expect: {effect: allow, rule: signed-in}
  - name: in a cookie, beside another
    request: {headers: {Cookie: theme=dark}}
    token: {issuer: login, claims: {sub: alice}, in: cookie.session}
    expect: {effect: allow, rule: signed-in}
  - name: a Cognito access token (client_id, token_use)
    token: {issuer: pool, claims: {sub: alice}}
    expect: {effect: allow, rule: pool-users}
  - name: a claim removed
    token: {issuer: login, claims: {sub: alice, exp: null}}
    expect: {effect: unauthorized, reason: token.claims}
  - name: expired
    token: {issuer: login, claims: {sub: alice}, expires_in: -1}
    expect: {effect: unauthorized, reason: token.expired}
  - name: forged
    token: {issuer: login, claims: {sub: alice}, forged: true}
    expect: {effect: unauthorized, reason: token.bad_signature}
"""


def test_cases_state_claims_and_the_run_mints_the_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, str(suite(tmp_path, CASES)), "-v")
    assert code == 0, out
    assert out.splitlines()[-1] == "12 passed, 0 failed"
    assert not list(tmp_path.glob("*.json")), "nothing is fetched or written beside the policy"


def test_a_failing_token_case_shows_the_reason_never_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = """  - name: wrong expectation
    token: {issuer: login, claims: {sub: alice}, expires_in: -100}
    expect: {effect: allow}
"""
    path = suite(tmp_path, cases)
    code, out = run(capsys, str(path), "--junit", str(tmp_path / "junit.xml"))
    assert code == 1
    assert "got nothing (missing: token.expired)" in out
    written = out + (tmp_path / "junit.xml").read_text()
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}", written), "a token (its JSON header's base64) was written"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("{claims: {sub: alice}}", "the policy has several issuers (login, pool): name one"),
        ("{issuer: nobody}", "token.issuer 'nobody' is not one of the policy's issuers (login, pool)"),
        ("{issuer: login, in: header.x-token}", "token.in 'header.x-token' is not where the policy's tokens travel"),
    ],
)
def test_a_token_the_policy_cannot_have_fails_the_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str, message: str
) -> None:
    path = suite(tmp_path, f"  - name: c\n    token: {token}\n    expect: {{effect: unauthorized}}\n")
    code, out = run(capsys, str(path))
    assert code == 1 and f"token: {message}" in out


def test_a_token_goes_with_a_described_request_not_an_event_file(tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text("{}")
    path = suite(
        tmp_path, "  - name: c\n    event: event.json\n    token: {issuer: login}\n    expect: {effect: allow}\n"
    )
    problems = load_suite(path).problems
    assert [p.message for p in problems] == [
        "a token is minted into a described `request`; an event file carries its own"
    ]


def test_default_tokens_and_null(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = """  - name: the default token
    expect: {effect: allow, rule: signed-in}
  - name: none at all
    token: null
    expect: {effect: unauthorized, reason: token.missing}
"""
    path = suite(tmp_path, cases, defaults="defaults:\n  token: {issuer: login, claims: {sub: alice}}\n")
    assert run(capsys, str(path))[0] == 0


# -- --token-attacks -------------------------------------------------------------------------------------
def test_the_shipped_policies_withstand_the_attacks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, str(POLICIES), "--token-attacks")
    assert code == 0, out
    lines = [line.strip() for line in out.splitlines() if "attacks ×" in line]
    assert len(lines) == 2 and all("all refused" in line for line in lines), out
    assert re.search(r"cognito-rest\.yaml: issuer 'cognito': \d{2} attacks × \d+ cases: all refused \(\d+ 401\)", out)


def test_a_policy_that_only_checks_the_tokens_shape_fails_the_attacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The mistake issue 14 is about: a rule that lets any Bearer-looking header in besides the claims."""
    rules = (
        SIGNED_IN
        + """  - name: shape-only
    effect: allow
    when: {header.authorization: {prefix: "Bearer "}}
"""
    )
    path = suite(
        tmp_path,
        "  - name: c\n    token: {issuer: login, claims: {sub: alice}}\n    expect: {effect: allow, rule: signed-in}\n",
        rules,
    )
    code, out = run(capsys, str(path), "--token-attacks")
    assert code == 1
    assert re.search(r"issuer 'login': \d+ attacks × 1 cases: ALLOWED \d+: alg_none on 'c'", out), out
    assert "issuer 'pool': no passing case expects an allow with its token" in out


def test_attacks_carry_the_cases_claims(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A rule that needs a group: the attacks hold the group, so they meet the signature checks, not the rule."""
    rules = """  - name: admins
    effect: allow
    when: {"jwt[groups]": {equals: admins, values: any}}
  - name: pool
    effect: allow
    when: {jwt.issuer: pool}
"""
    cases = """  - name: admin
    token: {issuer: login, claims: {groups: [admins]}}
    expect: {effect: allow, rule: admins}
  - name: pool
    token: {issuer: pool}
    expect: {effect: allow, rule: pool}
"""
    code, out = run(capsys, str(suite(tmp_path, cases, rules)), "--token-attacks")
    assert code == 0, out
    assert "issuer 'login'" in out and "issuer 'pool'" in out


def test_shipped_suites_copy_still_pass_without_the_packaged_key_sets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Suites never read the packaged key sets: per-run keys replace them."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target, ignore=shutil.ignore_patterns("__authorizer_cache__", "jwks"))
    code, out = run(
        capsys, str(target / "tests" / "cognito-rest.yaml"), str(target / "tests" / "websocket-tokens.yaml")
    )
    assert code == 0, out
