"""Build the Lambda zip for one stage: `make package STAGE=name [PYTHON_VERSION=3.12] [ARCH=x86_64]`.

build/authorizer-<stage>.zip (or, with --output-dir, a directory: what `sam build` runs through the
Makefile's build-AuthorizerFunction target) holds, at its root: the `authorizer` package; its runtime
dependencies as wheels for the Lambda runtime's Python and architecture (never boto3/botocore,
which the runtime provides), with the `tokens` extra (`cryptography`) only when the policy verifies
tokens; the stage's policy as `policy.yaml` (AUTHORIZER_POLICY's default), validated first, with its
validated-data cache so that a cold start never imports pydantic, and the key sets its issuers
package (`jwks.file`, relative to the policy, kept at the same place relative to `policy.yaml`);
and .pyc files compiled ahead when an interpreter of the target version is at hand, since the
Lambda task root is read-only and would otherwise compile every module again at each cold start.

The zip is reproducible (sorted entries, fixed timestamps): the same inputs give the same bytes,
so `sam deploy` does not publish a new version for an unchanged build. build/template-<stage>.yaml
is deploy/template.yaml pointing at this zip (SAM cannot take a local CodeUri from a parameter).

Exit codes: 0 built, 1 the policy is invalid, 2 usage or build errors.
"""

from __future__ import annotations

import argparse
import compileall
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the package being packaged

from authorizer import __version__  # noqa: E402
from authorizer.decide.generated import generate  # noqa: E402
from authorizer.policy.caching import advice  # noqa: E402
from authorizer.policy.errors import PolicyError  # noqa: E402
from authorizer.policy.load import digest_of, load, packaged_source, write_cache  # noqa: E402

STAGES = REPO / "deploy" / "stages"
TEMPLATE = REPO / "deploy" / "template.yaml"
TEMPLATE_CODE_URI = "CodeUri: .."  # the checkout: `sam build` runs the Makefile there
TASK_ROOT = "/var/task"  # where Lambda unpacks the zip
BUNDLED_POLICY = "policy.yaml"  # AUTHORIZER_POLICY's default, relative to the task root
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")  # also pulled in by nothing we depend on
NOT_SHIPPED = ("bin",)  # console scripts of dependencies
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
ARCHES = {"x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}


class BuildError(Exception):
    pass


class InvalidPolicy(Exception):
    pass


def stage_policy(stage: str, policy: Path | None) -> Path:
    """The policy to bundle: --policy, else deploy/stages/<stage>.yaml."""
    path = policy or STAGES / f"{stage}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in STAGES.glob("*.yaml"))) or "none"
        raise BuildError(f"no policy for stage {stage!r}: create {path} or pass POLICY=path (stages: {known})")
    return path


def runtime_dependencies(extras: Sequence[str] = ()) -> list[str]:
    """[project].dependencies of pyproject.toml, and those of the optional groups `extras` names: the
    lists `pip install .[extra]` reads."""
    with (REPO / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    return [*project["dependencies"], *(d for extra in extras for d in project["optional-dependencies"][extra])]


def platforms(python_version: str, arch: str) -> list[str]:
    """Wheel platforms the runtime's glibc can load: 2.26 (Amazon Linux 2) up to 3.11, 2.34 after."""
    machine = ARCHES[arch]
    tags = [f"manylinux2014_{machine}"]
    if tuple(map(int, python_version.split("."))) >= (3, 12):
        tags.append(f"manylinux_2_28_{machine}")
    return tags


def install_dependencies(target: Path, python_version: str, arch: str, extras: Sequence[str] = ()) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    command += ["--target", str(target), "--implementation", "cp", "--python-version", python_version]
    command += ["--only-binary=:all:"]
    for tag in platforms(python_version, arch):
        command += ["--platform", tag]
    result = subprocess.run(command + runtime_dependencies(extras), capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"pip could not install the dependencies:\n{result.stderr.strip()}")
    for name in PROVIDED_BY_RUNTIME + NOT_SHIPPED:
        for path in target.glob(f"{name}*"):
            if path.name == name or path.name.startswith(f"{name}-"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()


def copy_package(target: Path) -> None:
    shutil.copytree(
        REPO / "authorizer", target / "authorizer", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    )


def validate(source: Path) -> None:
    """`authorizer validate` on the policy: its errors fail the build; its warnings are shown."""
    from authorizer.cli.main import main as authorizer

    if authorizer(["validate", str(source)]) != 0:
        raise InvalidPolicy(source)


class Bundled(NamedTuple):
    advice: str  # whether the authorizer cache may be on (the analysis `authorizer validate` warns from)
    extras: tuple[str, ...]  # the optional dependency groups the policy needs
    key_sets: tuple[str, ...]  # the key set files packaged beside it


def bundle_policy(source: Path, target: Path) -> Bundled:
    """Write the policy with its validated-data cache and the key sets it packages (PolicyError if it
    does not load after all, BuildError for a key set outside the policy's folder)."""
    raw = source.read_bytes()
    loaded = load(str(source), raw)
    key_sets = packaged_key_sets(loaded.data)
    bundled = target / BUNDLED_POLICY
    bundled.write_bytes(raw)
    write_cache(bundled, digest_of(raw), loaded.data)
    packaged_source(bundled).write_text(generate(loaded.policy)[0], encoding="utf-8")  # precompiled below
    for relative in key_sets:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.parent / relative, target / relative)
    extras = ("tokens",) if loaded.policy.tokens is not None else ()
    return Bundled(advice(loaded.policy, loaded.data.get("cache")), extras, key_sets)


def packaged_key_sets(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The `jwks.file`s of the policy's issuers: relative paths inside the policy's folder (they are
    read relative to the policy, and `policy.yaml` sits at the task root)."""
    files = []
    for name, issuer in (data.get("tokens") or {}).get("issuers", {}).items():
        file = (issuer.get("jwks") or {}).get("file")
        if file is None:
            continue
        path = PurePosixPath(file)
        if path.is_absolute() or ".." in path.parts:
            raise BuildError(f"issuer {name!r}: jwks.file {file!r} must be inside the policy's folder to be packaged")
        files.append(path.as_posix())
    return tuple(dict.fromkeys(files))


def precompile(target: Path, python_version: str) -> str:
    """.pyc for the target Python: unchecked hashes (the zip never changes under them) and paths as on
    Lambda rather than this build's temporary directory, which also keeps the bytes reproducible."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == python_version:
        ok = compileall.compile_dir(
            target,
            quiet=1,
            workers=0,
            stripdir=str(target),
            prependdir=TASK_ROOT,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not ok:
            raise BuildError("compileall failed")
        return f"precompiled with {sys.executable}"
    interpreter = shutil.which(f"python{python_version}")
    probe = [interpreter or "", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    if interpreter is None or subprocess.run(probe, capture_output=True, text=True).stdout.strip() != python_version:
        return f"not precompiled: no python{python_version} here (Lambda then compiles at each cold start)"
    command = [interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    command += ["-s", str(target), "-p", TASK_ROOT]
    if subprocess.run([*command, str(target)], capture_output=True).returncode != 0:
        raise BuildError(f"{interpreter} -m compileall failed")
    return f"precompiled with {interpreter}"


def files_in(root: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path, path.relative_to(root).as_posix()


def check_shipped(root: Path) -> None:
    """Nothing the runtime provides may be shipped: a stale boto3 would shadow the runtime's own."""
    for path in sorted(root.iterdir()):
        if path.name in PROVIDED_BY_RUNTIME:
            raise BuildError(f"{path.name} must not be shipped: the Lambda runtime provides it")


def write_zip(root: Path, output: Path) -> None:
    """Sorted entries, fixed timestamps, world-readable modes (Lambda runs as another user)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path, name in files_in(root):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(output)


def write_template(stage: str, output: Path) -> Path:
    """deploy/template.yaml with CodeUri pointing at this stage's zip."""
    text = TEMPLATE.read_text()
    if text.count(TEMPLATE_CODE_URI) != 1:
        raise BuildError(f"{TEMPLATE} must contain exactly one line {TEMPLATE_CODE_URI!r}")
    target = output.parent / f"template-{stage}.yaml"
    target.write_text(text.replace(TEMPLATE_CODE_URI, f"CodeUri: {output.name}"))
    return target


def lay_out(root: Path, source: Path, python_version: str, arch: str) -> tuple[Bundled, str]:
    """Write the function's files into root; (what the policy brought, bytecode note). Raises
    InvalidPolicy, PolicyError or BuildError."""
    validate(source)  # first: an invalid policy fails the build before any download
    bundled = bundle_policy(source, root)
    install_dependencies(root, python_version, arch, bundled.extras)
    copy_package(root)
    compiled = precompile(root, python_version)
    check_shipped(root)
    return bundled, compiled


def build(stage: str, python_version: str, arch: str, policy: Path | None, output: Path, directory: bool) -> list[str]:
    """Build the zip (and its template copy), or the directory; the lines to report."""
    source = stage_policy(stage, policy)
    if directory:
        if output.exists() and any(output.iterdir()):
            raise BuildError(f"{output} is not empty: files left there would be shipped too")
        output.mkdir(parents=True, exist_ok=True)
        bundled, compiled = lay_out(output, source, python_version, arch)
        size = sum(path.stat().st_size for path, _ in files_in(output))
        built, template = f"{shown(output)}/: {size / 1e6:.1f} MB unpacked", None
    else:
        with tempfile.TemporaryDirectory(prefix=f"authorizer-{stage}-") as tmp:
            bundled, compiled = lay_out(Path(tmp), source, python_version, arch)
            write_zip(Path(tmp), output)
        built, template = f"{shown(output)}: {output.stat().st_size / 1e6:.1f} MB", write_template(stage, output)
    lambda_arch = "arm64" if ARCHES[arch] == "aarch64" else "x86_64"
    return [
        f"built {built} (authorizer {__version__}, python{python_version}, {lambda_arch}, policy {shown(source)})",
        f"policy: {bundled.advice}",
        *(
            [f"tokens: cryptography added; key sets packaged: {', '.join(bundled.key_sets) or 'none'}"]
            if bundled.extras
            else []
        ),
        f"bytecode: {compiled}",
        f"deploy: sam deploy{f' -t {shown(template)}' if template else ''} --stack-name authorizer-{stage} "
        f"--resolve-s3 --capabilities CAPABILITY_IAM --parameter-overrides Stage={stage} "
        f"PythonRuntime=python{python_version} Architecture={lambda_arch}",
    ]


def shown(path: Path) -> Path:
    return path.resolve().relative_to(REPO) if path.resolve().is_relative_to(REPO) else path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="package.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True, help="stage name: deploy/stages/<stage>.yaml is bundled")
    parser.add_argument("--python-version", default="3.12", help="the Lambda runtime's Python (default: 3.12)")
    parser.add_argument("--arch", default="x86_64", choices=sorted(ARCHES), help="Lambda architecture")
    parser.add_argument("--policy", type=Path, help="bundle this policy instead of deploy/stages/<stage>.yaml")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--output", type=Path, help="zip to write (default: build/authorizer-<stage>.zip)")
    where.add_argument("--output-dir", type=Path, help="write the files into this empty directory instead (sam build)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", args.stage):
        parser.error("--stage: letters, digits, '-' and '_' only (an API Gateway stage name)")
    if not re.fullmatch(r"3\.(1[1-9]|[2-9]\d)", args.python_version):
        parser.error("--python-version: 3.11 or later, written as 3.12")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    output = (args.output_dir or args.output or REPO / "build" / f"authorizer-{args.stage}.zip").resolve()
    try:
        lines = build(args.stage, args.python_version, args.arch, args.policy, output, args.output_dir is not None)
    except (InvalidPolicy, PolicyError) as exc:
        if isinstance(exc, PolicyError):
            print(exc, file=sys.stderr)
        print(f"package: policy invalid, nothing built for stage {args.stage}", file=sys.stderr)
        return 1
    except (BuildError, OSError) as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
