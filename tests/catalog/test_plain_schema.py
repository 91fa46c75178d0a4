"""The quick path of `catalog.plain_schema` never says yes where the full Draft 2020-12 validator
says no, and it does cover the plain schemas playbooks declare."""

from __future__ import annotations

import itertools

from jsonschema import Draft202012Validator, FormatChecker

from catalog.plain_schema import plain_check
from catalog.schema import compile_validator

SCHEMAS = [
    {"type": "object", "properties": {"text": {"type": "string"}, "length": {"type": "integer"}},
     "required": ["text", "length"]},
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {
        "n": {"type": "number", "description": "x"}, "flag": {"type": "boolean", "default": False},
        "tags": {"type": "array", "items": {"type": "string"}}, "none": {"type": "null"},
        "inner": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}},
     "required": ["n"], "additionalProperties": False},
    {"type": "array", "items": {"type": "integer"}},
    {},
    {"properties": {"x": {"type": "string"}}},
]
NOT_PLAIN = [
    {"type": ["string", "null"]}, {"enum": [1, 2]}, {"type": "string", "format": "email"},
    {"type": "object", "properties": {"x": {"$ref": "#/$defs/x"}}, "$defs": {"x": {"type": "string"}}},
    {"anyOf": [{"type": "string"}]},
    {"type": "string", "minLength": 2}, {"type": "object", "additionalProperties": {"type": "string"}},
]
VALUES = [
    None, True, False, 0, 1, 1.0, 1.5, -3, "", "hi", [], [1, 2], [1, "a"], [True], {},
    {"text": "hi", "length": 2}, {"text": "hi", "length": True}, {"text": "hi", "length": 2.0},
    {"text": "hi"}, {"text": 1, "length": 1}, {"text": "hi", "length": 2, "more": 1},
    {"n": 1}, {"n": True}, {"n": 1.5, "flag": True, "tags": ["a"], "none": None, "inner": {"a": 1}},
    {"n": 1, "inner": {"a": 1, "b": 2}}, {"n": 1, "tags": ["a", 2]}, {"n": 1, "none": 0}, {"n": 1, "x": 1},
    {"x": "s"}, {"x": 2},
]


def test_quick_yes_implies_full_yes_and_quick_covers_plain_schemas():
    for schema in SCHEMAS:
        quick = plain_check(schema)
        assert quick is not None, schema
        full = Draft202012Validator(schema, format_checker=FormatChecker())
        said_yes = 0
        for value in VALUES:
            if quick(value):
                said_yes += 1
                assert full.is_valid(value), (schema, value)
        assert said_yes > 0


def test_other_schemas_go_to_the_full_validator():
    for schema in NOT_PLAIN:
        assert plain_check(schema) is None, schema
    email = compile_validator({"type": "string", "format": "email"})
    assert email.is_valid("a@example.org") and not email.is_valid("not an address")


def test_compiled_validators_agree_with_the_full_one():
    for schema, value in itertools.product(SCHEMAS + NOT_PLAIN, VALUES):
        full = Draft202012Validator(schema, format_checker=FormatChecker())
        assert compile_validator(schema).is_valid(value) == full.is_valid(value), (schema, value)
