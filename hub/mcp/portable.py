"""Published schemas in their most portable spelling.

A `type` array (`["string", "null"]`) is legal JSON Schema, but clients that map tool schemas onto
a single-`type` dialect (the OpenAPI subset behind Gemini function declarations, for one) reject the
tool or drop the constraint; the MCP Inspector's portability check warns on it. The same contract
spelled as `anyOf` branches with one `type` each is understood everywhere, so every schema the hub
lists goes through `portable` once per catalog generation. Nothing else changes: a type-specific
keyword beside the union (`minimum`, `maxLength`) only ever applied to its own type anyway.
"""

from __future__ import annotations

from typing import Any

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMAS = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
            "unevaluatedItems", "unevaluatedProperties", "contentSchema")


def portable(schema: Any) -> Any:
    """A copy of `schema` with every `type` array written as `anyOf` branches (a one-type array
    as that type); keyword values that are data (`enum`, `const`, `default`, ...) are left alone."""
    if not isinstance(schema, dict):
        return schema
    node: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            node[key] = {name: portable(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            node[key] = [portable(sub) for sub in value]
        elif key in _SCHEMAS:
            node[key] = portable(value)
        else:
            node[key] = value
    kinds = node.get("type")
    if isinstance(kinds, list):
        if len(kinds) == 1:
            node["type"] = kinds[0]
        elif kinds:
            del node["type"]
            branches = [{"type": kind} for kind in kinds]
            if "anyOf" in node:
                node["allOf"] = [*node.get("allOf", []), {"anyOf": branches}]
            else:
                node["anyOf"] = branches
    return node
