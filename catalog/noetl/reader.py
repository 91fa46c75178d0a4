"""The NoETL dialect: a `noetl.io/v1|v2` document read into the hub's own playbook form.

`read_noetl` translates the parsed YAML (not the model), so the hub's one model checks both
dialects and every problem still lands on the file and line the user wrote (see `relocate`).
What NoETL writes and the hub does not run is either kept (metadata extras, `extensions`) or
reported here with what to write instead. docs/noetl.md has the full table.
"""

from __future__ import annotations

from typing import Any

from catalog.noetl.header import read_top
from catalog.noetl.mcp_resource import read_mcp
from catalog.noetl.relocate import Moves, relocate
from catalog.noetl.steps import Notes, read_step, workbook_tasks
from catalog.yaml_source import YamlDocument

API_PREFIX = "noetl.io/"


def is_noetl(data: dict[str, Any]) -> bool:
    version = data.get("apiVersion")
    return isinstance(version, str) and version.startswith(API_PREFIX)


def read_noetl(document: YamlDocument) -> tuple[YamlDocument, Notes]:
    """The document in the hub's form (with written positions) and the translation's own problems."""
    data = document.data
    moves = Moves()
    notes: Notes = []
    if data.get("kind") == "Mcp":
        return relocate(document, read_mcp(data, moves, notes), moves), notes
    out = read_top(data, moves)
    workflow = data.get("workflow")
    if isinstance(workflow, list):
        workbook = workbook_tasks(data)
        out["workflow"] = [read_step(s, ("workflow", i), workbook, moves, notes) for i, s in enumerate(workflow)]
    return relocate(document, out, moves), notes
