"""The playbook file format schema for editors: one `tool:` branch per kind."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from jsonschema import Draft202012Validator

from catalog.format_schema import SCHEMA_ID, playbook_format_schema
from catalog.loader import ToolKindSpec
from catalog.schema import DIALECT


class Header(BaseModel):
    name: str
    value: str


class HttpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    timeout: float = 10.0
    headers: list[Header] = []


class PythonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str


KINDS = {"http": ToolKindSpec(HttpConfig), "python": ToolKindSpec(PythonConfig, frozenset({"code"}))}


def document(tool: dict, **extra: object) -> dict:
    return {
        "apiVersion": "agenthub/v1",
        "kind": "Playbook",
        "metadata": {"name": "x"},
        "input": {"short": "string", "long": {"type": "integer", "default": 1}},
        "workflow": [{"step": "a", "tool": tool, "next": ["b", {"step": "b", "when": "{{ true }}"}]},
                     {"step": "b", "tool": {"kind": "python", "code": "x = 1"}, "next": "a"}],
        **extra,
    }


def errors(schema: dict, doc: dict) -> list[str]:
    return [e.message for e in Draft202012Validator(schema).iter_errors(doc)]


def test_schema_header_and_validity() -> None:
    schema = playbook_format_schema(KINDS)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT
    assert schema["$id"] == SCHEMA_ID
    assert schema["title"] == "agenthub playbook"
    assert set(schema["required"]) >= {"apiVersion", "kind", "metadata", "workflow"}


def test_tool_is_one_of_the_kinds() -> None:
    schema = playbook_format_schema(KINDS)
    tool = schema["$defs"]["ToolSpec"]
    assert tool["properties"]["kind"]["enum"] == ["http", "python"]
    assert tool["oneOf"] == [{"$ref": "#/$defs/ToolKind_http"}, {"$ref": "#/$defs/ToolKind_python"}]
    http = schema["$defs"]["ToolKind_http"]
    assert http["properties"]["kind"] == {"const": "http"}
    assert http["required"] == ["kind", "url"]
    assert http["additionalProperties"] is False
    assert "ToolKind_http__Header" in schema["$defs"]
    python = schema["$defs"]["ToolKind_python"]
    assert python["properties"]["code"] == {"title": "Code", "type": "string"}  # raw: no template form


def test_valid_playbook_passes_and_kind_fields_are_checked() -> None:
    schema = playbook_format_schema(KINDS)
    good = document({"kind": "http", "url": "https://x", "timeout": "{{ input.t }}",
                     "headers": [{"name": "a", "value": "b"}]})
    assert errors(schema, good) == []
    assert errors(schema, document({"kind": "http", "url": "https://x", "verb": "GET"}))
    assert errors(schema, document({"kind": "http"}))  # url missing
    assert errors(schema, document({"kind": "ftp", "url": "x"}))
    assert errors(schema, document({"kind": "http", "url": "x", "timeout": "soon"}))
    assert errors(schema, document({"kind": "http", "url": "x"}, extra_field=1))
