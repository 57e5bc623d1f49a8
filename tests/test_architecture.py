"""The layering DESIGN.md names: no import cycles, and Dask/PySpark only behind the engine seam."""

from __future__ import annotations

import ast
from pathlib import Path

import rai_nb

PACKAGE = Path(rai_nb.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions (relative ones resolved)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m != name}
            for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _without_packages(graph):
    """Edges to a package's ``__init__`` stand for its re-exports: follow them to the module
    the name comes from, so ``from ..frame import x`` is not a cycle with every frame module."""
    packages = {name for name in graph if (PACKAGE.parent / name.replace(".", "/")).is_dir()}
    return {name: {m for m in edges if m not in packages} for name, edges in graph.items()
            if name not in packages}


def test_no_import_cycles_between_modules():
    assert _cycles(_without_packages(_graph())) == []


def test_only_the_engine_imports_dask_or_pyspark():
    engine = PACKAGE / "engine"
    offenders = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                       if engine not in p.parents
                       and any(m.split(".")[0] in ("dask", "distributed", "pyspark")
                               for m in _imports(p)))
    assert offenders == []
    twins = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*dask*.py")
                   if engine not in p.parents)
    assert twins == []


def test_api_holds_only_entry_points():
    """Every ``api/`` module is one that ``rai_nb.api`` re-exports a public function from; a
    feature's checks, tables and explainers live in the layers below (``findings/``,
    ``explainers/``, ``frame/``, ``mitigation/``)."""
    api = PACKAGE / "api"
    exported = set()
    for node in ast.parse((api / "__init__.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            assert all(not alias.name.startswith("_") for alias in node.names), node.module
            exported.add(node.module)
    modules = {p.stem for p in api.glob("*.py") if p.name != "__init__.py"}
    assert modules == exported


def test_entry_points_share_no_private_helpers():
    """An ``api/`` module may call another entry point, never its ``_`` helpers: what two
    features share belongs in a layer below."""
    shared = sorted(f"{path.stem} imports {alias.name} from {node.module}"
                    for path in (PACKAGE / "api").glob("_*.py")
                    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                    if isinstance(node, ast.ImportFrom) and node.level == 1
                    for alias in node.names if alias.name.startswith("_"))
    assert shared == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
