"""`authorizer serve --dev-keys`: a policy with tokens served with the development keys `authorizer token
mint` signs with, so the whole flow works locally with curl; the token appears in no answer page and
no log line of the gateway."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from authorizer.cli.main import main
from tests import test_serve_support as support
from tests.conftest import POLICIES

serve = support.serve  # the fixture
COGNITO = POLICIES / "cognito-rest.yaml"
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dev-keys")


@pytest.fixture(scope="module")
def server(serve, keys: Path) -> support.Server:
    return serve(COGNITO, "--dev-keys", str(keys), "--ttl", "0", "--route", "GET /tenants/{tenant}/orders")


def mint(capsys: pytest.CaptureFixture[str], keys: Path, tenant: str = "acme") -> str:
    claims = ("--claim", "sub=alice", "--claim", 'cognito:groups:=["readers"]', "--claim", f"custom:tenant={tenant}")
    assert main(["token", "mint", str(COGNITO), "--keys", str(keys), *claims, "--expires-in", "15m"]) == 0
    return capsys.readouterr().out.strip()


def test_a_minted_token_opens_what_the_policy_allows(server: support.Server, keys: Path, capsys) -> None:
    assert f"tokens: verified with the development keys in {keys}" in server.banner
    token = mint(capsys, keys)
    bearer = {"Authorization": f"Bearer {token}"}
    allowed = httpx.get(server.url("/tenants/acme/orders"), headers=bearer)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["requestContext"]["authorizer"]["tenant"] == "acme"
    assert httpx.get(server.url("/tenants/globex/orders"), headers=bearer).status_code == 401  # another tenant
    assert httpx.get(server.url("/me"), headers=bearer).status_code == 200
    assert httpx.get(server.url("/tenants/acme/orders")).status_code == 401  # no identity source: not even asked
    forged = mint(capsys, keys.parent / "other-keys")
    refused = httpx.get(server.url("/tenants/acme/orders"), headers={"Authorization": f"Bearer {forged}", **HTML})
    assert refused.status_code == 401 and "token.unknown_kid" in refused.text
    for text in (refused.text, server.log()):
        assert forged not in text and token not in text and forged.split(".")[2] not in text


def test_without_dev_keys_the_packaged_key_set_decides(serve, keys: Path, capsys) -> None:
    plain = serve(COGNITO, "--ttl", "0")
    assert "development keys" not in plain.banner
    token = mint(capsys, keys)
    answer = httpx.get(plain.url("/me"), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
