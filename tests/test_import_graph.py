"""No import circles in `speechgen_jupyter/`, counting every import the source names.

A circle works until someone moves one line (a top-level import, a name used at
import time) and then fails with a half-initialised module, far from the change.
Python hides most circles by running the imports lazily (inside functions or
under `if TYPE_CHECKING:`), so this walks the source with `ast` and counts
those too: a module that needs another only for a type still depends on it.

Imports by computed name (`importlib.import_module(f".{name}")`, the magics'
subcommand loading) are plugin loading, not a dependency the source can name,
and are not followed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import speechgen_jupyter

ROOT = Path(speechgen_jupyter.__file__).parent
PACKAGE = "speechgen_jupyter"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in ROOT.rglob("*.py")}


def imported(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """Every package module `name` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from . import mod` names mod (the package itself is only its parent);
            # `from .mod import f` and `from . import f` name the module f is in.
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # The module itself if it is one, else its closest enclosing package module.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith(PACKAGE) and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    edges = {name: set(imported(name, path, known)) for name, path in found.items()}
    # Importing a.b.c runs a/__init__ and a/b/__init__ first, but those are
    # the parents' own imports, not this module's: no parent edges are added.
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_walker_sees_lazy_and_type_only_imports() -> None:
    # If the walk missed these, the test below could not fail.
    edges = graph()
    assert "speechgen_jupyter.magics._magic" in edges["speechgen_jupyter.magics"]  # top level, relative
    assert "speechgen_jupyter._shared" in edges["speechgen_jupyter.magics._context"]  # inside a function
    assert "speechgen_jupyter.client" in edges["speechgen_jupyter.magics._context"]  # under TYPE_CHECKING
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles_in_the_package() -> None:
    found = cycles(graph())
    assert found == [], "import circles (each group imports itself through the others):\n" + "\n".join(
        " <-> ".join(group) for group in found
    )
