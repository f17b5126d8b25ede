"""The floor plan holds: no import cycles, apps depend one way, modules and views stay small.

Run alone with `python -m pytest tests/test_structure.py -v`; a failure names the cycle,
the import or the function to move.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("studio", "accounts", "generations")
MAX_MODULE_LINES = 400
MAX_VIEW_LINES = 40


def _source_files(*roots: str) -> list[Path]:
    return sorted(
        p
        for root in roots
        for p in (ROOT / root).rglob("*.py")
        if "migrations" not in p.parts and ".venv" not in p.parts and "node_modules" not in p.parts
    )


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in _source_files(*PACKAGES)}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Project modules `module` imports anywhere (functions included), leaving out `if TYPE_CHECKING:`."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in MODULES and name != module}


def import_graph() -> dict[str, set[str]]:
    return {
        name: _imports(ast.parse(path.read_text()), name, path.name == "__init__.py") for name, path in MODULES.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a cycle to break."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
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
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_the_import_graph_has_no_cycle():
    assert _cycles(import_graph()) == []


def test_the_graph_sees_imports_inside_functions():
    tree = ast.parse("def f():\n    from generations import tasks\n")
    assert _imports(tree, "generations.services", False) == {"generations.tasks"}


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_accounts_does_not_depend_on_generations():
    graph = import_graph()
    reaching = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("accounts")
        for target in targets
        if target.startswith("generations")
    }
    assert reaching == set()


def test_the_project_packages_import_nothing_from_the_doors_above_them():
    """`studio.paging` and the like are below both apps: they import neither."""
    graph = import_graph()
    below = [name for name in graph if name in ("studio.env", "studio.paging")]
    assert below
    assert {name: graph[name] for name in below} == {name: set() for name in below}


def test_every_module_imports_in_a_fresh_interpreter():
    """Each module on its own, so an order-dependent import (a cycle in disguise) fails here."""
    script = (
        "import importlib, sys, django\n"
        "django.setup()\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {exc!r}')\n"
        "print('\\n'.join(failed))\n"
    )
    names = sorted(n for n in MODULES if not n.endswith(".run"))
    result = subprocess.run(
        [sys.executable, "-c", script, *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == ""


def test_no_module_is_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _source_files(*PACKAGES, "tests", "bench")
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def _is_view(node: ast.FunctionDef) -> bool:
    """Takes the request and answers it (a helper that builds a context is not a view)."""
    args = node.args.posonlyargs + node.args.args
    answers = node.returns is not None and "Response" in ast.unparse(node.returns)
    return bool(args) and args[0].arg == "request" and answers


def test_no_function_view_is_over_40_lines():
    view_files = [
        p
        for p in _source_files("accounts", "generations")
        if p.name.startswith("views") or "views" in p.parts or p.name in ("boards.py", "endpoints.py", "files.py")
    ]
    assert len(view_files) >= 8
    long = {
        f"{p.relative_to(ROOT)}:{node.name}": node.end_lineno - node.lineno + 1
        for p in view_files
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.FunctionDef) and _is_view(node) and node.end_lineno - node.lineno + 1 > MAX_VIEW_LINES
    }
    assert long == {}
