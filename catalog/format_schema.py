"""The JSON Schema of the playbook file format, for editors (yaml-language-server, VS Code).

Built from the pydantic model so it cannot drift from what the loader accepts, then adjusted where
the model accepts more than its generated schema says:

- a step's `tool:` is a `oneOf` with one branch per registered tool kind (`kind` as a const, plus
  that kind's own fields), so the editor completes and checks kind-specific fields;
- a kind's field may also hold a template string (rendered and checked at run time), except its
  raw fields (inline code, passed as written);
- an input parameter may be written as just its type (`name: string`);
- `next:` may be a step name, or a list of step names and arcs.

Point an editor at it with `# yaml-language-server: $schema=<file>` on a playbook's first line.
"""

from __future__ import annotations

import copy
import re
import typing
from collections.abc import Mapping
from typing import Any

from catalog.loader import ToolKindSpec
from catalog.model import ParamType, Playbook
from catalog.schema import DIALECT

SCHEMA_ID = "urn:agenthub:schema:playbook:v1"

_TEMPLATE = {
    "type": "string",
    "pattern": r"\{\{|\{%",
    "description": "A Jinja2 template, rendered (and checked) when the step runs.",
}


def _def_prefix(kind: str) -> str:
    return "ToolKind_" + re.sub(r"[^A-Za-z0-9_]", "_", kind)


def _kind_branch(kind: str, spec: ToolKindSpec, defs: dict[str, Any]) -> dict[str, Any]:
    """One `oneOf` branch: the kind model's schema with `kind` fixed; its `$defs` hoisted and
    renamed so two kinds' models with the same class name cannot collide."""
    prefix = _def_prefix(kind)
    schema = spec.model.model_json_schema(by_alias=True, ref_template=f"#/$defs/{prefix}__{{model}}")
    for name, definition in schema.pop("$defs", {}).items():
        defs[f"{prefix}__{name}"] = definition
    properties: dict[str, Any] = {"kind": {"const": kind}}
    for name, field_schema in schema.get("properties", {}).items():
        properties[name] = field_schema if name in spec.raw_fields else {"anyOf": [field_schema, _TEMPLATE]}
    branch: dict[str, Any] = {
        "type": "object",
        "title": f"tool kind {kind!r}",
        "properties": properties,
        "required": ["kind", *[r for r in schema.get("required", []) if r != "kind"]],
    }
    if "description" in schema:
        branch["description"] = schema["description"]
    if schema.get("additionalProperties") is False:
        branch["additionalProperties"] = False
    return branch


def playbook_format_schema(tool_kinds: Mapping[str, ToolKindSpec]) -> dict[str, Any]:
    """The playbook file format as JSON Schema 2020-12, with a `tool:` branch per kind."""
    schema = copy.deepcopy(Playbook.model_json_schema(by_alias=True))
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    branches = []
    for kind in sorted(tool_kinds):
        defs[_def_prefix(kind)] = _kind_branch(kind, tool_kinds[kind], defs)
        branches.append({"$ref": f"#/$defs/{_def_prefix(kind)}"})
    tool = defs["ToolSpec"]
    tool["properties"] = {"kind": {"enum": sorted(tool_kinds), "description": "The tool kind."}}
    tool.pop("additionalProperties", None)
    if branches:
        tool["oneOf"] = branches
    param = defs["InputParam"]
    defs["InputParam"] = {"anyOf": [{"type": "string", "enum": list(typing.get_args(ParamType))}, param]}
    step = defs["Step"]["properties"]
    step["next"] = {
        "anyOf": [
            {"type": "string", "description": "The name of the next step."},
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/Arc"}]}},
            {"$ref": "#/$defs/NextSpec"},
            {"type": "null"},
        ],
        "default": None,
    }
    return {
        "$schema": DIALECT,
        "$id": SCHEMA_ID,
        "title": "agenthub playbook",
        "description": "A playbook of the agenthub catalog (apiVersion agenthub/v1, kind Playbook).",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }
