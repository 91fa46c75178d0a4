"""`catalog/` stands alone: it imports only the stdlib, pydantic, pyyaml, jsonschema, jinja2 and watchfiles."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import catalog

ALLOWED_THIRD_PARTY = {"pydantic", "yaml", "jsonschema", "jinja2", "watchfiles"}


def test_catalog_imports_nothing_of_the_other_parts() -> None:
    package = Path(catalog.__file__).parent
    offenders = []
    for module in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in ALLOWED_THIRD_PARTY | {"catalog", "__future__"} | set(sys.stdlib_module_names):
                    offenders.append(f"{module.name}: {name}")
    assert offenders == []
