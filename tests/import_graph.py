"""Who imports whom inside l4tui, read from the source (ast), imports inside functions included.

Used by tests/test_architecture.py (no cycles; the core never imports the CLI or the UI) and to
write the package table of docs/architecture.md (`python tests/import_graph.py --packages`).
"""

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "l4tui"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_names(path: Path) -> list[tuple[str, int]]:
    """(the module named, line) for every import in the file, at any depth; `from a import b`
    names `a.b` too, since b may be a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from ..a import b
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            found.append((origin, node.lineno))
            found += [(f"{origin}.{alias.name}", node.lineno) for alias in node.names]
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {l4tui module it imports: the first line that does}. Package __init__ files
    that only a submodule import passes through are not edges: ours hold docstrings only."""
    modules = all_modules()
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in imported_names(path):
            if target in modules and target != name and not modules[target].name == "__init__.py":
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer(module: str) -> str:
    """The package a module belongs to: l4tui.train.loop -> train; l4tui.cli -> cli."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_imports(graph) -> dict[str, list[str]]:
    """layer -> the other layers it imports, sorted."""
    layers = defaultdict(set)
    for module, edges in graph.items():
        layers[layer(module)]
        for target in edges:
            if layer(target) != layer(module):
                layers[layer(module)].add(layer(target))
    return {name: sorted(targets) for name, targets in sorted(layers.items())}


if __name__ == "__main__":
    if "--packages" in sys.argv:
        for name, targets in package_imports(import_graph()).items():
            print(f"| `{name}` | {', '.join(f'`{t}`' for t in targets) or '(nothing of l4tui)'} |")
    else:
        for component in cycles(import_graph()):
            print(" <-> ".join(component))
