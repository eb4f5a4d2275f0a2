"""`make package` and `sam build`: the zip, or the directory, holds what Lambda needs and nothing else,
and runs alone.

One real build of each per session (pip, network: wheels come from PyPI or pip's cache), for this
machine's Python and architecture, so that the unpacked zip can be run here with a stock interpreter.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from authorizer import __version__
from authorizer.policy.load import digest_of
from tests.conftest import FIXTURES, REPO

PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
SCRIPT = REPO / "deploy" / "package.py"
SAMPLE = FIXTURES / "aws-lambda-go" / "apigw-custom-auth-request-type-request.json"  # the docs' REQUEST sample
SAM = shutil.which("sam", path=str(Path(sys.executable).parent)) or shutil.which("sam")


def load_package_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_package", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_package(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    output = tmp_path_factory.mktemp("build") / "authorizer-dev.zip"
    result = run_package("--stage", "dev", "--python-version", PYTHON_VERSION, "--arch", ARCH, "--output", str(output))
    assert result.returncode == 0, result.stderr
    return output, result.stdout


def sam_build_target(artifacts: Path | None, *variables: str) -> subprocess.CompletedProcess[str]:
    """The Makefile target `sam build` runs, as it runs it (ARTIFACTS_DIR in the environment), with
    this interpreter's bin/ for the venv's (make must not set a venv up here)."""
    env = {name: value for name, value in os.environ.items() if name != "ARTIFACTS_DIR"}
    if artifacts is not None:
        env["ARTIFACTS_DIR"] = str(artifacts)
    command = ["make", "-o", ".venv/.installed", "build-AuthorizerFunction", f"BIN={Path(sys.executable).parent}"]
    return subprocess.run([*command, *variables], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def laid_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artifacts = tmp_path_factory.mktemp("sam-build") / "AuthorizerFunction"
    result = sam_build_target(artifacts, "STAGE=dev", f"PYTHON_VERSION={PYTHON_VERSION}", f"ARCH={ARCH}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "policy deploy/stages/dev.yaml" in result.stdout and "keep AuthorizerCacheTtl=0" in result.stdout
    return artifacts


@pytest.fixture(scope="module")
def names(built: tuple[Path, str]) -> list[str]:
    with zipfile.ZipFile(built[0]) as archive:
        return archive.namelist()


@pytest.fixture(scope="module")
def unpacked(built: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("task-root")
    with zipfile.ZipFile(built[0]) as archive:
        archive.extractall(target)
    return target


def run_unpacked(root: Path, event: dict[str, Any]) -> dict[str, Any]:
    """The handler, from the unpacked zip alone: no site-packages (-S), no PYTHON* variables (-I), and
    nothing written (-B), as on Lambda's read-only task root."""
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "from authorizer import handler\n"
        "try:\n"
        "    response = handler.lambda_handler(json.loads(sys.stdin.read()), None)\n"
        "except Exception as exc:\n"
        "    response = {'raised': str(exc)}\n"
        "loaded = sorted(m for m in ('pydantic', 'boto3', 'botocore') if m in sys.modules)\n"
        "code = handler._runtime.store.current().fast.__code__.co_filename\n"
        "print(json.dumps({'response': response, 'loaded': loaded, 'code': code}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-B", "-c", code],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=root,  # Lambda's working directory is the task root: policy.yaml is found there
        env={"AUTHORIZER_METRICS": "false", "POWERTOOLS_LOG_LEVEL": "WARNING"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return outcome


def test_the_unpacked_zip_alone_decides_the_docs_sample(unpacked: Path) -> None:
    event = json.loads(SAMPLE.read_text())
    outcome = run_unpacked(unpacked, event)
    statement = outcome["response"]["policyDocument"]["Statement"][0]
    assert (outcome["response"]["principalId"], statement["Effect"]) == ("me", "Allow")
    assert statement["Resource"] == event["methodArn"]  # `resource: method`, as the docs do
    assert outcome["loaded"] == []  # the packaged validated-data cache spares pydantic; boto3 is not needed
    # the generated function's bytecode, compiled by the build: nothing compiled at the cold start
    assert outcome["code"].endswith("__authorizer_cache__/policy.yaml.decide.py")


def test_the_unpacked_zip_refuses_a_wrong_header(unpacked: Path) -> None:
    event = json.loads(SAMPLE.read_text())
    event["headers"]["HeaderAuth1"] = "another-value"
    event["multiValueHeaders"]["HeaderAuth1"] = ["another-value"]
    assert run_unpacked(unpacked, event)["response"] == {"raised": "Unauthorized"}


def test_sam_build_lays_out_what_the_zip_holds(laid_out: Path, names: list[str]) -> None:
    assert sorted(name for _, name in load_package_module().files_in(laid_out)) == sorted(names)


def test_the_sam_build_directory_alone_decides_the_docs_sample(laid_out: Path) -> None:
    outcome = run_unpacked(laid_out, json.loads(SAMPLE.read_text()))
    assert outcome["response"]["principalId"] == "me" and outcome["loaded"] == []


def test_sam_build_refuses_a_directory_with_files_in_it(tmp_path: Path) -> None:
    """Whatever is there would be shipped as well."""
    (tmp_path / "stale.py").write_text("")
    result = run_package("--stage", "dev", "--output-dir", str(tmp_path))
    assert result.returncode == 2 and "is not empty" in result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["stale.py"]


def test_the_sam_build_target_needs_sams_artifacts_dir() -> None:
    result = sam_build_target(None)
    assert result.returncode != 0 and "ARTIFACTS_DIR is not set" in result.stderr


def test_zip_bundles_the_stage_policy_with_its_validated_cache(built: tuple[Path, str], names: list[str]) -> None:
    raw = (REPO / "deploy" / "stages" / "dev.yaml").read_bytes()
    with zipfile.ZipFile(built[0]) as archive:
        assert archive.read("policy.yaml") == raw
    assert f"__authorizer_cache__/policy.yaml.{digest_of(raw)[:16]}.v{__version__}.json" in names
    tag = f"cpython-{PYTHON_VERSION.replace('.', '')}"
    assert "__authorizer_cache__/policy.yaml.decide.py" in names  # the generated function, precompiled
    assert f"__authorizer_cache__/__pycache__/policy.yaml.decide.{tag}.pyc" in names


def test_zip_ships_no_boto_no_tests_no_foreign_caches(names: list[str]) -> None:
    tops = {name.split("/", 1)[0] for name in names}
    assert not tops & {"boto3", "botocore", "s3transfer", "tests", "bin", "policies", "deploy"}
    assert "authorizer/handler.py" in names and "aws_lambda_powertools/__init__.py" in names
    tag = f".cpython-{sys.version_info.major}{sys.version_info.minor}.pyc"
    pycs = [name for name in names if name.endswith(".pyc")]
    assert pycs and all(name.endswith(tag) for name in pycs)  # compiled for the target runtime only
    assert not [name for name in names if name.endswith((".pyc.tmp", ".partial")) or "/.pytest_cache/" in name]


def test_zip_is_small_and_reports_its_size(built: tuple[Path, str]) -> None:
    output, stdout = built
    size = output.stat().st_size
    assert size < 10_000_000
    assert f"{size / 1e6:.1f} MB" in stdout
    assert "keep AuthorizerCacheTtl=0" in stdout  # dev allows method-scoped: caching would be unsafe


def test_the_readme_says_how_big_the_zip_is(built: tuple[Path, str]) -> None:
    """README.md's figure is for a build with .pyc, as this one is; dependencies grow and shrink."""
    stated = re.search(r"\(([\d.]+) MB\s+with its `\.pyc`", (REPO / "README.md").read_text())
    assert stated, "README.md: the zip's size, '(N.N MB with its `.pyc`'"
    size = built[0].stat().st_size
    assert abs(float(stated[1]) * 1e6 - size) <= 0.1 * size, f"the zip is {size / 1e6:.1f} MB now"


def test_template_copy_points_at_the_stage_zip(built: tuple[Path, str]) -> None:
    template = built[0].parent / "template-dev.yaml"
    text = template.read_text()
    assert "CodeUri: authorizer-dev.zip\n" in text and "CodeUri: ..\n" not in text


@pytest.mark.skipif(SAM is None, reason="SAM CLI is not installed (pip install aws-sam-cli; it is in the dev extra)")
def test_template_copy_passes_sam_validate_lint(built: tuple[Path, str]) -> None:
    assert SAM is not None
    template = built[0].parent / "template-dev.yaml"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [SAM, "validate", "--lint", "-t", str(template)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("how", ["make package", "sam build"])
def test_an_invalid_policy_fails_the_build_before_any_download(tmp_path: Path, how: str) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nrules:\n  - name: r\n    effect: alow\n")
    output = tmp_path / ("authorizer-x.zip" if how == "make package" else "artifacts")
    if how == "make package":
        result = run_package("--stage", "x", "--policy", str(broken), "--output", str(output))
    else:
        result = sam_build_target(output, "STAGE=x", f"POLICY={broken}")
    said = result.stdout + result.stderr  # as `authorizer validate` says it
    assert result.returncode == (1 if how == "make package" else 2)  # make says 2 for any failed recipe
    assert f"{broken}:4:13:" in said and "did you mean 'allow'" in said
    assert "Traceback" not in said and "policy invalid, nothing built" in result.stderr
    assert not output.exists() or not any(output.iterdir())


def test_a_stage_without_a_policy_is_a_usage_error() -> None:
    result = run_package("--stage", "nosuchstage")
    assert result.returncode == 2
    assert "deploy/stages/nosuchstage.yaml" in result.stderr and "dev" in result.stderr


def test_zip_bytes_depend_only_on_the_content(tmp_path: Path) -> None:
    """Reproducible: rebuilding unchanged files gives the same zip (no needless Lambda versions)."""
    package = load_package_module()
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "b.py").write_text("B = 1\n")
    (tree / "a.txt").write_text("a\n")
    package.write_zip(tree, tmp_path / "one.zip")
    for path in (tree / "a.txt", tree / "pkg" / "b.py"):
        path.touch()
        path.chmod(0o600)
    package.write_zip(tree, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "two.zip") as archive:
        assert [info.external_attr >> 16 for info in archive.infolist()] == [0o100644, 0o100644]


@pytest.mark.parametrize(
    ("python_version", "arch", "expected"),
    [
        ("3.11", "x86_64", ["manylinux2014_x86_64"]),
        ("3.12", "arm64", ["manylinux2014_aarch64", "manylinux_2_28_aarch64"]),
        ("3.13", "aarch64", ["manylinux2014_aarch64", "manylinux_2_28_aarch64"]),
    ],
)
def test_wheel_platforms_follow_the_runtime_glibc(python_version: str, arch: str, expected: list[str]) -> None:
    assert load_package_module().platforms(python_version, arch) == expected


@pytest.mark.parametrize(("stage", "advice"), [("dev", "keep AuthorizerCacheTtl=0"), ("prod", "caching")])
def test_the_build_says_whether_the_stage_policy_may_be_cached(stage: str, advice: str, tmp_path: Path) -> None:
    package = load_package_module()
    said = package.bundle_policy(package.stage_policy(stage, None), tmp_path).advice
    assert advice in said
    assert ("is safe" in said) == (stage == "prod")  # prod allows stage-wide; dev only the method


def test_bytecode_names_lambda_paths_not_the_build_directory(built: tuple[Path, str]) -> None:
    """Temporary build paths inside .pyc would differ per build and show up in Lambda tracebacks."""
    import marshal

    with zipfile.ZipFile(built[0]) as archive:
        code = marshal.loads(
            archive.read(f"authorizer/__pycache__/handler.cpython-{PYTHON_VERSION.replace('.', '')}.pyc")[16:]
        )
    assert code.co_filename == "/var/task/authorizer/handler.py"


# -- a policy with tokens ------------------------------------------------------------------------------
def test_a_zip_without_tokens_has_no_cryptography(names: list[str]) -> None:
    assert "authorizer/tokens/verify.py" in names  # the package is whole; its dependency is not
    assert not [name for name in names if name.split("/", 1)[0].startswith(("cryptography", "cffi", "_cffi"))]


@pytest.fixture(scope="module")
def token_zip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any, str]:
    """The Cognito example built with a key set of a key this test holds: (unpacked root, key, issuer, stdout)."""
    from authorizer.policy.load import load_file
    from authorizer.tokens.mint import DevKey, write_jwks

    folder = tmp_path_factory.mktemp("policy")
    shutil.copy(REPO / "policies" / "cognito-rest.yaml", folder / "cognito-rest.yaml")
    key = DevKey.generate("RS256")
    (folder / "jwks").mkdir()
    write_jwks(folder / "jwks" / "cognito.json", [key])
    output = tmp_path_factory.mktemp("build") / "authorizer-tokens.zip"
    args = ("--python-version", PYTHON_VERSION, "--arch", ARCH, "--output", str(output))
    result = run_package("--stage", "tokens", "--policy", str(folder / "cognito-rest.yaml"), *args)
    assert result.returncode == 0, result.stderr
    root = tmp_path_factory.mktemp("task-root-tokens")
    with zipfile.ZipFile(output) as archive:
        archive.extractall(root)
    tokens = load_file(folder / "cognito-rest.yaml", use_cache=False).policy.tokens
    assert tokens is not None
    return root, key, tokens.issuers["cognito"], result.stdout


@pytest.mark.slow  # a third real build (pip, cryptography's wheel, compileall): ~11 s
def test_a_token_policys_zip_verifies_a_minted_token_from_a_cold_interpreter(
    token_zip: tuple[Path, Any, Any, str],
) -> None:
    from authorizer.event.builder import RequestSpec
    from authorizer.tokens.mint import DevKey, mint_for

    root, key, issuer, stdout = token_zip
    assert (root / "jwks" / "cognito.json").is_file() and (root / "cryptography").is_dir()
    assert "tokens: cryptography added; key sets packaged: jwks/cognito.json" in stdout
    claims = {"sub": "alice", "cognito:groups": ["readers"], "custom:tenant": "acme"}

    def event(signer: Any) -> dict[str, Any]:
        token = mint_for(issuer, signer, claims)
        spec = RequestSpec(
            path="/tenants/acme/orders",
            path_parameters={"tenant": "acme"},
            headers={"Authorization": f"Bearer {token}"},
        )
        return spec.to_event("rest")

    allowed = run_unpacked(root, event(key))
    assert allowed["response"]["principalId"] == "alice" and allowed["loaded"] == []
    assert allowed["response"]["context"] == {"tenant": "acme", "groups": "readers"}
    assert run_unpacked(root, event(DevKey.generate("RS256", key.kid)))["response"] == {"raised": "Unauthorized"}


def test_a_key_set_outside_the_policys_folder_is_not_packaged(tmp_path: Path) -> None:
    policy = tmp_path / "stage" / "p.yaml"
    policy.parent.mkdir()
    text = (REPO / "policies" / "cognito-rest.yaml").read_text().replace("jwks/cognito.json", "../cognito.json")
    policy.write_text(text)
    shutil.copy(REPO / "policies" / "jwks" / "cognito.json", tmp_path / "cognito.json")
    package = load_package_module()
    (tmp_path / "out").mkdir()
    with pytest.raises(package.BuildError, match="must be inside the policy's folder"):
        package.bundle_policy(policy, tmp_path / "out")
    assert not list((tmp_path / "out").iterdir())
