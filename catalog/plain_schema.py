"""A quick "valid" for plain JSON Schemas, before the full validator.

Most tool inputs and outputs are plain: objects of typed properties, some required, maybe no
others allowed. `jsonschema` checks such a value in ~40 us; the hub checks two per tools/call (the
arguments and the result), about a tenth of the server's CPU for a one-step call. A plain schema
compiles here into a small function that answers True only when the value is certainly valid;
anything else (False, or a schema that is not plain) goes to the full Draft 2020-12 validator,
which also makes every error message. So the quick path can only ever skip work, never accept
what the full validator would refuse.

Plain means: only the keywords below (annotations are ignored); `type` a single name;
`properties` and `items` plain themselves; `additionalProperties` true or false. An `integer`
or `number` that is a float with no fraction, formats, enums, `$ref` and combinators are left to
the full validator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$comment", "title", "description", "default", "examples",
                          "readOnly", "writeOnly", "deprecated"})
_STRUCTURE = frozenset({"type", "properties", "required", "additionalProperties", "items"})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "integer": _is_int,
    "number": _is_number,
}


def plain_check(schema: Any) -> Check | None:
    """A function true only for values `schema` certainly accepts, or None if it is not plain.

    >>> check = plain_check({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
    >>> check({"n": 1}), check({"n": "1"}), check({})
    (True, False, False)
    """
    if schema is True or schema == {}:
        return lambda _value: True
    if not isinstance(schema, Mapping) or set(schema) - _ANNOTATIONS - _STRUCTURE:
        return None
    checks: list[Check] = []
    kind = schema.get("type")
    if kind is not None:
        if not isinstance(kind, str) or kind not in _TYPES:
            return None
        checks.append(_TYPES[kind])
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    if not isinstance(properties, Mapping) or not isinstance(required, list) or not isinstance(extra, bool):
        return None
    inner: dict[str, Check] = {}
    for name, sub in properties.items():
        found = plain_check(sub)
        if found is None:
            return None
        inner[name] = found
    if inner or required or not extra:
        checks.append(_object_check(inner, tuple(required), extra))
    if "items" in schema:
        item = plain_check(schema["items"])
        if item is None:
            return None
        checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
    return _all_of(checks)


def _all_of(checks: list[Check]) -> Check:
    """One check for all of `checks` (the usual one or two without a generator per value)."""
    if not checks:
        return lambda _value: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    return lambda value: all(check(value) for check in checks)


def _object_check(properties: dict[str, Check], required: tuple[str, ...], extra: bool) -> Check:
    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True  # object keywords say nothing about other types
        for name in required:
            if name not in value:
                return False
        for key, item in value.items():
            sub = properties.get(key)
            if sub is None:
                if not extra:
                    return False
            elif not sub(item):
                return False
        return True

    return check


class QuickValidator:
    """A Draft 2020-12 validator with the quick yes in front (`is_valid`); errors come from the
    full validator."""

    def __init__(self, validator: Draft202012Validator) -> None:
        self.full = validator
        self.schema = validator.schema
        self._quick = plain_check(validator.schema)

    def is_valid(self, instance: Any) -> bool:
        return (self._quick is not None and self._quick(instance)) or self.full.is_valid(instance)

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        return self.full.iter_errors(instance)
