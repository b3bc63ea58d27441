"""No import cycles between the modules of field_agent or server_stub.

Every import statement counts, wherever it is: at the top, under ``if TYPE_CHECKING:`` or inside a function (a
lazy import still ties the two modules together; it only hides the cycle from the interpreter). Read with the
stdlib ``ast`` from the sources, so nothing is imported to check it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def module_names(package: str) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of a package (``pkg.__init__`` named ``pkg``)."""
    names = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(module: str, path: Path, modules: set[str]) -> set[str]:
    """The package's modules ``module`` imports (``from a.b import c`` is a.b.c if that is a module, else a.b)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.c` of a name inside a module: that module
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def cycles(package: str) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted; a self-import is no cycle."""
    sources = module_names(package)
    graph = {name: imports_of(name, path, set(sources)) for name, path in sources.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(groups)


def test_the_checker_finds_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n")
    (package / "c.py").write_text("def later():\n    import pkg.a\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert cycles("pkg") == [["pkg.a", "pkg.b"]]


@pytest.mark.parametrize(
    "package",
    [
        "field_agent",
        "server_stub",
    ],
)
def test_no_import_cycles(package: str) -> None:
    assert cycles(package) == []
