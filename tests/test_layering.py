"""Imports point one way only (see the architecture notes in README).

This test parses every module's imports with ``ast`` and fails on an upward edge or on an import cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# lower number = lower layer; a module may import only from its own layer or lower ones
LAYERS: list[tuple[str, int]] = [
    ("featurizers", 1),
    ("harmony_mol.utils", 2),
    ("harmony_mol.config", 2),
    ("harmony_mol.nn", 3),
    ("harmony_mol.data", 3),
    ("harmony_mol.models", 3),
    ("harmony_mol.trainer", 4),
    ("harmony_mol.ssl", 5),
    ("harmony_mol.finetune", 5),
    ("harmony_mol.benchmark.nodes", 5),
    ("harmony_mol.predict", 6),
    ("harmony_mol.benchmark", 6),
    ("harmony_mol.benchmark.speed", 6),
    ("harmony_mol.pipeline", 6),
    ("flows", 7),
    ("harmony_mol.cli", 8),
]


def layer_of(module: str) -> int | None:
    best = None
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    return best[1] if best else None


def iter_modules():
    for pkg in ("featurizers", "harmony_mol", "flows"):
        for path in (REPO / pkg).rglob("*.py"):
            rel = path.relative_to(REPO).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def imported_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_imports_point_down() -> None:
    bad = []
    for module, path in iter_modules():
        own = layer_of(module)
        if own is None:
            continue
        for name in imported_names(ast.parse(path.read_text())):
            other = layer_of(name)
            if other is not None and other > own:
                bad.append(f"{module} (layer {own}) imports {name} (layer {other})")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_prefect_only_in_flows() -> None:
    bad = []
    for module, path in iter_modules():
        if module.startswith("flows") or module.startswith("harmony_mol.cli"):
            continue
        for name in imported_names(ast.parse(path.read_text())):
            if name == "prefect" or name.startswith("prefect."):
                bad.append(module)
    assert not bad, f"prefect imported outside flows/: {bad}"


def module_edges(modules: set[str], module: str, tree: ast.AST) -> set[str]:
    """The library modules ``module`` imports, lazy imports inside functions included.

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module, else ``pkg``.
    """
    out: set[str] = set()
    package = module if (REPO / module.replace(".", "/") / "__init__.py").is_file() else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for name in targets:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                out.add(name)
    return out


def test_no_import_cycles() -> None:
    paths = dict(iter_modules())
    graph = {m: module_edges(set(paths), m, ast.parse(p.read_text())) for m, p in paths.items()}
    cycles, state = [], {}  # state: 1 = on the current path, 2 = done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(" -> ".join(path[path.index(n):] + [n]))
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
