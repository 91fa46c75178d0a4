"""Every package imports only what DESIGN.md's layout table allows.

The folder a module sits in says what it may touch; this test reads every product module's imports
(with `ast`, nothing is imported) and names each import that crosses a line it may not. Lazy imports
inside functions count the same as top-level ones: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = ("catalog", "hub", "bridges", "troubleshoot")
BELOW_FACES = ("hub.contract", "hub.engine", "hub.store", "hub.queue", "hub.app", "hub.config",
               "hub.report", "catalog", "troubleshoot", "bridges")

# package (longest prefix wins) -> project packages it may import (prefixes); itself is always allowed.
ALLOWED: dict[str, tuple[str, ...]] = {
    "hub": (),
    "catalog": (),
    "hub.contract": ("catalog",),
    "hub.engine": ("hub.contract", "catalog"),
    "hub.store": ("hub.contract", "catalog"),
    "hub.queue": ("hub.contract", "hub.engine", "hub.store", "catalog"),
    "hub.app": ("hub.contract", "hub.engine", "hub.store", "hub.queue", "hub.config", "catalog",
                "bridges", "troubleshoot"),
    "hub.config": ("hub.contract", "catalog"),
    "hub.report": ("hub.contract", "catalog"),
    "hub.mcp": BELOW_FACES,
    "hub.http": (*BELOW_FACES, "hub.mcp"),
    "hub.cli": ("hub", "catalog", "bridges", "troubleshoot"),
    "bridges": ("hub.contract", "catalog"),
    "troubleshoot": ("hub.contract", "catalog", "bridges"),
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _owner(module: str) -> str:
    matches = [p for p in ALLOWED if module == p or module.startswith(p + ".")]
    assert matches, f"{module} sits in no package of the layout table"
    return max(matches, key=len)


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module in PROJECT:  # `from hub import app` names the module hub.app
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def _crossings(root: Path = REPO) -> list[str]:
    problems = []
    for top in PROJECT:
        for path in sorted((root / top).rglob("*.py")):
            module = _module_name(path, root)
            owner = _owner(module)
            allowed = (owner, *ALLOWED[owner])
            for line, name in _imports(path):
                if name.split(".")[0] not in PROJECT or name in PROJECT:
                    continue
                if not any(name == a or name.startswith(a + ".") for a in allowed):
                    problems.append(f"{path.relative_to(root)}:{line}: {owner} may not import {name}")
    return problems


def test_every_import_follows_the_layout_table() -> None:
    assert _crossings() == []


def test_package_inits_hold_a_docstring_and_no_imports() -> None:
    for top in PROJECT:
        for init in sorted((REPO / top).rglob("__init__.py")):
            tree = ast.parse(init.read_text(encoding="utf-8"))
            if init.parent.parent == REPO / "hub":
                assert ast.get_docstring(tree), f"{init.relative_to(REPO)} needs a docstring saying what it owns"
            imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                       and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]
            if top == "hub":
                assert imports == [], f"{init.relative_to(REPO)} imports something"


def test_the_check_names_each_crossing(tmp_path: Path) -> None:
    """The table is enforced, not decorative: planted crossings are each named with file and line."""
    planted = {
        "hub/contract/bad.py": "from hub.engine.executions import Engine\n",
        "bridges/bad.py": "import os\nfrom hub.store.sqlite import SqliteEventStore\n",
        "catalog/bad.py": "from hub.contract.envelope import Envelope\n",
        "hub/mcp/bad.py": "def f():\n    from hub.http import app\n",
        "hub/mcp/bad2.py": "from hub.cli import main\nfrom hub import app\n",
        "hub/engine/fine.py": "from hub.contract.envelope import Envelope\nimport catalog.model\n",
    }
    for name, text in planted.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert sorted(_crossings(tmp_path)) == [
        "bridges/bad.py:2: bridges may not import hub.store.sqlite",
        "catalog/bad.py:1: catalog may not import hub.contract.envelope",
        "hub/contract/bad.py:1: hub.contract may not import hub.engine.executions",
        "hub/mcp/bad.py:2: hub.mcp may not import hub.http",
        "hub/mcp/bad2.py:1: hub.mcp may not import hub.cli",
    ]
