"""Every CLI command answers any input with exit 2 (or 1 where findings are its contract) and one line
of its own on stderr, never a traceback: 5 MB files, binary bytes, invalid UTF-8, nesting 100,000 deep,
a folder where a file is expected (and a file where a folder is), a FIFO nobody writes to,
/dev/null, an unreadable file, and arguments no shell could mean.

Run in-process (`main(argv)`), under an alarm: a command that blocks (on a FIFO, say) fails the test
instead of hanging it. Lines of the form `file:line:col: message` are a file's problems, which
commands print one per line; besides those, a command says at most one line of its own, and never
the last-resort "unexpected" line of `cli/main.py`: every input here has a real answer.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from authorizer.cli.main import COMMANDS, main
from authorizer.policy.errors import MAX_PROBLEMS
from tests.conftest import POLICIES

EXAMPLE = str(POLICIES / "example.yaml")
EVENT = str(POLICIES / "events" / "example" / "rest-allowed.json")
SUITE = str(POLICIES / "tests" / "example.yaml")
COGNITO = str(POLICIES / "cognito-rest.yaml")
DEEP = 100_000
PROBLEM = re.compile(r"^(?!authorizer )\S.*:\d+:\d+: ")  # a file's problem, one line each

# what each command is given: argv with {} where the hostile input goes (files read, folders searched,
# files written, or plain arguments)
READS = {
    "eval": [["eval", "{}", EVENT], ["eval", EXAMPLE, "{}"]],
    "test": [["test", "{}"]],
    "validate": [["validate", "{}"], ["validate", EXAMPLE, "{}"]],
    "demo": [["demo", "{}"], ["demo", str(POLICIES), "--fixtures", "{}"]],
    "diff": [
        ["diff", "{}", EXAMPLE],
        ["diff", EXAMPLE, "{}"],
        ["diff", EXAMPLE, EXAMPLE, "--expect", "{}"],
        ["diff", EXAMPLE, EXAMPLE, "--corpus", "{}"],
    ],
    "schema": [["schema", "{}"]],
    "event": [["event", "{}"], ["event", "rest", "--context", "{}"]],
    "token": [["token", "mint", "{}"]],  # its --keys folder is made on first use: tests/test_token_cmd.py
}
WRITES = {"test": [["test", SUITE, "--junit", "{}"]]}
SAYS = {  # text, never a file
    "event": [["event", "rest", "--header", "x={}"], ["event", "rest", "--path", "/{}"]],
    "token": [["token", "mint", COGNITO, "--expires-in", "{}"]],  # a --claim takes any text
}
NOT_DRIVEN = {"serve"}  # it listens: tests/test_serve_*.py


def _contents() -> dict[str, bytes]:
    return {
        "100,000 duplicate keys": b"a: b\n" * 100_000,
        "5 MB of one line": b"x" * 5_000_000,
        "binary": bytes(range(256)) * 64,
        "invalid UTF-8": b'{"version": 1, "rules": [], "x": "\xff\xfe"}\n',
        "nested JSON": b"[" * DEEP + b"]" * DEEP,
        "nested YAML": b"".join(b"  " * i + b"- \n" for i in range(2_000)),
        "nested mappings": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    }


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Hostile input name → a path holding it."""
    root = tmp_path_factory.mktemp("hostile")
    paths = {}
    for name, data in _contents().items():
        path = root / (re.sub(r"\W+", "-", name) + ".yaml")
        path.write_bytes(data)
        paths[name] = str(path)
    (root / "empty-folder").mkdir()
    paths["a folder"] = str(root / "empty-folder")
    os.mkfifo(root / "fifo.yaml")
    paths["a FIFO nobody writes to"] = str(root / "fifo.yaml")
    paths["/dev/null"] = "/dev/null"
    paths["unreadable"] = "/proc/self/mem"  # a regular file whose read fails (EIO), even for root
    if "mode 000" in FILES:
        (root / "mode-000.yaml").write_text("version: 1\n")
        (root / "mode-000.yaml").chmod(0)
        paths["mode 000"] = str(root / "mode-000.yaml")
    paths["missing"] = str(root / "nothing-here.yaml")
    return paths


FILES = [
    *_contents(),
    *["a folder", "a FIFO nobody writes to", "/dev/null", "unreadable", "missing"],
    *(["mode 000"] if os.geteuid() != 0 else []),  # root reads it anyway
]


OUTPUTS = {
    "a folder": lambda root: str(root),
    "a FIFO nobody reads": lambda root: (os.mkfifo(root / "out.fifo"), str(root / "out.fifo"))[1],
    "a full disk": lambda root: "/dev/full",
    "a missing folder": lambda root: str(root / "no" / "such" / "out.xml"),
}

ARGUMENTS = {  # what argv can carry: invalid UTF-8 arrives as lone surrogates, and any size
    "invalid UTF-8": "\udcff\udcfe",
    "control characters": "\x1b[31m\r\n\x07",
    "1 MB": "y" * 1_000_000,
    "nested JSON": "[" * DEEP + "]" * DEEP,
}


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    def stuck(*_: object) -> None:
        raise TimeoutError("the command blocked")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def answers(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 1 or 2; on stderr a file's problems (bounded) and at most one line of the command's own
    (exactly one with exit 2); no traceback, and not the safety net's line."""
    code = main(argv)
    out, err = capsys.readouterr()
    shown = f"{[a[:80] for a in argv]}: exit {code}\nstderr: {err[:2000]}"
    assert "Traceback" not in out + err, shown
    assert code in (1, 2), shown
    lines = err.splitlines()
    own = [line for line in lines if not PROBLEM.match(line)]
    assert len(own) == 1 if code == 2 else len(own) <= 1, shown
    assert len(lines) - len(own) <= MAX_PROBLEMS + 1, shown
    assert not any("unexpected" in line for line in own), f"only the safety net caught it: {shown}"


def test_every_command_is_driven() -> None:
    assert set(READS) | set(WRITES) | set(SAYS) | NOT_DRIVEN == set(COMMANDS)


@pytest.mark.parametrize("which", FILES)
@pytest.mark.parametrize("argv", [a for argvs in READS.values() for a in argvs], ids=" ".join)
def test_hostile_files(
    argv: list[str], which: str, hostile: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    answers([hostile[which] if part == "{}" else part for part in argv], capsys)


@pytest.mark.parametrize("which", sorted(OUTPUTS))
@pytest.mark.parametrize("argv", [a for argvs in WRITES.values() for a in argvs], ids=" ".join)
def test_hostile_outputs(argv: list[str], which: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = OUTPUTS[which](tmp_path)
    answers([target if part == "{}" else part for part in argv], capsys)


@pytest.mark.parametrize("which", sorted(ARGUMENTS))
@pytest.mark.parametrize("argv", [a for argvs in [*READS.values(), *SAYS.values()] for a in argvs], ids=" ".join)
def test_hostile_arguments(argv: list[str], which: str, capsys: pytest.CaptureFixture[str]) -> None:
    answers([part.replace("{}", ARGUMENTS[which]) for part in argv], capsys)
