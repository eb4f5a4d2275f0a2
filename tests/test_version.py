"""One version, written once (authorizer/__init__.py): what is installed, what `authorizer --version`
prints, what CHANGELOG.md's newest entry is, and no doc pins a release that does not exist."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from authorizer import __version__
from authorizer.cli.main import main
from tests.conftest import REPO

VERSION = re.fullmatch(r"(\d+\.\d+\.\d+)(\.dev\d+)?", __version__)
ENTRIES = re.findall(r"^## \[([^\]]+)\] - (.+)$", (REPO / "CHANGELOG.md").read_text(), re.MULTILINE)
RELEASED = {version for version, date in ENTRIES if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)}
PINS = re.compile(r"(?:\brev: |@)v(\d+\.\d+\.\d+)\b")  # pre-commit's rev, pip's git URL


def test_the_version_is_a_release_or_the_next_one_in_development() -> None:
    assert VERSION, f"{__version__!r}: write X.Y.Z, or X.Y.Z.devN between releases"


def test_version_flag_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"authorizer {__version__}\n"
    assert importlib.metadata.version("apigw-policy-authorizer") == __version__  # pyproject.toml reads it


def test_the_console_script_has_the_flag() -> None:
    script = Path(sys.executable).parent / "authorizer"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, f"authorizer {__version__}\n")


def test_pyproject_does_not_write_the_version_again() -> None:
    with (REPO / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "authorizer.__version__"}


def test_changelog_has_an_entry_for_this_version() -> None:
    """The newest entry is this version: dated once released, `Unreleased` while in development."""
    assert VERSION and ENTRIES, "CHANGELOG.md needs entries headed '## [X.Y.Z] - YYYY-MM-DD' or '- Unreleased'"
    version, date = ENTRIES[0]
    assert version == VERSION[1]
    if VERSION[2]:
        assert date == "Unreleased", f"{__version__} is in development, but CHANGELOG.md dates {version}"
        assert version not in RELEASED, f"{version} was released: the next one is in development"
    else:
        assert version in RELEASED, f"date the CHANGELOG.md entry of {version} (YYYY-MM-DD) to release it"


def test_docs_pin_only_released_versions() -> None:
    docs = [REPO / "README.md", REPO / ".pre-commit-hooks.yaml", *sorted((REPO / "docs").glob("*.md"))]
    pinned = {(doc.name, version) for doc in docs for version in PINS.findall(doc.read_text())}
    assert {(name, version) for name, version in pinned if version not in RELEASED} == set()
