"""A playbook's tool contract as JSON Schema 2020-12: its `inputSchema`, `outputSchema`, and the
argument handling that goes with them (defaults, validation messages a client can act on).

Typed `input:` parameters give a precise schema (`required`, closed objects). A NoETL-style
`workload:` of defaults is inferred from, less precisely: every key is optional, the types come from
the default values, and the object stays open (`additionalProperties: true`). Secrets are never
published: a `secret: true` parameter, or a workload key whose name looks like one (password, token,
api_key, ...), gets `writeOnly: true` and no `default`; `apply_defaults` still fills them in at run
time, because they come from the operator's own file.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from catalog.plain_schema import QuickValidator

from catalog.model import InputParam, Playbook
from catalog.problems import Location, format_field

if TYPE_CHECKING:
    from jsonschema import ValidationError

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_SECRET_NAME = re.compile(r"password|passwd|secret|credential|api_?key|private_?key|token(?!s|iz)")
"""`token` but not `max_tokens` / `tokenizer`: those are settings, not secrets."""

_CONSTRAINTS = (
    ("minimum", "minimum"),
    ("maximum", "maximum"),
    ("min_length", "minLength"),
    ("max_length", "maxLength"),
    ("min_items", "minItems"),
    ("max_items", "maxItems"),
    ("pattern", "pattern"),
    ("format", "format"),
)


def looks_secret(name: str) -> bool:
    """Whether a workload key's name says it holds a secret (case-insensitive)."""
    return bool(_SECRET_NAME.search(name.lower().replace("-", "_")))


def _number(value: Any) -> Any:
    """`0.0` -> `0`: the model stores bounds as floats, the published schema reads better as written."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _public_default(param: InputParam, value: Any) -> tuple[bool, Any]:
    """The default as published: secret parts removed. (False, None) when nothing may be shown."""
    if param.secret:
        return False, None
    if param.properties and isinstance(value, dict):
        shown: dict[str, Any] = {}
        for key, item in value.items():
            sub = param.properties.get(key)
            if sub is None:
                shown[key] = item
                continue
            visible, public = _public_default(sub, item)
            if visible:
                shown[key] = public
        return True, shown
    if param.items is not None and isinstance(value, list):
        parts = [_public_default(param.items, item) for item in value]
        if not all(visible for visible, _ in parts):
            return False, None
        return True, [public for _, public in parts]
    return True, value


def param_schema(param: InputParam, *, with_default: bool = True) -> dict[str, Any]:
    """The JSON Schema of one typed parameter (recursively for objects and arrays)."""
    schema: dict[str, Any] = {"type": list(param.type) if isinstance(param.type, list) else param.type}
    if param.title is not None:
        schema["title"] = param.title
    if param.description is not None:
        schema["description"] = param.description
    if param.enum is not None:
        schema["enum"] = list(param.enum)
    for attr, key in _CONSTRAINTS:
        value = getattr(param, attr)
        if value is not None:
            schema[key] = _number(value)
    if param.properties is not None:
        schema["properties"] = {
            name: param_schema(sub, with_default=with_default) for name, sub in param.properties.items()
        }
        required = [name for name, sub in param.properties.items() if sub.is_required]
        if required:
            schema["required"] = required
        schema["additionalProperties"] = (
            param.additional_properties if param.additional_properties is not None else False
        )
    elif param.additional_properties is not None:
        schema["additionalProperties"] = param.additional_properties
    if param.items is not None:
        schema["items"] = param_schema(param.items, with_default=with_default)
    if param.mcp_header is not None:
        schema["x-mcp-header"] = param.mcp_header
    if param.secret:
        schema["writeOnly"] = True
    elif with_default and param.has_default:
        visible, public = _public_default(param, param.default)
        if visible:
            schema["default"] = copy.deepcopy(public)
    return schema


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return None


def _without_secret_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_secret_keys(v) for k, v in value.items() if not looks_secret(str(k))}
    if isinstance(value, list):
        return [_without_secret_keys(v) for v in value]
    return value


def infer_schema(value: Any, name: str = "", *, hidden: bool = False) -> dict[str, Any]:
    """A schema inferred from a workload default: its type, nested properties, common item type.

    A `null` default gives no `type` at all (anything goes), never `{"type": "null"}`.
    """
    secret = hidden or looks_secret(name)
    schema: dict[str, Any] = {}
    kind = _json_type(value)
    if kind is not None:
        schema["type"] = kind
    if isinstance(value, dict):
        schema["properties"] = {str(k): infer_schema(v, str(k), hidden=secret) for k, v in value.items()}
    elif isinstance(value, list) and value:
        kinds = {_json_type(item) for item in value}
        if kinds == {"integer", "number"}:
            kinds = {"number"}
        if len(kinds) == 1 and None not in kinds:
            schema["items"] = {"type": kinds.pop()}
    if secret:
        schema["writeOnly"] = True
    else:
        schema["default"] = _without_secret_keys(copy.deepcopy(value))
    return schema


def _document_schema(document: Mapping[str, Any]) -> dict[str, Any]:
    """An `input:` written as a JSON Schema document, as published: as written, except that a
    top-level property marked `writeOnly` (a secret) shows no `default`."""
    schema = copy.deepcopy(dict(document))
    for prop in (schema.get("properties") or {}).values():
        if isinstance(prop, dict) and prop.get("writeOnly") is True:
            prop.pop("default", None)
    return schema


def secret_names(playbook: Playbook) -> list[str]:
    """The top-level arguments that are secrets: `secret: true` parameters, or `writeOnly`
    properties of an `input:` document (their values are redacted from every record)."""
    if playbook.input_document is not None:
        properties = playbook.input_document.get("properties") or {}
        return [name for name, prop in properties.items() if isinstance(prop, dict) and prop.get("writeOnly") is True]
    return [name for name, param in (playbook.input or {}).items() if param.secret]


def input_schema(playbook: Playbook) -> dict[str, Any]:
    """The tool's `inputSchema`: an `input:` document as written; else the typed `input:`
    parameters, plus keys inferred from `workload:`."""
    if playbook.input_document is not None:
        return _document_schema(playbook.input_document)
    declared = playbook.input or {}
    properties: dict[str, Any] = {name: param_schema(param) for name, param in declared.items()}
    for name, value in (playbook.workload or {}).items():
        if name not in declared:
            properties[name] = infer_schema(value, name)
    schema: dict[str, Any] = {"$schema": DIALECT, "type": "object", "properties": properties}
    required = [name for name, param in declared.items() if param.is_required]
    if required:
        schema["required"] = required
    schema["additionalProperties"] = playbook.input is None and bool(playbook.workload)
    return schema


def output_schema(playbook: Playbook) -> dict[str, Any] | None:
    """The tool's `outputSchema`: the declared `output:`, with `$schema` added if missing."""
    if playbook.output is None:
        return None
    schema = copy.deepcopy(playbook.output)
    schema.setdefault("$schema", DIALECT)
    return schema


def _fill_param(container: dict[str, Any], name: str, param: InputParam) -> None:
    if name not in container:
        if not param.has_default:
            return
        container[name] = copy.deepcopy(param.default)
    value = container[name]
    if param.properties and isinstance(value, dict):
        for sub_name, sub in param.properties.items():
            _fill_param(value, sub_name, sub)
    if param.items is not None and param.items.properties and isinstance(value, list):
        for element in value:
            if isinstance(element, dict):
                for sub_name, sub in param.items.properties.items():
                    _fill_param(element, sub_name, sub)


def _fill_value(container: dict[str, Any], name: str, default: Any) -> None:
    if name not in container:
        container[name] = copy.deepcopy(default)
    elif isinstance(default, dict) and isinstance(container[name], dict):
        for key, sub in default.items():
            _fill_value(container[name], key, sub)


def apply_defaults(playbook: Playbook, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: `arguments` with declared and workload defaults filled in, nested objects too."""
    result = _copy_arguments(arguments)
    if playbook.input_document is not None:  # top-level defaults only; a `$ref`'d one is not followed
        for name, prop in (playbook.input_document.get("properties") or {}).items():
            if isinstance(prop, dict) and "default" in prop and name not in result:
                result[name] = copy.deepcopy(prop["default"])
    declared = playbook.input or {}
    for name, param in declared.items():
        _fill_param(result, name, param)
    for name, value in (playbook.workload or {}).items():
        if name not in declared:
            _fill_value(result, name, value)
    return result


_SCALARS = (str, int, float, bool, type(None))


def _copy_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of the arguments, so defaults filled in never touch the caller's objects; a
    plain dict copy when every value is a scalar (most calls: nothing nested to share)."""
    if all(type(value) in _SCALARS for value in arguments.values()):
        return dict(arguments)
    return copy.deepcopy(dict(arguments))


def _type_name(value: Any) -> str:
    return "null" if value is None else (_json_type(value) or type(value).__name__)


def _describe(error: ValidationError, noun: str) -> list[tuple[Location, str]]:
    """(location, message) pairs for one jsonschema error; names keys, never shows a secret value."""
    path: Location = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    noun = noun if not path else "property"
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        extras = [k for k in instance if k not in known and not any(re.search(p, k) for p in patterns)]
        return [(path, f"unknown {noun} {k!r}") for k in sorted(extras)]
    if error.validator == "required" and isinstance(instance, dict):
        missing = [k for k in error.validator_value if k not in instance]
        return [((*path, k), f"missing required {noun} {k!r}") for k in missing]
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return [(path, f"expected {expected}, got {_type_name(instance)}")]
    if schema.get("writeOnly") or isinstance(instance, (dict, list)):
        shown = json.dumps(error.validator_value, default=str)[:120]
        return [(path, f"does not satisfy '{error.validator}': {shown} (value not shown)")]
    if error.validator == "enum":
        return [(path, f"must be one of {json.dumps(error.validator_value, default=str)}, "
                       f"got {json.dumps(instance, default=str)[:80]}")]
    message = error.message
    return [(path, message if len(message) <= 300 else message[:297] + "...")]


def compile_validator(schema: Mapping[str, Any]) -> QuickValidator:
    """A validator for `schema` (with format checks, and the quick path of `catalog.plain_schema`);
    build it once per schema, it is not cheap."""
    from jsonschema import Draft202012Validator, FormatChecker  # here: ~65 ms of imports a start-up need not pay

    return QuickValidator(Draft202012Validator(schema, format_checker=FormatChecker()))


def schema_violations(
    schema: Mapping[str, Any],
    instance: Any,
    *,
    noun: str = "argument",
    validator: QuickValidator | None = None,
) -> list[tuple[Location, str]]:
    """Every way `instance` breaks `schema`, as (location inside the instance, message).

    `noun` names top-level keys in messages ("unknown argument 'foo'"); nested ones are properties.
    Pass `validator` (from `compile_validator(schema)`) to skip building one.
    """
    validator = validator or compile_validator(schema)
    if validator.is_valid(instance):
        return []
    found: dict[tuple[Location, str], None] = {}
    for error in validator.iter_errors(instance):
        for pair in _describe(error, noun):
            found[pair] = None
    return list(found)


def validate_arguments(
    schema: Mapping[str, Any], arguments: Any, *, validator: QuickValidator | None = None
) -> list[tuple[str, str]]:
    """Every way `arguments` breaks `schema`, as (path like `input.user.age`, message) sorted by
    path; [] when valid. Messages name unknown and missing keys and never echo a secret value."""
    violations = schema_violations(schema, arguments, validator=validator)
    pairs = {(format_field(loc, "input"), message) for loc, message in violations}
    return sorted(pairs)
