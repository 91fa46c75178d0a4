"""Warnings about a playbook that loads but cannot fully run here: a step whose tool kind the hub
knows of but cannot run (`ToolKindSpec.unavailable`, e.g. NoETL's `snowflake` or `container`).

Not problems: the file loads and is served, and every other step runs; a run that reaches such a
step fails with `TOOL_KIND_UNAVAILABLE`. They are placed like problems (`file:line:col: field:
message`) so `catalog validate` prints both the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from catalog.loader import ToolKindSpec
from catalog.problems import Location, Problem, format_field
from catalog.yaml_source import parse_yaml


def _tool_blocks(tool: Any, base: Location) -> Iterator[tuple[Location, dict[str, Any]]]:
    """A step's `tool:`: one block, or a pipeline list of blocks (`{kind, ...}` or `{label: {kind, ...}}`)."""
    if isinstance(tool, dict):
        if isinstance(tool.get("kind"), str):
            yield base, tool
        elif len(tool) == 1:
            (label, inner), = tool.items()
            if isinstance(inner, dict) and isinstance(inner.get("kind"), str):
                yield (*base, label), inner
    elif isinstance(tool, list):
        for index, item in enumerate(tool):
            yield from _tool_blocks(item, (*base, index))


def unavailable_kind_warnings(source: str, file: str, tool_kinds: Mapping[str, ToolKindSpec]) -> list[Problem]:
    """One warning per step block whose kind cannot run on this hub, naming the kind and why."""
    document, _ = parse_yaml(source, file)
    if document is None or not isinstance(document.data.get("workflow"), list):
        return []
    warnings: list[Problem] = []
    for index, step in enumerate(document.data["workflow"]):
        if not isinstance(step, dict):
            continue
        for base, block in _tool_blocks(step.get("tool"), ("workflow", index, "tool")):
            spec = tool_kinds.get(block["kind"])
            if spec is None or spec.unavailable is None:
                continue
            location = (*base, "kind")
            _, pos = document.nearest(location)
            line, column = pos if pos is not None else (None, None)
            name = step.get("step", index)
            warnings.append(Problem(
                file, line, column, format_field(location),
                f"step {name!r} needs tool kind {block['kind']!r}, which this hub cannot run "
                f"({spec.unavailable}); a run fails with TOOL_KIND_UNAVAILABLE when it reaches it",
            ))
    return warnings
