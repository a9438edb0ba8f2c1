"""Dependencies point one way (docs/architecture.md): each package imports only the packages
below it, no two modules import each other, and no module is over 500 lines.

Imports are read from the source (function-level ones included: an import moved into a function
to dodge a cycle is still a dependency); the engine and the formula language are also imported
on their own in a fresh interpreter, to show they pull in nothing above them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ROOT

PACKAGE = ROOT / "platform" / "perfrules"
MAX_LINES = 500

#: what each part of `perfrules` may import, besides itself. The bottom row imports nothing of
#: the project; `tables` and the migrations gather every package's models; the web and the CLI
#: are the doors onto everything.
BASICS = {"cells", "cron", "money", "problems", "resources", "settings", "spreadsheet", "yamltext"}
ALLOWED: dict[str, set[str]] = {
    **{basic: set() for basic in BASICS},
    "formula": set(),
    "db": set(),
    "audit": {"db"},
    "org": {"audit", "db"} | BASICS,
    "data": {"org", "audit", "db"} | BASICS,
    "config": {"data", "org", "audit", "db", "formula"} | BASICS,
    "engine": {"config", "data", "org", "audit", "db", "formula"} | BASICS,
    "pay": {"engine", "config", "data", "org", "audit", "db", "formula"} | BASICS,
    "notify": {"org", "db"} | BASICS,
    "plugins": {"formula", "notify"},
    "workflow": {"engine", "config", "notify", "plugins", "org", "audit", "db", "formula"} | BASICS,
    "scheduler": {"workflow", "engine", "config", "notify", "plugins", "org", "audit", "db", "formula"} | BASICS,
    "tables": {"workflow", "pay", "engine", "config", "data", "notify", "org", "audit", "db"},
    "migrations": {"tables", "db"},
    "web": {
        "scheduler",
        "workflow",
        "pay",
        "engine",
        "config",
        "data",
        "notify",
        "plugins",
        "org",
        "audit",
        "db",
        "formula",
    }
    | BASICS,
    "cli": {
        "web",
        "scheduler",
        "workflow",
        "pay",
        "engine",
        "config",
        "data",
        "notify",
        "plugins",
        "org",
        "audit",
        "db",
    }
    | {"formula", "package"}
    | BASICS,
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("perfrules", *path.relative_to(PACKAGE).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _part(module: str) -> str:
    """The part of the application a module belongs to: its package, or the top-level module."""
    if module.startswith("perfrules.db.migrations"):
        return "migrations"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "package"


def _imports(module: str, path: Path) -> set[str]:
    """The project modules `module` imports, at any level of its code."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in MODULES and name != module)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def test_each_part_imports_only_the_parts_below_it():
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _part(target) != _part(module) and _part(target) not in ALLOWED[_part(module)]
    )
    assert not wrong, "\n".join(wrong)


def test_every_part_is_placed():
    assert {_part(module) for module in MODULES} <= set(ALLOWED) | {"package"}


def _cycles() -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups = []
    for root in sorted(GRAPH):
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
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
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return groups


def test_no_modules_import_each_other():
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle():
    GRAPH["perfrules.formula.tree"].add("perfrules.formula.checker")
    try:
        assert any("perfrules.formula.tree" in group for group in _cycles())
    finally:
        GRAPH["perfrules.formula.tree"].discard("perfrules.formula.checker")


def test_no_module_is_over_500_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in [*MODULES.values(), *(ROOT / "plugins").rglob("*.py")]
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


@pytest.mark.parametrize(
    "package, forbidden",
    [
        ("formula", ("perfrules.",)),
        ("engine", ("perfrules.workflow", "perfrules.web", "perfrules.cli", "perfrules.scheduler")),
        ("config", ("perfrules.engine", "perfrules.workflow", "perfrules.web", "perfrules.cli")),
    ],
)
def test_a_package_imported_alone_pulls_in_nothing_above_it(package, forbidden):
    modules = sorted(
        name for name in MODULES if name == f"perfrules.{package}" or name.startswith(f"perfrules.{package}.")
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('perfrules.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT / 'platform'}", "PATH": "/usr/bin:/bin"},
    )
    loaded = result.stdout.split()
    allowed_prefix = f"perfrules.{package}"
    above = [m for m in loaded if m.startswith(forbidden) and not m.startswith(allowed_prefix)]
    assert above == [], f"importing perfrules.{package} loads {above}"
