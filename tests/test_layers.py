"""The package's layers (docs/architecture.md): each module imports only from its own layer or the
ones before it, the peers of one layer (handler, testing, serve) not from each other, and nothing
imports in a cycle. Imports inside functions count too: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "authorizer"

# layer → the top-level parts of `authorizer` in it (a package, or a module without `.py`)
LAYERS: list[tuple[str, ...]] = [
    ("__init__", "files"),  # the version; reading the files people name
    ("event",),
    ("tokens",),
    ("policy",),
    ("decide",),
    ("stores",),
    ("handler", "settings", "decision_log", "testing", "serve"),
    ("diff",),
    ("cli",),
]
PEERS = {
    "handler": "lambda",
    "settings": "lambda",
    "decision_log": "lambda",
    "testing": "testing",
    "serve": "serve",
}  # groups in one layer


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every `authorizer...` module this file imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("authorizer"))
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{path}: the package uses absolute imports"
            base = node.module or ""
            if base.startswith("authorizer"):
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names if _exists(f"{base}.{alias.name}"))
    return found


def _exists(module: str) -> bool:
    target = PACKAGE.parent.joinpath(*module.split("."))
    return target.with_suffix(".py").is_file() or (target / "__init__.py").is_file()


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(module: str) -> int:
    top = _top(module)
    return next(i for i, members in enumerate(LAYERS) if top in members)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: {m for m in _imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def test_every_part_of_the_package_has_a_layer() -> None:
    tops = {_top(name) for name in MODULES}
    placed = {member for members in LAYERS for member in members}
    assert tops <= placed, f"place these in LAYERS (and docs/architecture.md): {sorted(tops - placed)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_go_down(module: str) -> None:
    upward = sorted(m for m in GRAPH[module] if _layer(m) > _layer(module))
    assert not upward, f"{module} (layer {_layer(module)}) imports from later layers: {upward}"
    sideways = sorted(
        m
        for m in GRAPH[module]
        if _layer(m) == _layer(module) and _top(m) in PEERS and PEERS[_top(m)] != PEERS.get(_top(module))
    )
    assert not sideways, f"{module} imports from a peer of its layer: {sideways}"


def test_no_import_cycles() -> None:
    """Depth-first search over the module graph; a back edge is a cycle."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        stack.append(name)
        for target in sorted(GRAPH[name]):
            if state.get(target) == "open":
                cycle = [*stack[stack.index(target) :], target]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)


def test_the_checks_see_imports() -> None:
    """The graph is not vacuous: known edges are present (a parsing slip would pass everything)."""
    assert "authorizer.event.readers" in GRAPH["authorizer.event.request"]
    assert "authorizer.policy.compiler" in GRAPH["authorizer.policy.load"]
    assert "authorizer.stores.remote" in GRAPH["authorizer.stores"]  # lazy, inside open_store
    assert "authorizer.decide.engine" not in GRAPH["authorizer.decide.generated"]
