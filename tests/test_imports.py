"""The shape of the tree: no import cycle among the project's modules, the
queue engine pure, the roles free of the simulator, the drivers free of the
roles.  Imports are read with ``ast``, so imports inside functions and under
``TYPE_CHECKING`` count as much as those at the top of a module."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from tests.support import REPO

ROLES = ("kiosk", "counter", "hall", "sms", "master")


def _modules() -> dict[str, tuple[Path, bool]]:
    """Module name → (file, is a package), as installed (drivers/ is appliance.drivers)."""
    found: dict[str, tuple[Path, bool]] = {}
    for base, prefix in (
        (REPO / "appliance", ["appliance"]),
        (REPO / "drivers", ["appliance", "drivers"]),
    ):
        for path in base.rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if base.name == "appliance" and parts[0] == "drivers":
                continue  # the symlink to ../drivers
            package = parts[-1] == "__init__"
            name = ".".join(prefix + (parts[:-1] if package else parts))
            found[name] = (path, package)
    return found


def _imported(node: ast.AST, package: str, modules: dict[str, tuple[Path, bool]]) -> Iterator[str]:
    """The project modules an import statement runs (the module itself and
    the packages above it, whose ``__init__`` runs first)."""
    targets: list[str] = []
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        targets = [
            f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module
            for alias in node.names
        ]
    for target in targets:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            if name in modules:
                yield name


@cache
def import_graph() -> dict[str, frozenset[str]]:
    modules = _modules()
    graph: dict[str, frozenset[str]] = {}
    for name, (path, package) in modules.items():
        own = name if package else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            deps.update(_imported(node, own, modules))
        # A module's own packages are initialised before it runs: not an edge.
        graph[name] = frozenset(d for d in deps if d != name and not name.startswith(d + "."))
    return graph


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_the_walk_sees_the_imports_it_must() -> None:
    graph = import_graph()
    assert len(graph) > 100
    # Inside a function, and under TYPE_CHECKING.
    assert "appliance.tech.report_pdf" in graph["appliance.tech.report_files"]
    assert "appliance.drivers.printer" in graph["appliance.kiosk.config"]
    # And the finder finds a cycle when there is one.
    assert _cycles({"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"})}) == [
        ["a", "b", "c"]
    ]


def test_no_import_cycle_among_the_project_modules() -> None:
    assert _cycles(dict(import_graph())) == []


def test_roles_never_import_the_simulator() -> None:
    graph = import_graph()
    for name, deps in graph.items():
        if name.startswith(("appliance.sim", "appliance.cli")):
            continue
        assert not [d for d in deps if d.startswith("appliance.sim")], name


def test_only_the_command_line_imports_the_command_line() -> None:
    graph = import_graph()
    for name, deps in graph.items():
        if not name.startswith(("appliance.cli", "appliance.__main__")):
            assert not [d for d in deps if d.startswith("appliance.cli")], name


def test_drivers_depend_on_nothing_above_them_but_the_errors() -> None:
    graph = import_graph()
    for name, deps in graph.items():
        if name.startswith("appliance.drivers"):
            above = {d for d in deps if not d.startswith("appliance.drivers")}
            assert above <= {"appliance", "appliance.errors"}, (name, above)


def test_the_config_core_imports_no_role() -> None:
    graph = import_graph()
    for name in ("appliance.config", "appliance.config.core", "appliance.config.schema"):
        assert not [d for d in graph[name] if d.split(".")[1] in ROLES], name


def test_importing_the_queue_engine_loads_no_role() -> None:
    code = (
        "import json, sys; before = set(sys.modules); import appliance.queue.engine; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    loaded = [m for m in json.loads(out) if m.startswith("appliance")]
    assert "appliance.queue.engine" in loaded
    # Neither a role nor anything with I/O: the bus, the simulator, drivers, tools.
    heavy = (*ROLES, "bus", "sim", "drivers", "cli", "tech")
    assert [m for m in loaded if m.count(".") and m.split(".")[1] in heavy] == []


#: Files over the limit, each with why and what to split (a file leaves this
#: list when it is split; nothing else may join it).
OVER_LIMIT: set[str] = set()


def test_no_module_is_over_400_lines() -> None:
    files = [p for p, _ in _modules().values()] + list((REPO / "tests").rglob("*.py"))
    lines = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in files}
    assert {name: n for name, n in lines.items() if n > 420 and name not in OVER_LIMIT} == {}
    assert {name for name in OVER_LIMIT if lines.get(name, 0) <= 420} == set(), "split: drop it"
