"""`authorizer token mint`: development tokens for a policy's issuers, signed with keys kept in a local
folder; the policy, compiled with that folder in place of its key sets (as `authorizer serve
--dev-keys` does), accepts them."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

import pytest

from authorizer.cli.main import main
from authorizer.decide.evaluate import evaluate
from authorizer.event.builder import RequestSpec
from authorizer.policy.compiler import TokenOptions
from authorizer.policy.load import load_file
from authorizer.tokens.mint import KeyFolder
from tests.conftest import POLICIES

COGNITO = str(POLICIES / "cognito-rest.yaml")


def mint(capsys: pytest.CaptureFixture[str], keys: Path, *args: str) -> tuple[int, str, str]:
    code = main(["token", "mint", *args, "--keys", str(keys)])
    out = capsys.readouterr()
    return code, out.out.strip(), out.err


def decide(keys: Path, token: str, tenant: str = "acme") -> str:
    policy = load_file(COGNITO, tokens=TokenOptions(jwks=KeyFolder(keys).jwks), use_cache=False).policy
    spec = RequestSpec(
        path=f"/tenants/{tenant}/orders",
        path_parameters={"tenant": tenant},
        headers={"Authorization": f"Bearer {token}"},
    )
    return evaluate(spec.to_event("rest"), policy)[0].reason


def test_a_minted_token_is_accepted_with_the_development_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "dev-keys"
    args = (COGNITO, "--claim", "sub=alice", "--claim", 'cognito:groups:=["readers"]', "--claim", "custom:tenant=acme")
    code, token, err = mint(capsys, keys, *args)
    assert code == 0 and token.count(".") == 2 and "\n" not in token
    assert decide(keys, token) == "rule matched"
    assert decide(keys, token, "globex") == "no rule matched"
    pem = next(keys.glob("*.pem"))
    assert stat.S_IMODE(pem.stat().st_mode) & 0o077 == 0, "the private key is its owner's alone"
    assert token not in err and "kid" in err
    again = mint(capsys, keys, *args)[1]
    assert decide(keys, again) == "rule matched" and len(list(keys.glob("*.pem"))) == 1, "the key is kept"
    assert decide(tmp_path / "other-keys", token) == "no rule matched (token.unknown_kid)"


def test_expiry_and_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "k"
    expired = mint(capsys, keys, COGNITO, "--claim", 'cognito:groups:=["readers"]', "--expires-in=-5m")[1]
    assert decide(keys, expired) == "no rule matched (token.expired)"
    from authorizer.tokens.jose import parse
    from authorizer.tokens.reasons import Failure

    parsed = parse(mint(capsys, keys, COGNITO, "--claim", "n:=5", "--claim", "s=5", "--expires-in", "90s")[1])
    assert not isinstance(parsed, Failure)
    claims = parsed.claims
    assert claims["n"] == 5 and claims["s"] == "5" and claims["token_use"] == "access"
    assert claims["client_id"] == "7q1example2client3id" and abs(claims["exp"] - time.time() - 90) < 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((COGNITO, "--issuer", "nope"), "no issuer 'nope'; its issuers: cognito"),
        ((str(POLICIES / "example.yaml"),), "it has no `tokens:` section"),
        ((COGNITO, "--claim", "x:=["), "'[' is not JSON"),
        ((COGNITO, "--claim", "novalue"), "write NAME=text or NAME:=JSON"),
        ((COGNITO, "--expires-in", "1y"), "a number of seconds, or 90s, 15m, 1h, 1d"),
        (("missing.yaml",), "missing.yaml: no such policy file"),
    ],
)
def test_mistakes_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = mint(capsys, tmp_path, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (lambda root: (root / "file").write_text("x") and str(root / "file"), "not a folder"),
        (lambda root: "/dev/null", "not a folder"),
        (lambda root: "/proc/version/keys", "--keys /proc/version/keys: Not a directory"),  # under a file
        (lambda root: "/proc/no-such-place/keys", "--keys /proc/no-such-place/keys:"),  # nor there
    ],
    ids=["a file", "a device", "under a file", "unwritable"],
)
def test_a_key_folder_that_cannot_be_used_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], keys: Any, message: str
) -> None:
    code = main(["token", "mint", COGNITO, "--keys", keys(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err and "unexpected" not in err


def test_a_key_folder_is_made_on_first_use_with_its_name_shown_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "odd\nname"
    assert main(["token", "mint", COGNITO, "--keys", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert out.count(".") == 2 and folder.is_dir()
    assert err.count("\n") == 1 and "odd\\nname" in err
