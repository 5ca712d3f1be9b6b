"""The import structure of ``src/edgecraft``: no cycles between modules, packages import downwards.

Every ``import`` statement counts, wherever it sits: module level, inside ``if TYPE_CHECKING:``,
inside a function. The order of the packages is the one documented in ``docs/architecture.md``;
this test reads it from there, so the document and the tree cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "architecture.md"

#: Top-level modules of ``edgecraft`` that product code never imports (``__main__`` and
#: ``edgecraft/__init__.py`` sit above every package and may import any of them).
TEST_ONLY = {"reference"}
#: Any other top-level module (e.g. ``files.py``) sits below every package: it imports none.
ABOVE_ALL = {"__main__", "__init__"}


def module_files(src: Path = SRC) -> dict[str, Path]:
    """Dotted module name -> file, for every module under ``src/edgecraft``."""
    found = {}
    for path in sorted((src / "edgecraft").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, source: str, is_package: bool, known: set[str]) -> set[str]:
    """The ``edgecraft`` modules that module ``name`` imports anywhere in ``source``.

    ``from a.b import c`` counts as importing ``a.b.c`` when that is a module, else ``a.b``;
    a name that is not a module resolves to the closest enclosing module that is.
    """
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, *([node.module] if node.module else [])])
            else:
                prefix = node.module or ""
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]
        else:
            continue
        for t in targets:
            while t not in known and "." in t:
                t = t.rsplit(".", 1)[0]
            if t in known and t != name:
                out.add(t)
    return out


@cache
def import_graph() -> dict[str, set[str]]:
    """Module -> the ``edgecraft`` modules it imports (read once per test session)."""
    files = module_files()
    known = set(files)
    return {m: imports_of(m, p.read_text(), p.name == "__init__.py", known) for m, p in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None when the graph is acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        path.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return [*path[path.index(w):], w]
            if w not in state and (found := visit(w)):
                return found
        path.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def documented_table() -> list[tuple[str, set[str] | None]]:
    """(package, the packages it imports; None for "everything") in the order of the table in
    docs/architecture.md (``| 1 | `ir/` | what it owns | imports |``)."""
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*`(\w+)/`\s*\|.*\|([^|]*)\|\s*$", DOC.read_text(), flags=re.M)
    assert rows, f"no package table found in {DOC}"
    assert [int(n) for n, _, _ in rows] == list(range(1, len(rows) + 1)), "table rows not numbered 1..n"
    table: list[tuple[str, set[str] | None]] = []
    for _, pkg, cell in rows:
        text = cell.strip()
        table.append((pkg, None if text == "everything" else {p.strip() for p in text.split(",") if p.strip()}
                      - {"—", "-"}))
    return table


def documented_order() -> list[str]:
    """Package names in the order of the table in docs/architecture.md."""
    return [pkg for pkg, _ in documented_table()]


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_collector_sees_function_level_relative_and_type_checking_imports() -> None:
    known = {"edgecraft", "edgecraft.a", "edgecraft.a.x", "edgecraft.a.y", "edgecraft.b", "edgecraft.c"}
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import y\n"
        "if TYPE_CHECKING:\n    from edgecraft.c import Thing\n"
        "def f():\n    from edgecraft.b import helper\n    import edgecraft.a.y.deeper\n"
    )
    found = imports_of("edgecraft.a.x", source, False, known)
    assert found == {"edgecraft.a.y", "edgecraft.b", "edgecraft.c"}


def test_find_cycle_reports_the_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle_between_modules() -> None:
    graph = import_graph()
    assert len(graph) > 100 and sum(map(len, graph.values())) > 200  # the walk saw the tree
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_packages_import_only_downwards_in_the_documented_order() -> None:
    order = documented_order()
    graph = import_graph()
    packages = {p.name for p in (SRC / "edgecraft").iterdir() if (p / "__init__.py").exists()}
    assert packages == set(order), (
        "docs/architecture.md's package table must list exactly the packages under src/edgecraft"
    )
    rank = {pkg: i for i, pkg in enumerate(order)}
    base = {m.split(".")[1] for m in graph if m.count(".") == 1} - packages - TEST_ONLY - ABOVE_ALL
    wrong = []
    for m, targets in graph.items():
        src = package_of(m)
        for t in targets:
            dst = package_of(t)
            if dst in TEST_ONLY:
                wrong.append(f"{m} imports {t}, which is for tests and benchmarks only")
            elif src in base and dst != src:
                wrong.append(f"{m} sits below every package but imports {t}")
            elif src in rank and dst in rank and rank[dst] > rank[src]:
                wrong.append(f"{m} ({src}, #{rank[src] + 1}) imports {t} ({dst}, #{rank[dst] + 1})")
    assert not wrong, "imports against the documented order:\n" + "\n".join(sorted(wrong))


def test_the_documented_imports_column_is_the_tree() -> None:
    """Each row's "imports" cell names exactly the packages that package imports today."""
    graph = import_graph()
    packages = {pkg for pkg, _ in documented_table()}
    wrong = []
    for pkg, documented in documented_table():
        if documented is None:
            continue
        actual = {package_of(t) for m, ts in graph.items() if package_of(m) == pkg for t in ts} & packages
        actual.discard(pkg)
        if actual != documented:
            wrong.append(f"{pkg}: docs say {', '.join(sorted(documented)) or '—'}; "
                         f"the tree imports {', '.join(sorted(actual)) or '—'}")
    assert not wrong, "fix the imports column of docs/architecture.md:\n" + "\n".join(wrong)
