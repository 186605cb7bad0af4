"""The package graph of crm_backend has no loops: no package reaches itself through imports.

Every `import` counts, at module level or inside a function (an import moved into a function still
makes the loop, it only hides it), and so do loops through several packages (a → b → c → a).
Packages are crm_backend's first-level folders (core, customer, handoff, …); the top-level modules
(main.py, cli.py, jobs.py, …) are nodes of their own. Tests are left out.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]  # crm_backend/
PACKAGE = ROOT.name

Edges = dict[str, dict[str, list[str]]]  # source node → target node → evidence ("file:line")


def node_of(module: str) -> str | None:
    """'crm_backend.handoff.live' → 'handoff'; 'crm_backend.main' → 'main'; other packages → None."""
    parts = module.split(".")
    if parts[0] != PACKAGE or len(parts) < 2:
        return None
    return parts[1]


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    """(absolute module, line) of every import statement anywhere in the file."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # `from crm_backend import jobs` imports the module crm_backend.jobs
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def package_edges(root: Path = ROOT) -> Edges:
    edges: Edges = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent)
        if relative.parts[1] == "tests":
            continue
        is_package = path.name == "__init__.py"
        module = ".".join(relative.with_suffix("").parts[:-1] if is_package else relative.with_suffix("").parts)
        source = node_of(module)
        if source is None:  # crm_backend/__init__.py
            continue
        for target_module, line in imported_modules(ast.parse(path.read_text(encoding="utf-8")), module, is_package):
            target = node_of(target_module)
            if target is None or target == source:
                continue
            if (root / target).is_dir() or (root / f"{target}.py").exists():
                evidence = f"{relative}:{line}"
                if evidence not in edges[source][target]:
                    edges[source][target].append(evidence)
    return edges


def loops(edges: Edges) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(set(edges) | {t for targets in edges.values() for t in targets}):
        if node not in index:
            visit(node)
    return found


def describe(component: list[str], edges: Edges) -> str:
    members = set(component)
    lines = [f"{a} → {b}: {', '.join(edges[a][b][:3])}" for a in component for b in sorted(edges.get(a, {}))
             if b in members]
    return " / ".join(component) + "\n  " + "\n  ".join(lines)


def test_crm_backend_has_no_package_loops() -> None:
    edges = package_edges()
    assert edges["handoff"], "the graph was read (handoff imports core)"
    found = loops(edges)
    assert not found, "package loops in crm_backend:\n" + "\n".join(describe(c, edges) for c in found)


@pytest.fixture
def looping_tree(tmp_path: Path) -> Path:
    """A small crm_backend-like tree with a three-package loop closed by a function-level import."""
    root = tmp_path / PACKAGE
    for name, body in {
        "__init__.py": "",
        "a/__init__.py": "",
        "a/service.py": "from crm_backend.b.service import go\n",
        "b/__init__.py": "",
        "b/service.py": "from crm_backend.c import repository\n\ndef go():\n    return repository\n",
        "c/__init__.py": "",
        "c/repository.py": "def later():\n    from crm_backend.a import service\n    return service\n",
        "d/__init__.py": "",
        "d/service.py": "from crm_backend.a.service import go\n",
        "main.py": "from crm_backend import d\n",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return root


def test_the_check_finds_a_loop_hidden_in_a_function(looping_tree: Path) -> None:
    edges = package_edges(looping_tree)
    assert loops(edges) == [["a", "b", "c"]]
    assert "c → a: crm_backend/c/repository.py:2" in describe(["a", "b", "c"], edges)
