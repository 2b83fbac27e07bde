"""No import cycle between glassnet's modules at run time, found by parsing every module with ast.

Rules of the checker:
- Every import that runs counts: module level, function level, class level, inside try or if.
  Imports in the body of `if TYPE_CHECKING:` never run and are checked by the wing rule instead.
- Importing `glassnet.a.b` first runs the package `glassnet.a` (its __init__.py), so it is an edge
  to both. An edge from a module to one of its own parent packages is dropped: the parent is always
  already running by then. An edge from a package to its own submodules is kept, because it runs
  them (the only way a cycle can pass through a package __init__).
- Wings: the first package under glassnet (glassnet.io.* is the "io" wing); the top-level modules
  form the "core" wing. A TYPE_CHECKING import into another wing must point downward: the imported
  module must not import the importer's wing at run time.
"""

from __future__ import annotations

import ast
import textwrap
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "src" / "glassnet"

Graph = dict[str, set[str]]
ImportNode = ast.Import | ast.ImportFrom


@dataclass(frozen=True)
class Edge:
    """One module importing another: `source` runs `target` unless `type_only`."""

    source: str
    target: str
    type_only: bool
    line: int


def find_modules(root: Path) -> dict[str, Path | None]:
    """Every module and package under root by dotted name (a folder without __init__.py maps to None)."""
    modules: dict[str, Path | None] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        for depth in range(1, len(parts)):
            modules.setdefault(".".join(parts[:depth]), None)
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    """`TYPE_CHECKING` or `typing.TYPE_CHECKING`."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(nodes: Iterable[ast.AST], type_only: bool = False) -> Iterator[tuple[ImportNode, bool]]:
    """Every import statement at any depth under nodes, flagged when it is under `if TYPE_CHECKING:`."""
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, type_only
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.body, type_only=True)
            yield from _import_nodes(node.orelse, type_only)  # the else branch does run
        else:
            yield from _import_nodes(ast.iter_child_nodes(node), type_only)


def _imported_names(node: ImportNode, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement asks for, relative imports made absolute."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _modules_run_by(name: str, modules: dict[str, Path | None]) -> list[str]:
    """The modules that importing `name` runs: each known prefix (glassnet.a.b runs glassnet and glassnet.a)."""
    parts = name.split(".")
    prefixes = (".".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return [prefix for prefix in prefixes if prefix in modules]


def find_edges(root: Path) -> list[Edge]:
    """Every import between the modules of the package at root, minus those into the importer's own parents."""
    modules = find_modules(root)
    edges = []
    for module, path in modules.items():
        if path is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, type_only in _import_nodes(tree.body):
            for name in _imported_names(node, module, path.name == "__init__.py"):
                for target in _modules_run_by(name, modules):
                    if target != module and not module.startswith(target + "."):
                        edges.append(Edge(module, target, type_only, node.lineno))
    return list(dict.fromkeys(edges))  # `from a import b` names a twice


def runtime_graph(edges: Iterable[Edge]) -> Graph:
    """module -> the modules it runs (TYPE_CHECKING imports left out)."""
    graph: Graph = {}
    for edge in edges:
        if not edge.type_only:
            graph.setdefault(edge.source, set()).add(edge.target)
    return graph


def shortest_path(graph: Graph, start: str, goals: set[str]) -> list[str]:
    """The shortest chain of one or more imports from start into goals, [start, ..., goal]; [] if none."""
    parents: dict[str, str] = {}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        for target in sorted(graph.get(module, ())):
            if target in goals:
                path = [target, module]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return path[::-1]
            if target not in parents and target != start:
                parents[target] = module
                queue.append(target)
    return []


def find_cycles(graph: Graph) -> list[list[str]]:
    """Import cycles as [a, b, ..., a]: the shortest through each module not already on a reported one."""
    cycles: list[list[str]] = []
    covered: set[str] = set()
    for module in sorted(graph):
        if module not in covered and (cycle := shortest_path(graph, module, {module})):
            cycles.append(cycle)
            covered.update(cycle)
    return cycles


def wing(module: str, packages: set[str]) -> str:
    """glassnet.io.npz -> "io"; a top-level module such as glassnet.losses -> "core"; glassnet -> "glassnet"."""
    parts = module.split(".")
    if len(parts) == 1:
        return module
    return parts[1] if ".".join(parts[:2]) in packages else "core"


def wing_violations(edges: list[Edge], modules: Iterable[str]) -> list[str]:
    """TYPE_CHECKING imports into another wing whose target imports the importer's wing at run time."""
    names = set(modules)
    packages = {name.rpartition(".")[0] for name in names}
    graph = runtime_graph(edges)
    problems: dict[tuple[str, int], str] = {}  # one per import statement: its deepest target that goes back
    for edge in edges:
        here = wing(edge.source, packages)
        if not edge.type_only or wing(edge.target, packages) == here:
            continue
        back = shortest_path(graph, edge.target, {m for m in names if wing(m, packages) == here})
        if back:
            problems[edge.source, edge.line] = (
                f"{edge.source} (line {edge.line}) imports {edge.target} under TYPE_CHECKING, "
                f"but at run time {' -> '.join(back)}"
            )
    return list(problems.values())


def describe(cycles: list[list[str]]) -> str:
    """One line per cycle: a -> b -> a."""
    return "\n".join(" -> ".join(cycle) for cycle in cycles)


def write_package(root: Path, files: dict[str, str]) -> Path:
    """Write {relative path: source} under root; return the package folder (the first path's top folder)."""
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root / Path(next(iter(files))).parts[0]


# --- the real package


def test_glassnet_has_no_import_cycle() -> None:
    cycles = find_cycles(runtime_graph(find_edges(PACKAGE_ROOT)))
    assert not cycles, f"import cycles at run time:\n{describe(cycles)}"


def test_glassnet_type_checking_imports_point_downward() -> None:
    problems = wing_violations(find_edges(PACKAGE_ROOT), find_modules(PACKAGE_ROOT))
    assert not problems, "TYPE_CHECKING imports pointing back into another wing:\n" + "\n".join(problems)


def test_only_the_apps_and_main_import_the_apps_wing() -> None:
    modules = find_modules(PACKAGE_ROOT)
    packages = {name.rpartition(".")[0] for name in modules}
    upward = [
        f"{edge.source} (line {edge.line}) imports {edge.target}"
        for edge in find_edges(PACKAGE_ROOT)
        if wing(edge.target, packages) == "apps" != wing(edge.source, packages) and edge.source != "glassnet.__main__"
    ]
    assert not upward, "imports into glassnet.apps from below (function level included):\n" + "\n".join(upward)


# --- the checker itself, on small packages with known cycles


TOY_CYCLES = {
    "toy/__init__.py": "from toy.alpha import A\n",
    "toy/alpha.py": "from .beta import B\nA = 1\n",
    "toy/beta.py": """\
        B = 2

        def load():
            from toy import alpha  # runs when called: still a cycle
            return alpha
        """,
    "toy/net/__init__.py": "from toy.net.model import Model\n",
    "toy/net/model.py": """\
        class Model:
            def save(self):
                from toy.io.files import save
                save(self)
        """,
    "toy/io/__init__.py": "",
    "toy/io/files.py": "from toy.net import Model\n",
}


def test_checker_finds_function_level_and_package_cycles(tmp_path: Path) -> None:
    cycles = find_cycles(runtime_graph(find_edges(write_package(tmp_path, TOY_CYCLES))))
    assert describe(cycles) == (
        "toy.alpha -> toy.beta -> toy.alpha\n"
        "toy.io.files -> toy.net -> toy.net.model -> toy.io.files"  # through the package toy.net
    )


TOY_TYPE_CHECKING = {
    "toy/__init__.py": "import toy.net\n",
    "toy/net/__init__.py": "from toy.net.model import Model\n",
    "toy/net/data.py": """\
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from toy.net import Model  # back into its own wing: allowed
        """,
    "toy/net/model.py": """\
        import typing

        from toy.io.files import save

        if typing.TYPE_CHECKING:
            from toy.io.files import Path  # downward into another wing: allowed
        """,
    "toy/io/__init__.py": "",
    "toy/io/files.py": """\
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from toy.net import Model  # toy.net imports toy.io at run time: not allowed
        else:
            from toy import core  # runs
        """,
    "toy/core.py": "",
}


def test_checker_ignores_type_checking_back_edges_but_checks_their_wing(tmp_path: Path) -> None:
    root = write_package(tmp_path, TOY_TYPE_CHECKING)
    edges = find_edges(root)
    assert find_cycles(runtime_graph(edges)) == []
    assert runtime_graph(edges)["toy.io.files"] == {"toy.core"}
    assert wing_violations(edges, find_modules(root)) == [
        "toy.io.files (line 4) imports toy.net under TYPE_CHECKING, but at run time toy.net -> toy.net.model -> toy.io"
    ]
